package dnsname

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzName: whatever it is given, Name either refuses it or returns an
// ASCII name of LDH and underscore labels, at most 253 bytes and a
// trailing dot, that Name gives back unchanged.
func FuzzName(f *testing.F) {
	for _, s := range []string{"_acme-challenge.example.test.", ".example.test", "a..b", "bücher.example", "a\x1bb.test", "*.example.test", strings.Repeat("a", 64) + ".test", "xn--bcher-kva.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, check := range []func(string) (string, error){Name, Domain} {
			n, err := check(s)
			if err != nil {
				if !utf8.ValidString(err.Error()) || strings.ContainsAny(err.Error(), "\x00\x1b\n\r") {
					t.Fatalf("error shows the input raw: %q", err)
				}
				continue
			}
			if !strings.HasSuffix(n, ".") || len(n) > 254 {
				t.Fatalf("%q -> %q", s, n)
			}
			for i, l := range strings.Split(strings.TrimSuffix(n, "."), ".") {
				if l == "" || len(l) > 63 || l == "*" && i > 0 {
					t.Fatalf("%q -> %q: label %q", s, n, l)
				}
				for _, c := range l {
					if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '*' && l == "*") {
						t.Fatalf("%q -> %q: %q in a label", s, n, c)
					}
				}
			}
			if again, err := check(n); err != nil || again != n {
				t.Fatalf("%q -> %q -> %q, %v: not stable", s, n, again, err)
			}
		}
	})
}

// FuzzValue: a value Value accepts is 43 base64url characters.
func FuzzValue(f *testing.F) {
	for _, s := range []string{"LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ", "v", "LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmC=", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if Value(v) != nil {
			return
		}
		if len(v) != ValueLen || strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("accepted %q", v)
		}
	})
}
