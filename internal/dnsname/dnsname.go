// Package dnsname checks the names and values a person or an ACME client
// hands to a surface, before anything is written: the syntax of DNS names
// (letters, digits, hyphens and underscores in labels of at most 63 bytes,
// at most 253 bytes in all, no empty label, no leading dot, no control
// characters or spaces), internationalised names converted to their ASCII
// form, and the shape of a DNS-01 challenge value.
//
// Errors quote what they were given (%q), so a control character in the
// input never reaches a terminal or a log raw.
package dnsname

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Name checks that s is a DNS name and returns it as every surface hands it
// on: in ASCII (each internationalised label in its "xn--" form), lower
// case, with a trailing dot. A trailing dot in s is optional.
func Name(s string) (string, error) { return check(s, false) }

// Domain is Name for an ACME identifier, which may be a wildcard: a first
// label "*" is allowed (and kept).
func Domain(s string) (string, error) { return check(s, true) }

func check(s string, wildcard bool) (string, error) {
	fail := func(why string) (string, error) {
		return "", fmt.Errorf("%q is not a DNS name: %s", s, why)
	}
	switch {
	case s == "":
		return fail("it is empty")
	case !utf8.ValidString(s):
		return fail("it is not valid UTF-8")
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0:
		return fail("it contains spaces or control characters")
	case s == ".":
		return fail("the root is not a name a record can be added at")
	case strings.HasPrefix(s, "."):
		return fail("it starts with a dot")
	}
	labels := strings.Split(strings.TrimSuffix(s, "."), ".")
	for i, l := range labels {
		if l == "" {
			return fail("it has an empty label (two dots in a row)")
		}
		if l == "*" && i == 0 && wildcard {
			continue
		}
		if !isASCII(l) {
			a, err := idna.Registration.ToASCII(strings.ToLower(l))
			if err != nil {
				return fail(fmt.Sprintf("label %q is not a valid internationalised name (give its ASCII form, xn--…): %v", l, err))
			}
			l = a
		}
		l = strings.ToLower(l)
		if len(l) > 63 {
			return fail(fmt.Sprintf("label %q is longer than 63 bytes", l))
		}
		if strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return fail(fmt.Sprintf("label %q starts or ends with a hyphen", l))
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fail(fmt.Sprintf("label %q holds %q: use letters, digits, hyphens and underscores", l, c))
			}
		}
		labels[i] = l
	}
	name := strings.Join(labels, ".")
	if len(name) > 253 {
		return fail(fmt.Sprintf("it is %d bytes long, more than 253", len(name)))
	}
	return name + ".", nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// ValueLen is the length of a DNS-01 challenge value: the unpadded
// base64url encoding of a SHA-256 digest (RFC 8555, section 8.4).
const ValueLen = 43

// ErrValue is wrapped by the error of Value.
var ErrValue = errors.New("not a DNS-01 challenge value")

// Value checks that v has the shape of a DNS-01 challenge value: 43
// characters of the base64url alphabet (A-Z, a-z, 0-9, '-', '_'), as an
// ACME client computes it from the key authorization.
func Value(v string) error {
	if len(v) != ValueLen {
		return fmt.Errorf("TXT value %q is %w: it has %d characters, a DNS-01 value has %d (base64url of a SHA-256 digest)", v, ErrValue, utf8.RuneCountInString(v), ValueLen)
	}
	for _, c := range v {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("TXT value %q is %w: it holds %q, a DNS-01 value only letters, digits, '-' and '_'", v, ErrValue, c)
		}
	}
	return nil
}
