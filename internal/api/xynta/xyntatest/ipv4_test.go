package xyntatest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestIPv4OnlyWithoutHostIPv6 hands the fake requests that claim IPv6 and
// IPv4 source addresses directly, so the rule is tested whatever the
// machine's network: an IPv6 source is refused like a hash used from a
// non-whitelisted address, unless the rule is off.
func TestIPv4OnlyWithoutHostIPv6(t *testing.T) {
	s := newFake(t)
	tests := []struct {
		name, remote string
		ipv4Only     bool
		want         string
	}{
		{"IPv4 source", "192.0.2.7:40000", true, "success"},
		{"IPv4-mapped IPv6 source", "[::ffff:192.0.2.7]:40000", true, "success"},
		{"IPv6 source", "[2001:db8::7]:40000", true, "not-authorized"},
		{"IPv6 loopback source", "[::1]:40000", true, "not-authorized"},
		{"IPv6 source allowed", "[2001:db8::7]:40000", false, "success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.SetIPv4Only(tt.ipv4Only)
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form("list").Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.RemoteAddr = tt.remote
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if got := status(t, w.Body.Bytes()); got != tt.want {
				t.Fatalf("answer %s, want status %q", w.Body, tt.want)
			}
		})
	}
}
