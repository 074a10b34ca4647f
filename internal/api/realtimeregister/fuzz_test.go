package realtimeregister

import (
	"testing"
	"unicode/utf8"
)

// FuzzTXTRoundTrip: TXT text the client encodes (escaped as the API wants)
// reads back as the same text, whatever it holds.
func FuzzTXTRoundTrip(f *testing.F) {
	f.Add(`v=DMARC1; p=reject; rua=mailto:"d"@x <&>`, 120)
	f.Add(`ends in a backslash \`, 3600)
	f.Add("grüße — 日本 ✓ \\\" \\\\ \u2028", 300)
	f.Fuzz(func(t *testing.T, text string, ttl int) {
		if text == "" || ttl < 0 || !utf8.ValidString(text) {
			return // not a record the client makes
		}
		r, err := FromData("_acme-challenge.example.com.", "TXT", ttl, text, "example.com")
		if err != nil {
			t.Fatal(err)
		}
		raw, err := EncodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeRecord(raw)
		if err != nil || got.Data() != text || got.TTL != ttl || got.Name != "_acme-challenge.example.com" {
			t.Fatalf("%q -> %s -> %+v (%q), %v", text, raw, got, got.Data(), err)
		}
	})
}
