package redact

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct {
		name    string
		s       string
		secrets []string
		want    string
	}{
		{"no secrets", "key sk-123456 rejected", nil, "key sk-123456 rejected"},
		{"every occurrence", "key sk-123456 rejected; sk-123456 again", []string{"sk-123456"}, "key [REDACTED] rejected; [REDACTED] again"},
		{"several secrets", "uid 98765 hash abcdef0123", []string{"98765", "abcdef0123"}, "uid [REDACTED] hash [REDACTED]"},
		{"empty secret ignored", "nothing to hide", []string{""}, "nothing to hide"},
		{"secrets shorter than four bytes ignored", "a 12 abc abcd", []string{"a", "12", "abc", "abcd"}, "a 12 abc [REDACTED]"},
		{"absent secret", "all clear", []string{"hunter22"}, "all clear"},
		{"longer secrets first", "password-long", []string{"password", "password-long"}, "[REDACTED]"},
		{"JSON-escaped", `{"message":"bad key k3y/with\"quote<lt>"}`, []string{`k3y/with"quote<lt>`}, `{"message":"bad key [REDACTED]"}`},
		{"JSON-escaped, HTML too", `"bad key k3y/with\"quote\u003clt\u003e"`, []string{`k3y/with"quote<lt>`}, `"bad key [REDACTED]"`},
		{"JSON-escaped slash", `"bad key k3y\/with\"quote<lt>"`, []string{`k3y/with"quote<lt>`}, `"bad key [REDACTED]"`},
		{"percent-encoded", "uid=1&hash=h%2Fa%2Bs%26h%3D0123456789", []string{"h/a+s&h=0123456789"}, "uid=1&hash=[REDACTED]"},
		{"path-encoded", "/zones/h%2Fa+s&h=0123456789", []string{"h/a+s&h=0123456789"}, "/zones/[REDACTED]"},
		{"Basic credentials", "sent Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("cust/login:pa55word-long")), []string{"pa55word-long"}, "sent Authorization: Basic [REDACTED]"},
		{"Basic credentials of someone else", "Basic " + base64.StdEncoding.EncodeToString([]byte("u:other")), []string{"pa55word-long"}, "Basic " + base64.StdEncoding.EncodeToString([]byte("u:other"))},
		{"cut at the end", "bad key sk-0123456789abc", []string{"sk-0123456789abcdefghij"}, "bad key [REDACTED]"},
		{"cut inside a JSON string", `{"message":"bad key sk-0123456789abc…"}`, []string{"sk-0123456789abcdefghij"}, `{"message":"bad key [REDACTED]…"}`},
		{"short piece kept", "prefix sk-0123 is fine", []string{"sk-0123456789abcdefghij"}, "prefix sk-0123 is fine"},
	}
	for _, tt := range tests {
		if got := String(tt.s, tt.secrets...); got != tt.want {
			t.Errorf("%s: String(%q, %q) = %q, want %q", tt.name, tt.s, tt.secrets, got, tt.want)
		}
	}
}

// TestTruncateRedactsFirst cuts a text through the middle of a secret at
// every position: no piece of it survives.
func TestTruncateRedactsFirst(t *testing.T) {
	const secret = "sk-live-0123456789abcdefghijklmnop"
	text := strings.Repeat("x", 50) + secret + " tail"
	for n := 40; n < len(text); n++ {
		got := Truncate(text, n, secret)
		if strings.Contains(got, secret[:minCut]) || strings.Contains(got, secret[len(secret)-minCut:]) {
			t.Fatalf("Truncate(…, %d) = %q shows part of the secret", n, got)
		}
	}
	if got := Truncate("short", 10, secret); got != "short" {
		t.Errorf("Truncate of a short text = %q", got)
	}
	if got := Truncate("ééé", 3, secret); got != "é…" {
		t.Errorf("Truncate cuts runes: %q", got)
	}
}
