package api

import (
	"net/url"
	"testing"
)

// TestEndpoint: every spelling of one API root has one identity, which
// never holds user information; different roots keep different ones.
func TestEndpoint(t *testing.T) {
	same := []string{
		"https://mijn.host/api/v2/",
		"https://mijn.host/api/v2",
		"HTTPS://Mijn.Host/api/v2/",
		"https://mijn.host:443/api/v2//",
		"https://mijn.host./api/v2/",
		"https://user:secret-pass@mijn.host/api/v2/?x=1#f",
		"https://mijn.host/API/v2/",
	}
	want := "https://mijn.host/api/v2"
	for _, s := range same {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := Endpoint(u); got != want {
			t.Errorf("Endpoint(%q) = %q, want %q", s, got, want)
		}
	}
	for s, want := range map[string]string{
		"http://127.0.0.1:8080/":     "http://127.0.0.1:8080",
		"http://[::1]:80/v2/":        "http://[::1]/v2",
		"http://[::1]:8443/v2/":      "http://[::1]:8443/v2",
		"https://mijn.host:8443/":    "https://mijn.host:8443",
		"https://other.host/api/v2/": "https://other.host/api/v2",
	} {
		u, _ := url.Parse(s)
		if got := Endpoint(u); got != want {
			t.Errorf("Endpoint(%q) = %q, want %q", s, got, want)
		}
	}
}
