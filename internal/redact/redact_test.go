package redact

import "testing"

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
		{"in the order given", "password-long", []string{"password", "password-long"}, "[REDACTED]-long"},
	}
	for _, tt := range tests {
		if got := String(tt.s, tt.secrets...); got != tt.want {
			t.Errorf("%s: String(%q, %q) = %q, want %q", tt.name, tt.s, tt.secrets, got, tt.want)
		}
	}
}
