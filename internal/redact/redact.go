// Package redact removes secrets from text meant for people: error messages
// and log lines.
//
// A secret can come back from an API in another form than it was sent in:
// inside a JSON string (escaped), in a URL or form (percent-encoded), inside
// HTTP Basic credentials (base64 of "user:password"), or cut short by
// whoever shortened the text. String removes each of these forms; callers
// that shorten text must redact first ([Truncate] does both in that order).
package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Placeholder is what each occurrence of a secret is replaced by.
const Placeholder = "[REDACTED]"

// minLen is the length below which a "secret" is not redacted: replacing
// every "a" or "1" in a message would garble it without protecting anything.
const minLen = 4

// minCut is the shortest piece of the start of a secret that is removed
// where the secret was cut short, and cutFrom the shortest secret for
// which that is done: a piece that long of a long random key is the key's
// start, not an accident.
const (
	minCut  = 8
	cutFrom = 12
)

// String returns s with every occurrence of each secret of at least four
// bytes replaced by Placeholder: as given, JSON-escaped, percent-encoded
// (query and path style), base64 inside "Basic" credentials, and, for
// secrets of 12 bytes or more, a run of at least 8 bytes of the start of any
// of those forms (a secret cut short). Empty and shorter secrets are
// ignored; longer secrets are replaced first.
func String(s string, secrets ...string) string {
	var forms []string
	for _, sec := range secrets {
		if len(sec) >= minLen {
			forms = append(forms, Forms(sec)...)
		}
	}
	if len(forms) == 0 {
		return s
	}
	s = basicCredentials(s, secrets)
	// Longest first, so that a form containing another is replaced whole.
	sortByLen(forms)
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, Placeholder)
	}
	return cutPrefixes(s, forms)
}

// Truncate redacts s and then shortens it to at most n bytes (on a rune
// boundary, "…" appended when shortened), so that no part of a secret
// survives the cut.
func Truncate(s string, n int, secrets ...string) string {
	s = String(s, secrets...)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Forms returns the encodings of secret that String looks for: the secret
// itself, JSON-escaped (with and without HTML escaping, and with "/"
// escaped as some servers do), percent-encoded, and each of those
// JSON-escaped once more (an escaped echo inside a JSON body).
func Forms(secret string) []string {
	out := []string{secret}
	add := func(f string) {
		for _, o := range out {
			if o == f {
				return
			}
		}
		out = append(out, f)
	}
	add(url.QueryEscape(secret))
	add(url.PathEscape(secret))
	add(strings.ReplaceAll(url.QueryEscape(secret), "+", "%20"))
	for _, f := range jsonForms(secret) {
		add(f)
	}
	for _, f := range slices.Clone(out) {
		for _, g := range jsonForms(f) {
			add(g)
		}
	}
	return out
}

// jsonForms returns s as it appears inside a JSON string, as encoders
// write it: with and without HTML escaping, and with "/" escaped too.
func jsonForms(s string) []string {
	var out []string
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		enc.Encode(s)
		j := strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)[1:]
		out = append(out, j, strings.ReplaceAll(j, "/", `\/`))
	}
	return out
}

var basicRE = regexp.MustCompile(`(?i)(basic\s+)([A-Za-z0-9+/_-]{4,}={0,2})`)

// basicCredentials replaces HTTP Basic credentials that hold a secret.
func basicCredentials(s string, secrets []string) string {
	return basicRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := basicRE.FindStringSubmatch(m)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			raw, err := enc.DecodeString(sub[2])
			if err != nil {
				continue
			}
			for _, sec := range secrets {
				if len(sec) >= minLen && strings.Contains(string(raw), sec) {
					return sub[1] + Placeholder
				}
			}
		}
		return m
	})
}

// cutPrefixes replaces each run of at least minCut bytes of s that is the
// start of one of forms (any whole form was replaced already); where runs
// of several forms start at one place, the longest is replaced.
func cutPrefixes(s string, forms []string) string {
	var b strings.Builder
	for {
		at, n := -1, 0
		for _, f := range forms {
			if len(f) < cutFrom {
				continue
			}
			i := strings.Index(s, f[:minCut])
			if i < 0 || at >= 0 && i > at {
				continue
			}
			if m := run(s[i:], f); at < 0 || i < at || m > n {
				at, n = i, m
			}
		}
		if at < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:at])
		b.WriteString(Placeholder)
		s = s[at+n:]
	}
}

// run is how many bytes at the start of s are the start of form, at least
// minCut (s starts with form[:minCut]), never ending inside an escape
// sequence ("\\", "\u00…") of form: what follows must stay well-formed,
// since a JSON body is decoded after it is redacted.
func run(s, form string) int {
	n := minCut
	for n < len(form) && n < len(s) && s[n] == form[n] {
		n++
	}
	if k := strings.LastIndexByte(s[:n], '\\'); k >= 0 && n < len(form) {
		seq := 2
		if k+1 < len(form) && form[k+1] == 'u' {
			seq = 6
		}
		if k+seq > n {
			n = max(k, 1)
		}
	}
	return n
}

func sortByLen(forms []string) {
	for i := 1; i < len(forms); i++ {
		for j := i; j > 0 && len(forms[j]) > len(forms[j-1]); j-- {
			forms[j], forms[j-1] = forms[j-1], forms[j]
		}
	}
}
