// Package qrterm draws a QR code with Unicode half blocks so a phone can scan
// it straight off a terminal, over SSH included. Each text row carries two
// module rows. Light modules are drawn as blocks, as `qrencode -t UTF8` does,
// because most terminals draw light glyphs on a dark background.
package qrterm

import (
	"strings"

	"github.com/boombuler/barcode/qr"
)

// quiet is the light margin, in modules, that scanners need around a code.
const quiet = 2

// Rows encodes text and returns the drawing, one string per terminal row.
func Rows(text string) ([]string, error) {
	code, err := qr.Encode(text, qr.L, qr.Auto)
	if err != nil {
		return nil, err
	}
	n := code.Bounds().Dx()
	dark := func(x, y int) bool {
		if x < 0 || y < 0 || x >= n || y >= n {
			return false
		}
		r, _, _, _ := code.At(x, y).RGBA()
		return r == 0
	}
	var rows []string
	for y := -quiet; y < n+quiet; y += 2 {
		var b strings.Builder
		for x := -quiet; x < n+quiet; x++ {
			top, bottom := !dark(x, y), !dark(x, y+1) // light halves
			switch {
			case top && bottom:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bottom:
				b.WriteRune('▄')
			default:
				b.WriteRune(' ')
			}
		}
		rows = append(rows, b.String())
	}
	return rows, nil
}
