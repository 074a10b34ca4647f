package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providertest"
)

// checkedModule returns a mijnhost module pointed at a fresh fake whose
// zone a DNS server on loopback serves, with the propagation check on
// (timeout) asking that server.
func checkedModule(t *testing.T, timeout string) (*Module, *providertest.Stack) {
	t.Helper()
	st, err := providertest.Start("mijnhost", providertest.Zone, providertest.Seed(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	cfg := st.Fake.Settings()
	raw, _ := json.Marshal(map[string]any{
		"api_key": cfg["api_key"], "api_url": cfg["api_url"],
		"propagation_check": timeout, "propagation_resolvers": []string{st.DNS.Addr()},
	})
	m := newMijnhost(t)
	if err := caddy.StrictUnmarshalJSON(raw, m); err != nil {
		t.Fatal(err)
	}
	if err := m.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	return m, st
}

var checkedRecords = []libdns.Record{
	libdns.TXT{Name: "_acme-challenge.a", Text: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
	libdns.TXT{Name: "_acme-challenge.b", Text: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
}

// askedFor reports each TXT query for the records' names on the returned
// channel (dropping reports while it is full).
func askedFor(st *providertest.Stack) <-chan string {
	asked := make(chan string, 100)
	st.DNS.OnQuery(func(q dns.Question, _ *dns.Msg) {
		if q.Qtype == dns.TypeTXT && strings.HasPrefix(strings.ToLower(q.Name), "_acme-challenge.") {
			select {
			case asked <- strings.ToLower(q.Name):
			default:
			}
		}
	})
	return asked
}

// TestPropagationCheckWaitsForDNS freezes the DNS server, so the records
// the API now holds are not served: AppendRecords must keep asking for
// both names (twice at least each) without returning, and return once the
// server catches up. The names are checked at once: one name's check
// does not wait for the other's. Without the check it would return at once, and a
// Caddy with `propagation_timeout -1` would have the CA validate too early.
func TestPropagationCheckWaitsForDNS(t *testing.T) {
	m, st := checkedModule(t, "10m")
	st.DNS.Freeze()
	asked := askedFor(st)
	done := make(chan error, 1)
	go func() {
		_, err := m.AppendRecords(context.Background(), providertest.Zone+".", checkedRecords)
		done <- err
	}()
	seen := map[string]int{}
	bound := time.After(time.Minute) // a bound, not a timing assertion
	for seen["_acme-challenge.a.example.test."] < 2 || seen["_acme-challenge.b.example.test."] < 2 {
		select {
		case name := <-asked:
			seen[name]++
		case err := <-done:
			t.Fatalf("AppendRecords returned (%v) while DNS did not serve the records (asked %v)", err, seen)
		case <-bound:
			t.Fatalf("after a minute, asked %v: want every name asked twice, all at once", seen)
		}
	}
	st.DNS.Thaw()
	if err := <-done; err != nil {
		t.Fatalf("AppendRecords after DNS caught up: %v", err)
	}
}

// TestPropagationCheckFails: records DNS never serves fail the call with
// an error naming both names, and are removed again.
func TestPropagationCheckFails(t *testing.T) {
	m, st := checkedModule(t, "1s")
	before := st.Fake.Snapshot(providertest.Zone)
	st.DNS.Freeze()
	_, err := m.AppendRecords(context.Background(), providertest.Zone+".", checkedRecords)
	if err == nil {
		t.Fatal("AppendRecords succeeded though DNS never served the records")
	}
	for _, want := range []string{"propagation check: TXT _acme-challenge.a.example.test., _acme-challenge.b.example.test. not served by " + st.DNS.Addr() + " within 1s", "NXDOMAIN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), mijnhosttest.SeedKey) {
		t.Errorf("error %q: want one line wrapping context.DeadlineExceeded, without the API key", err)
	}
	if after := st.Fake.Snapshot(providertest.Zone); !slices.Equal(before, after) {
		t.Errorf("the records were not removed:\nbefore %q\nafter  %q", before, after)
	}
}

// TestPropagationCheckOff: without the option nothing is asked of DNS.
func TestPropagationCheckOff(t *testing.T) {
	m, st := checkedModule(t, "1m")
	m.PropagationCheck, m.PropagationResolvers = 0, nil
	if err := m.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	queries := 0
	st.DNS.OnQuery(func(dns.Question, *dns.Msg) { mu.Lock(); queries++; mu.Unlock() })
	st.DNS.Freeze()
	if _, err := m.AppendRecords(context.Background(), providertest.Zone+".", checkedRecords); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if queries != 0 {
		t.Errorf("%d DNS queries with the check off", queries)
	}
}
