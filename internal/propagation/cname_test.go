package propagation

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/authdns"
)

// cnameZones are the zones the CNAME tests serve: a domain delegating its
// challenges to a zone kept for them (which other names alias too), chains,
// loops, and a zone whose apex is an alias.
func cnameZones() map[string][]libdns.RR {
	rec := func(name, typ, data string) libdns.RR {
		return libdns.RR{Name: name, Type: typ, TTL: time.Minute, Data: data}
	}
	org := []libdns.RR{
		rec("www", "A", "192.0.2.1"),
		rec("_acme-challenge.plain", "TXT", "not an alias"),
		rec("_acme-challenge", "CNAME", "_acme-challenge.example-org.challenges.test."),
		rec("_acme-challenge.two", "CNAME", "_acme-challenge.www.example.org."),
		rec("_acme-challenge.www", "CNAME", "_acme-challenge.example-org.challenges.test."),
		rec("_acme-challenge.apex", "CNAME", "challenges.test."),
		rec("_acme-challenge.dangling", "CNAME", "nowhere.challenges.test."),
		rec("_acme-challenge.outside", "CNAME", "_acme-challenge.example.invalid."),
		rec("_acme-challenge.aliased-apex", "CNAME", "aliased.test."),
		rec("_acme-challenge.loop", "CNAME", "loop-b.example.org."),
		rec("loop-b", "CNAME", "_acme-challenge.LOOP.example.org."),
		rec("_acme-challenge.self", "CNAME", "_acme-challenge.self.example.org."),
	}
	// _acme-challenge.max: a chain of exactly MaxCNAMEChain CNAME records
	// (link1 … link7, then into challenges.test.); _acme-challenge.long:
	// one more in front of it.
	org = append(org, rec("_acme-challenge.long", "CNAME", "_acme-challenge.max.example.org."))
	org = append(org, rec("_acme-challenge.max", "CNAME", "link1.example.org."))
	for i := 1; i < MaxCNAMEChain-1; i++ {
		org = append(org, rec(fmt.Sprintf("link%d", i), "CNAME", fmt.Sprintf("link%d.example.org.", i+1)))
	}
	org = append(org, rec(fmt.Sprintf("link%d", MaxCNAMEChain-1), "CNAME", "_acme-challenge.end.challenges.test."))
	return map[string][]libdns.RR{
		"example.org.":     org,
		"challenges.test.": {rec("_acme-challenge.example-org", "TXT", "an old value")},
		// Against the rules, but served: a CNAME at the apex of a zone.
		"aliased.test.": {rec("@", "CNAME", "_acme-challenge.aliased.challenges.test.")},
	}
}

// followers returns a Follower asking an authdns server of cnameZones as
// the configured resolver, and one asking it as the authoritative server
// of every zone, found through it as the system resolver.
func followers(t *testing.T) map[string]*Follower {
	t.Helper()
	zones := cnameZones()
	srv, err := authdns.Start("127.0.0.1:0", func() map[string][]libdns.RR { return zones })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(srv.Addr())
	return map[string]*Follower{
		"resolvers":     {Resolvers: []string{srv.Addr()}},
		"authoritative": {SystemResolvers: []string{srv.Addr()}, authPort: port},
	}
}

func TestFollow(t *testing.T) {
	tests := []struct {
		name    string
		want    []string // the chain; its last name is the end
		wantErr string
	}{
		// No server serves example.test.: in authoritative mode its zone is
		// not found, else the resolver refuses.
		{"_acme-challenge.www.example.test.", nil, "following the CNAMEs of _acme-challenge.www.example.test.: "},
		{"_acme-challenge.plain.example.org", []string{"_acme-challenge.plain.example.org."}, ""},
		{"_acme-challenge.nothing.example.org.", []string{"_acme-challenge.nothing.example.org."}, ""},
		{"_ACME-challenge.Example.ORG.", []string{"_acme-challenge.example.org.", "_acme-challenge.example-org.challenges.test."}, ""},
		{"_acme-challenge.two.example.org.", []string{"_acme-challenge.two.example.org.", "_acme-challenge.www.example.org.", "_acme-challenge.example-org.challenges.test."}, ""},
		// The target need not exist: the record is to be written there.
		{"_acme-challenge.dangling.example.org.", []string{"_acme-challenge.dangling.example.org.", "nowhere.challenges.test."}, ""},
		// The target is the apex of another zone: the record goes there.
		{"_acme-challenge.apex.example.org.", []string{"_acme-challenge.apex.example.org.", "challenges.test."}, ""},
		{"_acme-challenge.aliased-apex.example.org.", []string{"_acme-challenge.aliased-apex.example.org.", "aliased.test.", "_acme-challenge.aliased.challenges.test."}, ""},
		{"_acme-challenge.max.example.org.", nil, ""},
		{"_acme-challenge.loop.example.org.", nil, "the CNAMEs of _acme-challenge.loop.example.org. form a loop: _acme-challenge.loop.example.org. → loop-b.example.org. → _acme-challenge.loop.example.org."},
		{"_acme-challenge.self.example.org.", nil, "the CNAMEs of _acme-challenge.self.example.org. form a loop: _acme-challenge.self.example.org. → _acme-challenge.self.example.org."},
		{"_acme-challenge.long.example.org.", nil, fmt.Sprintf("the CNAME chain of _acme-challenge.long.example.org. is longer than %d: _acme-challenge.long.example.org. → _acme-challenge.max.example.org. → link1.example.org. →", MaxCNAMEChain)},
		{"_acme-challenge.outside.example.org.", nil, "following the CNAMEs of _acme-challenge.outside.example.org.: "},
	}
	for mode, f := range followers(t) {
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				end, chain, err := f.Follow(context.Background(), tt.name)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("Follow = %q, %q, %v; want error %q", end, chain, err, tt.wantErr)
					}
					if end != "" {
						t.Errorf("end %q on error", end)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if tt.want == nil { // the longest chain allowed
					if len(chain) != MaxCNAMEChain+1 || end != "_acme-challenge.end.challenges.test." {
						t.Fatalf("Follow = %q, %d names %q; want %d CNAMEs to _acme-challenge.end.challenges.test.", end, len(chain), chain, MaxCNAMEChain)
					}
					return
				}
				if strings.Join(chain, " ") != strings.Join(tt.want, " ") || end != tt.want[len(tt.want)-1] {
					t.Errorf("Follow = %q, %q; want chain %q", end, chain, tt.want)
				}
			})
		}
	}
}

func TestFollowMax(t *testing.T) {
	f := followers(t)["resolvers"]
	f.Max = 1
	if _, _, err := f.Follow(context.Background(), "_acme-challenge.example.org."); err != nil {
		t.Errorf("one CNAME with Max 1: %v", err)
	}
	_, chain, err := f.Follow(context.Background(), "_acme-challenge.two.example.org.")
	if err == nil || !strings.Contains(err.Error(), "is longer than 1: ") || len(chain) != 3 {
		t.Errorf("two CNAMEs with Max 1: chain %q, err %v", chain, err)
	}
}

func TestFollowNoAnswer(t *testing.T) {
	// A UDP port nobody listens on: the query is refused at once.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	f := &Follower{Resolvers: []string{addr}}
	end, _, err := f.Follow(context.Background(), "_acme-challenge.example.org.")
	want := "following the CNAMEs of _acme-challenge.example.org.: CNAME _acme-challenge.example.org.: no server answered (" + addr + ": "
	if err == nil || !strings.HasPrefix(err.Error(), want) || end != "" {
		t.Fatalf("Follow = %q, %v; want an error starting %q", end, err, want)
	}
	if _, _, err := (&Follower{Resolvers: []string{"::bad::"}}).Follow(context.Background(), "x.example.org"); err == nil {
		t.Error("a bad resolver is no error")
	}
	if _, _, err := (&Follower{}).Follow(context.Background(), "bad name"); err == nil || !strings.Contains(err.Error(), "invalid name") {
		t.Errorf("bad name: %v", err)
	}
}
