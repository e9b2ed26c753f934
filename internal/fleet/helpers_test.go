package fleet

import (
	"encoding/json"
	"io"

	"filippo.io/age"
)

func ageEncrypt(w io.Writer, r age.Recipient) (io.WriteCloser, error) { return age.Encrypt(w, r) }
func jsonEncode(w io.Writer, v any)                                   { json.NewEncoder(w).Encode(v) }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func loadIdentityString(s string) (*age.X25519Identity, error) { return age.ParseX25519Identity(s) }
