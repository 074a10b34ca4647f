package xynta

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestIPv4ClientNeverDialsIPv6 calls the dialer of the client New builds
// directly with IPv6 destinations: each is refused before any packet is
// sent, whatever the machine's network, while an IPv4 destination is
// dialled over tcp4.
func TestIPv4ClientNeverDialsIPv6(t *testing.T) {
	for _, hc := range []*http.Client{nil, {}} {
		c, forced := IPv4Client(hc)
		if !forced {
			t.Fatal("IPv4Client did not take over a client without transport")
		}
		dial := c.Transport.(*http.Transport).DialContext
		for _, tt := range []struct{ network, addr string }{
			{"tcp", "[::1]:443"},
			{"tcp", "[2001:db8::1]:443"},
			{"tcp6", "192.0.2.1:443"},
			{"udp", "192.0.2.1:443"},
		} {
			conn, err := dial(context.Background(), tt.network, tt.addr)
			if err == nil {
				conn.Close()
				t.Fatalf("%s %s was dialled", tt.network, tt.addr)
			}
			// Refused before dialling: tcp4 finds no IPv4 address in an
			// IPv6 destination, other networks are not tried at all.
			var addrErr *net.AddrError
			if !errors.As(err, &addrErr) && !strings.Contains(err.Error(), "only IPv4 is allowed") {
				t.Errorf("%s %s: %v, want a refusal before dialling", tt.network, tt.addr, err)
			}
		}
	}
	own := &http.Client{Transport: &http.Transport{}}
	if c, forced := IPv4Client(own); forced || c != own {
		t.Error("a caller's own transport was replaced")
	}
}
