package solver

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/authdns"
	"github.com/acme-dns-hook/acme-dns-hook/internal/propagation"
)

// delegatingZones serves example.org., hosted elsewhere, whose challenge
// names are CNAMEs into the account's example.test.
func delegatingZones(t *testing.T) string {
	t.Helper()
	rec := func(name, typ, data string) libdns.RR {
		return libdns.RR{Name: name, Type: typ, TTL: time.Minute, Data: data}
	}
	zones := map[string][]libdns.RR{
		"example.org.": {
			rec("_acme-challenge", "CNAME", "_acme-challenge.example-org.example.test."),
			rec("_acme-challenge.www", "CNAME", "example.test."),
			rec("_acme-challenge.loop", "CNAME", "_acme-challenge.loop.example.org."),
			rec("_acme-challenge.away", "CNAME", "_acme-challenge.example.net."),
		},
		"example.test.": {rec("www", "A", "192.0.2.1")},
		"example.net.":  {rec("www", "A", "192.0.2.2")},
	}
	srv, err := authdns.Start("127.0.0.1:0", func() map[string][]libdns.RR { return zones })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Addr()
}

// waits records the Wait calls: "zone fqdn value".
type waits struct {
	mu    sync.Mutex
	calls []string
}

func (w *waits) Wait(_ context.Context, zone, fqdn, value string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, zone+" "+fqdn+" "+value)
	return nil
}

func TestPresentFollowsCNAMEs(t *testing.T) {
	addr := delegatingZones(t)
	l := &lister{}
	w := &waits{}
	var lines []string
	s := &Solver{Provider: l, Waiter: w, Aliases: &propagation.Follower{Resolvers: []string{addr}}, Log: func(line string) { lines = append(lines, line) }}
	chs := []Challenge{
		ForDomain("example.org", "v1"),
		ForDomain("*.example.org", "v2"),
		ForDomain("www.example.org", "v3"), // to the apex of example.test.
		ForDomain("example.test", "v4"),    // no alias
	}
	ctx := context.Background()
	if err := s.Present(ctx, chs...); err != nil {
		t.Fatal(err)
	}
	if err := s.Cleanup(ctx, chs...); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"append example.test. _acme-challenge.example-org _acme-challenge.example-org @ _acme-challenge",
		"delete example.test. _acme-challenge.example-org _acme-challenge.example-org @ _acme-challenge",
	}
	if !slices.Equal(l.calls, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(l.calls, "\n"), strings.Join(want, "\n"))
	}
	slices.Sort(w.calls)
	wantWaits := []string{
		"example.test. _acme-challenge.example-org.example.test. v1",
		"example.test. _acme-challenge.example-org.example.test. v2",
		"example.test. _acme-challenge.example.test. v4",
		"example.test. example.test. v3",
	}
	if !slices.Equal(w.calls, wantWaits) {
		t.Errorf("waits:\n%s\nwant:\n%s", strings.Join(w.calls, "\n"), strings.Join(wantWaits, "\n"))
	}
	if want := `adding TXT _acme-challenge.example-org.example.test. "v1" at zone example.test., for _acme-challenge.example.org. by CNAME`; lines[0] != want {
		t.Errorf("first log line %q, want %q", lines[0], want)
	}
	if want := `removing TXT _acme-challenge.example.test. "v4" at zone example.test.`; !slices.Contains(lines, want) {
		t.Errorf("log lacks %q:\n%s", want, strings.Join(lines, "\n"))
	}
}

func TestFollowFailureWritesNothing(t *testing.T) {
	addr := delegatingZones(t)
	tests := []struct {
		bad  Challenge
		want string
	}{
		{ForDomain("loop.example.org", "v"), "the CNAMEs of _acme-challenge.loop.example.org. form a loop"},
		{ForDomain("away.example.org", "v"), "no zone of this account holds _acme-challenge.example.net. (account zones: example.test.)"},
		// Neither in the account nor resolving: both are said.
		{ForDomain("nowhere.invalid", "v"), "no zone of this account holds _acme-challenge.nowhere.invalid. (account zones: example.test.); following the CNAMEs of _acme-challenge.nowhere.invalid.: "},
	}
	for _, tt := range tests {
		for _, call := range []string{"present", "cleanup"} {
			l := &lister{}
			s := &Solver{Provider: l, Aliases: &propagation.Follower{Resolvers: []string{addr}}}
			f := s.Present
			if call == "cleanup" {
				f = s.Cleanup
			}
			err := f(context.Background(), ForDomain("example.org", "good"), tt.bad)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s %s: err = %v, want %q", call, tt.bad.FQDN, err, tt.want)
			}
			if len(l.calls) != 0 {
				t.Errorf("%s %s: written despite the error: %q", call, tt.bad.FQDN, l.calls)
			}
		}
	}
}

// finder is a lister that finds zones itself, naming the account.
type finder struct {
	lister
	err error
}

func (f *finder) ZoneFor(_ context.Context, name string) (string, string, error) {
	if f.err != nil {
		return "", "", f.err
	}
	return "example.test.", "Some Host", nil
}

func TestZoneFinder(t *testing.T) {
	f := &finder{}
	var lines []string
	s := &Solver{Provider: f, Log: func(line string) { lines = append(lines, line) }}
	if err := s.Present(context.Background(), ForDomain("www.example.test", "v")); err != nil {
		t.Fatal(err)
	}
	if want := `adding TXT _acme-challenge.www.example.test. "v" at Some Host (zone example.test.)`; len(lines) != 1 || lines[0] != want {
		t.Errorf("log %q, want %q", lines, want)
	}
	f.err = errors.New("no account holds it (a zones: x.; b zones: y.)")
	err := s.Present(context.Background(), ForDomain("www.example.test", "v"), ForDomain("example.test", "w"))
	if err == nil || err.Error() != f.err.Error() {
		t.Errorf("err = %v, want the finder's", err)
	}
	if len(f.calls) != 1 {
		t.Errorf("calls %q: written despite the error", f.calls)
	}
}
