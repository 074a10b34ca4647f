package certmagicsolver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/mholt/acmez/v3/acme"
	"github.com/miekg/dns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providertest"
)

// stack starts the mijn.host fake holding example.test, served by a DNS
// server on loopback, and returns it with a provider pointed at the fake,
// wrapped so that tests see its calls.
func stack(t *testing.T) (*providertest.Stack, *watched) {
	t.Helper()
	st, err := providertest.Start("mijnhost", providertest.Zone, providertest.Seed(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	p, err := providertest.Provider(st.Provider, st.Fake)
	if err != nil {
		t.Fatal(err)
	}
	return st, &watched{Provider: p, appended: make(chan error, 100), deleted: make(chan error, 100)}
}

// watched is a real provider whose AppendRecords and DeleteRecords report
// their results on channels and, when gate is set, wait for it before they
// call the provider (with the caller's context, as given).
type watched struct {
	providers.Provider
	appended, deleted chan error
	started           chan struct{} // when set, told when AppendRecords is called
	gate              chan struct{} // when set, AppendRecords waits for it
}

func (w *watched) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if w.started != nil {
		w.started <- struct{}{}
	}
	if w.gate != nil {
		<-w.gate
	}
	out, err := w.Provider.AppendRecords(ctx, zone, recs)
	w.appended <- err
	return out, err
}

func (w *watched) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out, err := w.Provider.DeleteRecords(ctx, zone, recs)
	w.deleted <- err
	return out, err
}

// next returns the next result on ch, failing the test when none comes in
// a minute (a bound, not a timing assertion: the event must come).
func next(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("no %s within a minute", what)
		return nil
	}
}

// chal returns the DNS-01 challenge of an identifier.
func chal(id string) acme.Challenge {
	return acme.Challenge{
		Type:             acme.ChallengeTypeDNS01,
		Identifier:       acme.Identifier{Type: "dns", Value: id},
		KeyAuthorization: "token-" + id + ".thumbprint",
	}
}

func chals(n int) []acme.Challenge {
	out := make([]acme.Challenge, n)
	for i := range out {
		out[i] = chal(fmt.Sprintf("n%d.%s", i+1, providertest.Zone))
	}
	return out
}

// requests returns the fake's request counters, the zero ones left out.
func requests(st *providertest.Stack) map[string]int {
	out := map[string]int{}
	for k, v := range st.Fake.Requests() {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func wantRequests(t *testing.T, st *providertest.Stack, when string, want map[string]int) {
	t.Helper()
	if got := requests(st); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: API requests %v, want %v", when, got, want)
	}
}

// served returns the TXT values the fake holds at name (relative).
func served(st *providertest.Stack, name string) []string {
	var out []string
	for _, rr := range st.Fake.Zones()[providertest.Zone+"."] {
		if rr.Type == "TXT" && rr.Name == name {
			out = append(out, rr.Data)
		}
	}
	return out
}

// TestBatch presents ten challenges as acmez does (every Present, then
// each Wait in turn, then each CleanUp in turn) and counts the fake's
// requests: one listing, one read and one write to present, one read and
// one write to clean up, after the debounce; the zone ends byte for byte
// as it began.
func TestBatch(t *testing.T) {
	st, p := stack(t)
	before := st.Fake.Snapshot(providertest.Zone)
	s := New(p, Options{Resolvers: []string{st.DNS.Addr()}, CleanupDelay: time.Millisecond})
	defer s.Close()
	ctx := context.Background()
	cs := chals(10)
	for _, c := range cs {
		if err := s.Present(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	wantRequests(t, st, "after every Present", map[string]int{})
	for _, c := range cs {
		if err := s.Wait(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	wantRequests(t, st, "after every Wait", map[string]int{
		mijnhosttest.EndpointListDomains: 1, mijnhosttest.EndpointGetRecords: 1, mijnhosttest.EndpointPutRecords: 1})
	for _, c := range cs {
		if got := served(st, "_acme-challenge."+strings.TrimSuffix(c.Identifier.Value, "."+providertest.Zone)); !slices.Contains(got, c.DNS01KeyAuthorization()) {
			t.Errorf("%s: the fake holds %q, not the value", c.Identifier.Value, got)
		}
	}
	for _, c := range cs {
		if err := s.CleanUp(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := next(t, p.deleted, "deletion after the last CleanUp"); err != nil {
		t.Fatal(err)
	}
	wantRequests(t, st, "after the deletion", map[string]int{
		mijnhosttest.EndpointListDomains: 1, mijnhosttest.EndpointGetRecords: 2, mijnhosttest.EndpointPutRecords: 2})
	if after := st.Fake.Snapshot(providertest.Zone); !slices.Equal(before, after) {
		t.Errorf("zone changed:\nbefore %q\nafter  %q", before, after)
	}
}

// TestFallbackWritesWithoutWait presents and never waits: the fallback
// timer writes the record.
func TestFallbackWritesWithoutWait(t *testing.T) {
	st, p := stack(t)
	s := New(p, Options{WriteFallback: time.Millisecond})
	defer s.Close()
	c := chal("nowait." + providertest.Zone)
	if err := s.Present(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if err := next(t, p.appended, "write by the fallback timer"); err != nil {
		t.Fatal(err)
	}
	if got := served(st, "_acme-challenge.nowait"); !slices.Equal(got, []string{c.DNS01KeyAuthorization()}) {
		t.Fatalf("the fake holds %q", got)
	}
}

// TestFailedWriteNamesEveryName makes the batch write fail: every Wait of
// the batch fails, each error naming the zone and every name of the write.
func TestFailedWriteNamesEveryName(t *testing.T) {
	st, p := stack(t)
	s := New(p, Options{SkipPropagationCheck: true})
	defer s.Close()
	ctx := context.Background()
	if _, err := p.ListZones(ctx); err != nil { // the listing is not the write
		t.Fatal(err)
	}
	st.Fake.(*mijnhosttest.Server).FailNext(100, mijnhosttest.FaultSpuriousBadRequest)
	cs := chals(3)
	for _, c := range cs {
		if err := s.Present(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cs {
		err := s.Wait(ctx, c)
		if err == nil {
			t.Fatalf("%s: Wait succeeded after a failed write", c.Identifier.Value)
		}
		for _, want := range []string{"zone example.test.", "_acme-challenge.n1.example.test.", "_acme-challenge.n2.example.test.", "_acme-challenge.n3.example.test.", "not managed by mijn.host"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not name %q", c.Identifier.Value, err, want)
			}
		}
		if strings.Contains(err.Error(), mijnhosttest.SeedKey) {
			t.Errorf("error %q holds the API key", err)
		}
	}
}

// TestCancelledWaitLeavesOthersAlone cancels the Wait that started the
// batch while the write is under way: that Wait returns its context's
// error, the write goes on and the other Wait succeeds.
func TestCancelledWaitLeavesOthersAlone(t *testing.T) {
	st, p := stack(t)
	p.started, p.gate = make(chan struct{}, 1), make(chan struct{})
	s := New(p, Options{SkipPropagationCheck: true})
	defer s.Close()
	a, b := chal("a."+providertest.Zone), chal("b."+providertest.Zone)
	for _, c := range []acme.Challenge{a, b} {
		if err := s.Present(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	errA := make(chan error, 1)
	go func() { errA <- s.Wait(ctx, a) }()
	<-p.started // the write is under way
	cancel()
	if err := <-errA; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled Wait returned %v, want context.Canceled", err)
	}
	errB := make(chan error, 1)
	go func() { errB <- s.Wait(context.Background(), b) }()
	close(p.gate)
	if err := <-errB; err != nil {
		t.Fatalf("the other Wait failed: %v", err)
	}
	for _, n := range []string{"_acme-challenge.a", "_acme-challenge.b"} {
		if len(served(st, n)) != 1 {
			t.Errorf("%s not written: %q", n, served(st, n))
		}
	}
}

// TestCloseFlushesCleanups cleans up with a debounce and maximum age no
// test reaches: nothing is deleted until Close, which deletes at once.
func TestCloseFlushesCleanups(t *testing.T) {
	st, p := stack(t)
	before := st.Fake.Snapshot(providertest.Zone)
	s := New(p, Options{SkipPropagationCheck: true, CleanupDelay: time.Hour, CleanupMaxAge: time.Hour})
	ctx := context.Background()
	cs := chals(3)
	for _, c := range cs {
		if err := s.Present(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cs {
		if err := s.Wait(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cs {
		if err := s.CleanUp(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.Fake.Requests()[mijnhosttest.EndpointPutRecords]; n != 1 {
		t.Fatalf("%d writes before Close, want the present's 1", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := st.Fake.Requests()[mijnhosttest.EndpointPutRecords]; n != 2 {
		t.Errorf("%d writes after Close, want 2", n)
	}
	if after := st.Fake.Snapshot(providertest.Zone); !slices.Equal(before, after) {
		t.Errorf("zone changed:\nbefore %q\nafter  %q", before, after)
	}
	if err := s.Present(ctx, cs[0]); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Present after Close: %v, want an error saying the solver is closed", err)
	}
}

// TestWaitChecksDNS freezes the DNS server: the API holds the record but
// DNS does not serve it, so Wait must keep asking (twice at least) without
// returning, and return once the server catches up.
func TestWaitChecksDNS(t *testing.T) {
	st, p := stack(t)
	s := New(p, Options{Resolvers: []string{st.DNS.Addr()}, PropagationInterval: time.Millisecond})
	defer s.Close()
	c := chal("frozen." + providertest.Zone)
	const name = "_acme-challenge.frozen.example.test."
	st.DNS.Freeze()
	asked := make(chan struct{}, 100)
	st.DNS.OnQuery(func(q dns.Question, m *dns.Msg) {
		if q.Qtype == dns.TypeTXT && strings.EqualFold(q.Name, name) {
			select {
			case asked <- struct{}{}:
			default:
			}
		}
	})
	if err := s.Present(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait(context.Background(), c) }()
	for n := 0; n < 2; {
		select {
		case <-asked:
			n++
		case err := <-done:
			t.Fatalf("Wait returned (%v) while DNS did not serve the record", err)
		}
	}
	st.DNS.Thaw()
	if err := <-done; err != nil {
		t.Fatalf("Wait after DNS caught up: %v", err)
	}
}

// TestBadInput: a challenge the solver cannot place is refused by Present
// with a one-line error naming what is wrong.
func TestBadInput(t *testing.T) {
	_, p := stack(t)
	s := New(p, Options{})
	defer s.Close()
	tests := []struct {
		name string
		c    acme.Challenge
		want string
	}{
		{"empty identifier", chal(""), `identifier "" is not a DNS name: it is empty`},
		{"space in identifier", chal("a b.example.test"), `identifier "a b.example.test" is not a DNS name`},
		{"not dns-01", acme.Challenge{Type: acme.ChallengeTypeHTTP01, Identifier: acme.Identifier{Value: "a.example.test"}}, `challenge type "http-01" is not dns-01`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Present(context.Background(), tt.c)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Present: %v, want one line holding %q", err, tt.want)
			}
		})
	}
	if err := s.Wait(context.Background(), chal("never.example.test")); err == nil || !strings.Contains(err.Error(), "not presented") {
		t.Errorf("Wait without Present: %v", err)
	}
	if err := s.CleanUp(context.Background(), chal("never.example.test")); err != nil {
		t.Errorf("CleanUp without Present: %v", err)
	}
}

// TestCleanupWaitsForTheLast: with two records presented, the first
// CleanUp deletes nothing (the other is still presented); the second one
// deletes both with one write.
func TestCleanupWaitsForTheLast(t *testing.T) {
	st, p := stack(t)
	s := New(p, Options{SkipPropagationCheck: true, CleanupDelay: time.Millisecond, CleanupMaxAge: time.Hour})
	defer s.Close()
	ctx := context.Background()
	cs := chals(2)
	var wg sync.WaitGroup
	for _, c := range cs {
		if err := s.Present(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cs {
		wg.Go(func() {
			if err := s.Wait(ctx, c); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := s.CleanUp(ctx, cs[0]); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	held := len(s.records) == 1 && len(s.doomed) == 1 && time.Until(s.due) > 30*time.Minute
	s.mu.Unlock()
	if !held {
		t.Fatal("after the first CleanUp: want one record presented and the deletion held until its maximum age")
	}
	if err := s.CleanUp(ctx, cs[1]); err != nil {
		t.Fatal(err)
	}
	if err := next(t, p.deleted, "deletion"); err != nil {
		t.Fatal(err)
	}
	if n := st.Fake.Requests()[mijnhosttest.EndpointPutRecords]; n != 2 {
		t.Errorf("%d writes, want 1 to present and 1 to clean up", n)
	}
}
