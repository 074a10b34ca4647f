package mijnhost

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRecordRoundTrip: a record the client encodes reads back as the same
// record, whatever its text.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add("TXT", "_acme-challenge.example.com.", `v=DMARC1; p=reject; rua=mailto:"d"@x <&>`, 120)
	f.Add("MX", "example.com.", "10 mail.example.com.", 3600)
	f.Add("TXT", "hello.example.com.", "grüße — 日本 ✓ \\ backslash\u2028", 300)
	f.Fuzz(func(t *testing.T, typ, name, value string, ttl int) {
		typ = strings.ToUpper(typ)
		if typ == "" || name == "" || ttl < 0 || !utf8.ValidString(typ) || !utf8.ValidString(name) || !utf8.ValidString(value) {
			return // not a record the client makes
		}
		r := Record{Type: typ, Name: name, Value: value, TTL: ttl}
		got, err := decodeRecord(EncodeRecord(r))
		if err != nil || got != r {
			t.Fatalf("%+v -> %s -> %+v, %v", r, EncodeRecord(r), got, err)
		}
	})
}
