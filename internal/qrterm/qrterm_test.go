package qrterm

import (
	"image"
	"image/color"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// TestRowsDecodeBack turns the terminal drawing back into pixels, as a phone
// camera would see it, and decodes it with an independent QR reader.
func TestRowsDecodeBack(t *testing.T) {
	uri := "otpauth://totp/jcmfa:alice@host?algorithm=SHA1&digits=6&issuer=jcmfa&period=30&secret=6TGEX4VSS4MFVZZAW5OPASTIWPG4T7AN"
	rows, err := Rows(uri)
	if err != nil {
		t.Fatal(err)
	}
	const scale = 4
	w := len([]rune(rows[0]))
	img := image.NewGray(image.Rect(0, 0, w*scale, len(rows)*2*scale))
	for y, row := range rows {
		for x, r := range []rune(row) {
			// The terminal shows blocks light on a dark background.
			top := r == '█' || r == '▀'
			bottom := r == '█' || r == '▄'
			for dy := 0; dy < scale; dy++ {
				for dx := 0; dx < scale; dx++ {
					img.SetGray(x*scale+dx, (2*y)*scale+dy, shade(top))
					img.SetGray(x*scale+dx, (2*y+1)*scale+dy, shade(bottom))
				}
			}
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the drawing does not scan: %v", err)
	}
	if res.GetText() != uri {
		t.Fatalf("scanned %q, want %q", res.GetText(), uri)
	}
	for _, r := range rows {
		if len(r)+len("INFO text=")*3 > 4096 {
			t.Fatalf("a row would not fit in one protocol line")
		}
	}
}

func shade(light bool) color.Gray {
	if light {
		return color.Gray{Y: 255}
	}
	return color.Gray{Y: 0}
}
