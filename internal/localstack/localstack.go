// Package localstack starts the project's local world on loopback: a fake
// provider API holding a seeded zone, an authoritative DNS server that serves
// whatever the fake API last stored, and optionally an in-process Pebble ACME
// CA that validates DNS-01 against that DNS server. The demo and every
// end-to-end test run on it; nothing leaves 127.0.0.1.
//
// Each provider's fake plugs in through a file of this package that
// registers a FakeStarter (see mijnhost.go).
package localstack

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"log"
	"sort"
	"strings"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/authdns"
	"github.com/acme-dns-hook/acme-dns-hook/internal/pebbletest"
)

// Zone is the seeded zone.
const Zone = "example.test"

//go:embed testdata/example.test.json
var seedJSON []byte

// Seed returns the records the zone starts with, names relative to Zone.
func Seed() []libdns.RR {
	var recs []struct {
		Name, Type, Data string
		TTL              int
	}
	if err := json.Unmarshal(seedJSON, &recs); err != nil {
		panic("localstack: bad seed fixture: " + err.Error())
	}
	out := make([]libdns.RR, len(recs))
	for i, r := range recs {
		out[i] = libdns.RR{Name: r.Name, Type: r.Type, TTL: time.Duration(r.TTL) * time.Second, Data: r.Data}
	}
	return out
}

// Fake is one provider's fake API as the stack runs it.
type Fake interface {
	// Env returns the variables that point the provider at the fake:
	// credentials and API URL.
	Env() []string
	// Zones returns every zone's records for the DNS server (libdns
	// convention: names relative to the zone).
	Zones() map[string][]libdns.RR
	// Snapshot returns the zone as the API stores it, one line per record
	// in API order, every field included: equal snapshots mean nothing
	// changed.
	Snapshot(zone string) []string
	Close()
}

// FakeStarter starts a provider's fake with Zone holding seed and every
// name in extra as an empty zone.
type FakeStarter func(seed []libdns.RR, extra []string) (Fake, error)

var fakes = map[string]FakeStarter{}

// Providers lists the providers the stack can fake.
func Providers() []string {
	var out []string
	for name := range fakes {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Options choose what to start.
type Options struct {
	// Provider is whose fake API to run; default "mijnhost".
	Provider string
	// CA starts Pebble too.
	CA bool
	// Zones are extra empty zones in the account besides Zone.
	Zones []string
	// PebbleLog receives Pebble's log; nil discards it.
	PebbleLog *log.Logger
}

// Stack is a running local world. Close stops it.
type Stack struct {
	Provider string
	Fake     Fake
	// MijnHost is the fake when Provider is "mijnhost", for tests that
	// count its requests or inject its faults.
	MijnHost *mijnhosttest.Server
	DNS      *authdns.Server
	CA       *pebbletest.CA // nil unless Options.CA
}

// Start starts the stack.
func Start(opts Options) (*Stack, error) {
	if opts.Provider == "" {
		opts.Provider = "mijnhost"
	}
	start, ok := fakes[opts.Provider]
	if !ok {
		return nil, fmt.Errorf("localstack: no fake for provider %q (have %s)", opts.Provider, strings.Join(Providers(), ", "))
	}
	fake, err := start(Seed(), opts.Zones)
	if err != nil {
		return nil, fmt.Errorf("starting the %s fake: %w", opts.Provider, err)
	}
	s := &Stack{Provider: opts.Provider, Fake: fake}
	if m, ok := fake.(*mijnhostFake); ok {
		s.MijnHost = m.Server
	}
	if s.DNS, err = authdns.Start("127.0.0.1:0", fake.Zones); err != nil {
		s.Close()
		return nil, fmt.Errorf("starting DNS server: %w", err)
	}
	if opts.CA {
		if s.CA, err = pebbletest.Start(pebbletest.Options{DNSServer: s.DNS.Addr(), Logger: opts.PebbleLog}); err != nil {
			s.Close()
			return nil, fmt.Errorf("starting Pebble: %w", err)
		}
	}
	return s, nil
}

// Env returns the environment a hook process needs to work on this stack:
// provider, credentials, API URL, and the DNS server to check propagation on.
func (s *Stack) Env() []string {
	return append([]string{"ACME_HOOK_PROVIDER=" + s.Provider, "ACME_HOOK_RESOLVERS=" + s.DNS.Addr()}, s.Fake.Env()...)
}

// Close stops everything that was started.
func (s *Stack) Close() {
	if s.CA != nil {
		s.CA.Close()
	}
	if s.DNS != nil {
		s.DNS.Close()
	}
	s.Fake.Close()
}
