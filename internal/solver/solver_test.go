package solver

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/authdns"
)

func TestChallengeFromClients(t *testing.T) {
	tests := []struct {
		name string
		got  Challenge
		want Challenge
	}{
		// base64url(SHA-256("token.thumbprint")), as RFC 8555 section 8.4 defines the value.
		{"RAW key authorization", FromKeyAuth("*.Example.com", "token.thumbprint"), Challenge{"_acme-challenge.Example.com.", "61rBZ_4knHblO0MNoxFsXZ_eTFUHum0B6IVRbhvUn5I"}},
		{"certbot/dehydrated domain", ForDomain("*.example.com.", " digest "), Challenge{"_acme-challenge.example.com.", "digest"}},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, tt.got, tt.want)
		}
	}
}

// accountOnly lists zones and fails every write, to prove validation comes first.
type accountOnly struct{ writes int }

func (a *accountOnly) ListZones(context.Context) ([]libdns.Zone, error) {
	return []libdns.Zone{{Name: "example.com."}, {Name: "sub.example.com."}}, nil
}
func (a *accountOnly) AppendRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	a.writes++
	return nil, nil
}
func (a *accountOnly) DeleteRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	a.writes++
	return nil, nil
}

func TestInvalidChallengesWriteNothing(t *testing.T) {
	tests := []struct {
		ch   Challenge
		want string
	}{
		{Challenge{"", "v"}, "is not a domain name"},
		{Challenge{"_acme-challenge..example.com", "v"}, "is not a domain name"},
		{Challenge{"_acme-challenge.example.com", ""}, "TXT value for _acme-challenge.example.com is empty"},
		{Challenge{"_acme-challenge.example.com", strings.Repeat("x", 300)}, "is not a DNS-01 digest"},
		{Challenge{"_acme-challenge.example.org", "v"}, "no zone of this account holds _acme-challenge.example.org."},
	}
	for _, tt := range tests {
		p := &accountOnly{}
		s := &Solver{Provider: p}
		err := s.Present(context.Background(), Challenge{"_acme-challenge.example.com", "ok"}, tt.ch)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.ch, err, tt.want)
		}
		if p.writes != 0 {
			t.Errorf("%+v: %d writes despite invalid input", tt.ch, p.writes)
		}
	}
}

func TestZonePicksLongest(t *testing.T) {
	s := &Solver{Provider: &accountOnly{}}
	for name, want := range map[string]string{
		"_acme-challenge.www.sub.example.com": "sub.example.com.",
		"_acme-challenge.example.com.":        "example.com.",
		"_acme-challenge.notsub.example.com.": "example.com.",
	} {
		if got, err := s.Zone(context.Background(), name); err != nil || got != want {
			t.Errorf("Zone(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
}

// writer appends and deletes records but cannot list zones; it records the
// zone and names of each call.
type writer struct {
	mu    sync.Mutex
	calls []string // "append zone name…" / "delete zone name…"
}

func (w *writer) record(kind, zone string, recs []libdns.Record) {
	w.mu.Lock()
	defer w.mu.Unlock()
	line := kind + " " + zone
	for _, r := range recs {
		line += " " + r.RR().Name
	}
	w.calls = append(w.calls, line)
}

func (w *writer) AppendRecords(_ context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	w.record("append", zone, recs)
	return recs, nil
}

func (w *writer) DeleteRecords(_ context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	w.record("delete", zone, recs)
	return recs, nil
}

// lister is a writer whose account holds example.test. only.
type lister struct{ writer }

func (l *lister) ListZones(context.Context) ([]libdns.Zone, error) {
	return []libdns.Zone{{Name: "example.test."}}, nil
}

// serveZones starts an authoritative server for example.test. and the
// separate zone sub.example.test. below it, and returns its address.
func serveZones(t *testing.T) string {
	t.Helper()
	zones := map[string][]libdns.RR{
		"example.test.": {
			{Name: "www", Type: "A", TTL: time.Minute, Data: "192.0.2.1"},
		},
		"sub.example.test.": {
			{Name: "www", Type: "A", TTL: time.Minute, Data: "192.0.2.2"},
			// An alias into the parent zone, to a name that does not exist
			// there: the NXDOMAIN after it carries example.test.'s SOA.
			{Name: "_acme-challenge.alias", Type: "CNAME", TTL: time.Minute, Data: "_acme.example.test."},
		},
	}
	srv, err := authdns.Start("127.0.0.1:0", func() map[string][]libdns.RR { return zones })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Addr()
}

func TestZone(t *testing.T) {
	addr := serveZones(t)
	tests := []struct {
		provider Provider
		name     string
		want     string
		wantErr  string // {addr} stands for the DNS server's address
	}{
		// Without a zone list, DNS says.
		{&writer{}, "_acme-challenge.example.test.", "example.test.", ""},
		{&writer{}, "_acme-challenge.www.example.test", "example.test.", ""},
		{&writer{}, "Example.TEST", "example.test.", ""},
		{&writer{}, "_acme-challenge.www.sub.example.test.", "sub.example.test.", ""},
		{&writer{}, "_acme-challenge.alias.sub.example.test.", "sub.example.test.", ""},
		{&writer{}, "_acme-challenge.example.org.", "", "finding the zone of _acme-challenge.example.org.: SOA _acme-challenge.example.org.: no resolver answered ({addr}: REFUSED)"},
		// With one, the account's zones say, as before.
		{&lister{}, "_acme-challenge.www.sub.example.test.", "example.test.", ""},
		{&lister{}, "_acme-challenge.example.org.", "", "no zone of this account holds _acme-challenge.example.org. (account zones: example.test.)"},
	}
	for _, tt := range tests {
		s := &Solver{Provider: tt.provider, Resolvers: []string{addr}}
		got, err := s.Zone(context.Background(), tt.name)
		if tt.wantErr != "" {
			if want := strings.ReplaceAll(tt.wantErr, "{addr}", addr); err == nil || err.Error() != want {
				t.Errorf("%T: Zone(%q) = %q, %v; want error %q", tt.provider, tt.name, got, err, want)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%T: Zone(%q) = %q, %v; want %q", tt.provider, tt.name, got, err, tt.want)
		}
	}
}

func TestPresentWithoutZoneList(t *testing.T) {
	w := &writer{}
	s := &Solver{Provider: w, Resolvers: []string{serveZones(t)}}
	chs := []Challenge{
		ForDomain("www.sub.example.test", "v1"),
		ForDomain("*.example.test", "v2"),
	}
	ctx := context.Background()
	if err := s.Present(ctx, chs...); err != nil {
		t.Fatal(err)
	}
	if err := s.Cleanup(ctx, chs...); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"append example.test. _acme-challenge",
		"append sub.example.test. _acme-challenge.www",
		"delete example.test. _acme-challenge",
		"delete sub.example.test. _acme-challenge.www",
	}
	slices.Sort(w.calls) // zones are written in parallel
	if !slices.Equal(w.calls, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(w.calls, "\n"), strings.Join(want, "\n"))
	}
}
