package apitest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// Echo is how a fake repeats a request's credentials in its error bodies,
// as a careless API does ("invalid API key abc…"): a test sets it with
// [Server.SetEcho] and checks that no surface shows them (see [Leaks]).
// The forms combine.
type Echo uint8

const (
	// EchoPlain repeats each credential as received.
	EchoPlain Echo = 1 << iota
	// EchoJSON repeats each credential JSON-escaped, as text: once the
	// fake's JSON body is decoded, the message holds the escaped form.
	EchoJSON
	// EchoURL repeats each credential percent-encoded.
	EchoURL
	// EchoCut repeats each credential many times over, so that a client
	// that shortens the text at any point from 100 to 600 bytes cuts one in
	// two, and then the first two thirds of it, as a server that shortens
	// its own echo would.
	EchoCut

	// EchoAll is every form at once.
	EchoAll = EchoPlain | EchoJSON | EchoURL | EchoCut
)

// SetEcho makes the fake's error answers from now on repeat the
// credentials of the request in the forms e; zero turns it off.
func (s *Server[F]) SetEcho(e Echo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.echo = e
}

// EchoText returns the text a fake appends to the message of an error
// answer to r: under the current Echo, every credential r carries (the
// Authorization header, its credential and, for Basic, the decoded
// "user:password" and password; an API-Key or X-API-Key header) and the
// credentials in extra (form fields the fake read, say), in each form. It
// is "" when echo is off or r carries none.
func (s *Server[F]) EchoText(r *http.Request, extra ...string) string {
	s.mu.Lock()
	e := s.echo
	s.mu.Unlock()
	if e == 0 {
		return ""
	}
	var creds []string
	if a := r.Header.Get("Authorization"); a != "" {
		creds = append(creds, a)
		scheme, cred, _ := strings.Cut(a, " ")
		creds = append(creds, cred)
		if strings.EqualFold(scheme, "Basic") {
			if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
				_, pass, _ := strings.Cut(string(raw), ":")
				creds = append(creds, string(raw), pass)
			}
		}
	}
	for _, h := range []string{"API-Key", "X-API-Key"} {
		if v := r.Header.Get(h); v != "" {
			creds = append(creds, v)
		}
	}
	creds = append(creds, extra...)
	var parts []string
	for _, c := range creds {
		if c == "" {
			continue
		}
		if e&EchoPlain != 0 {
			parts = append(parts, c)
		}
		if e&EchoJSON != 0 {
			b, _ := json.Marshal(c)
			parts = append(parts, string(b[1:len(b)-1]))
		}
		if e&EchoURL != 0 {
			parts = append(parts, url.QueryEscape(c))
		}
		if e&EchoCut != 0 {
			parts = append(parts, strings.Repeat(c+" ", max(1, 600/(len(c)+1))), c[:len(c)*2/3])
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (received " + strings.Join(parts, " ") + ")"
}

// Leaks returns the forms of the secrets that text shows: a secret as is,
// JSON-escaped, percent-encoded, base64-encoded (alone or with a user in
// Basic credentials), or any 8 bytes in a row of one of those (a secret cut
// short). Secrets shorter than 8 bytes are looked for whole. It is written
// apart from package redact, so that a gap there is not repeated here.
func Leaks(text string, secrets ...string) []string {
	var found []string
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		j, _ := json.Marshal(sec)
		forms := map[string]string{
			"as is":          sec,
			"JSON-escaped":   string(j[1 : len(j)-1]),
			"JSON, / too":    strings.ReplaceAll(string(j[1:len(j)-1]), "/", `\/`),
			"query-encoded":  url.QueryEscape(sec),
			"path-encoded":   url.PathEscape(sec),
			"base64":         base64.StdEncoding.EncodeToString([]byte(sec)),
			"base64 (Basic)": "", // checked below
		}
		for name, f := range forms {
			if f == "" {
				continue
			}
			if len(f) < 8 {
				if strings.Contains(text, f) {
					found = append(found, name+": "+f)
				}
				continue
			}
			for i := 0; i+8 <= len(f); i++ {
				if strings.Contains(text, f[i:i+8]) {
					found = append(found, name+", in part: "+f[i:i+8])
					break
				}
			}
		}
		for _, tok := range strings.FieldsFunc(text, func(r rune) bool {
			return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/' || r == '=')
		}) {
			if len(tok) < 8 {
				continue
			}
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
				if raw, err := enc.DecodeString(tok); err == nil && strings.Contains(string(raw), sec) {
					found = append(found, "base64 (Basic): "+tok)
				}
			}
		}
	}
	return found
}
