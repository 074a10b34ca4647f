package dnsname

import (
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	good := map[string]string{
		"_acme-challenge.example.test.":   "_acme-challenge.example.test.",
		"_acme-challenge.Example.TEST":    "_acme-challenge.example.test.",
		"www.example.test":                "www.example.test.",
		"_acme-challenge.bücher.example":  "_acme-challenge.xn--bcher-kva.example.",
		"xn--bcher-kva.example":           "xn--bcher-kva.example.",
		strings.Repeat("a", 63) + ".test": strings.Repeat("a", 63) + ".test.",
		"a1-b_c.test":                     "a1-b_c.test.",
	}
	for in, want := range good {
		if got, err := Name(in); err != nil || got != want {
			t.Errorf("Name(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                                "empty",
		".":                               "root",
		".example.test":                   "starts with a dot",
		"_acme-challenge..example.test.":  "empty label",
		"a;b.example.test":                `holds ';'`,
		"a b.example.test":                "spaces or control",
		"a\x1b[31mred.example.test":       "spaces or control",
		"a\nb.example.test":               "spaces or control",
		"a\u200bb.example.test":           "not a valid internationalised name",
		"-a.example.test":                 "hyphen",
		"a-.example.test":                 "hyphen",
		"*.example.test":                  `holds '*'`,
		strings.Repeat("a", 64) + ".test": "longer than 63",
		strings.Repeat("abcdefghi.", 26) + "test": "more than 253",
		"a/b.example.test":                        `holds '/'`,
		"\xff.example.test":                       "UTF-8",
	}
	for in, want := range bad {
		got, err := Name(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Name(%q) = %q, %v; want an error with %q", in, got, err, want)
			continue
		}
		if strings.ContainsAny(err.Error(), "\x1b\n\xff") {
			t.Errorf("Name(%q): the error shows the input raw: %q", in, err)
		}
	}
}

func TestDomainWildcard(t *testing.T) {
	if got, err := Domain("*.Example.test"); err != nil || got != "*.example.test." {
		t.Errorf("Domain(*.Example.test) = %q, %v", got, err)
	}
	for _, in := range []string{"a.*.example.test", "**.example.test", "*"} {
		if _, err := Domain(in); err == nil && in != "*" {
			t.Errorf("Domain(%q) accepted", in)
		}
	}
}

func TestValue(t *testing.T) {
	good := "LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ"
	if err := Value(good); err != nil {
		t.Errorf("Value(%q): %v", good, err)
	}
	for _, v := range []string{"", "v", good + "A", good[:42] + "=", good[:42] + " ", good[:42] + "\"", good[:42] + "é", "token.thumbprint-0123456789abcdefghijklmnop"} {
		if err := Value(v); err == nil {
			t.Errorf("Value(%q) accepted", v)
		}
	}
}
