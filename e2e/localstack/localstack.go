// Package localstack starts the project's local world on loopback: a fake
// provider API holding a seeded zone, an authoritative DNS server that serves
// whatever the fake API last stored (package providertest), and optionally
// an in-process Pebble ACME CA that validates DNS-01 against that DNS
// server. The demo, the benchmark and every end-to-end test run on it;
// nothing leaves 127.0.0.1. Every registered provider's fake can run here,
// and several at once: further accounts at other providers' fakes, whose
// zones the one DNS server serves too, for a configuration with several
// providers.
package localstack

import (
	"fmt"
	"log"
	"strings"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/pebbletest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/authdns"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providertest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

// Zone is the seeded zone.
const Zone = providertest.Zone

// Seed returns the records the zone starts with, names relative to Zone.
func Seed() []libdns.RR { return providertest.Seed() }

// Providers lists the providers the stack can fake.
func Providers() []string { return providertest.Names() }

// Options choose what to start.
type Options struct {
	// Provider is whose fake API to run; default "mijnhost".
	Provider string
	// CA starts Pebble too.
	CA bool
	// Zones are extra empty zones in the account besides Zone.
	Zones []string
	// Elsewhere are zones the DNS server serves that the account does not
	// hold, as when a domain's DNS is hosted elsewhere: apex (FQDN) to
	// records, names relative to the apex. A CNAME there can delegate a
	// challenge into the account.
	Elsewhere map[string][]libdns.RR
	// Others are further accounts, each at another provider's fake; the
	// DNS server serves their zones too, and Env configures every one.
	Others []Other
	// PebbleLog receives Pebble's log; nil discards it.
	PebbleLog *log.Logger
}

// Other is a further account of the stack, at a fake API of its own.
type Other struct {
	// Provider is whose fake to run. It must differ from the stack's
	// provider and from every other account's: the environment holds one
	// account per provider.
	Provider string
	// Zone is the zone seeded with Seed (names relative to Zone); Zones are
	// further empty zones of the account.
	Zone  string
	Seed  []libdns.RR
	Zones []string
}

// Account is one running account of the stack.
type Account struct {
	Provider   string
	Descriptor *settings.Descriptor
	Fake       providertest.Fake
	// Zones are the account's zones, the seeded one first.
	Zones []string
}

// Stack is a running local world. Close stops it.
type Stack struct {
	// Provider is the name of the provider whose fake runs.
	Provider string
	// Descriptor is that provider's descriptor.
	Descriptor *settings.Descriptor
	// Fake is the provider's fake API: its *Server, for tests that count
	// its requests or inject its faults.
	Fake providertest.Fake
	DNS  interface{ Addr() string }
	CA   *pebbletest.CA // nil unless Options.CA
	// Accounts are every account of the stack: its own (Provider, Fake;
	// Zone and Options.Zones) first, then Options.Others in order.
	Accounts []Account

	light *providertest.Stack
}

// Start starts the stack.
func Start(opts Options) (*Stack, error) {
	if opts.Provider == "" {
		opts.Provider = "mijnhost"
	}
	var sources []authdns.Source
	if len(opts.Elsewhere) > 0 {
		sources = append(sources, func() map[string][]libdns.RR { return opts.Elsewhere })
	}
	var others []Account
	closeOthers := func() {
		for _, a := range others {
			a.Fake.Close()
		}
	}
	seen := map[string]bool{opts.Provider: true}
	for _, o := range opts.Others {
		if seen[o.Provider] {
			closeOthers()
			return nil, fmt.Errorf("localstack: a second account at %s: the environment holds one account per provider", o.Provider)
		}
		seen[o.Provider] = true
		d, err := providers.Lookup(o.Provider)
		if err != nil {
			closeOthers()
			return nil, fmt.Errorf("localstack: %w", err)
		}
		f, err := providertest.StartFake(o.Provider, o.Zone, o.Seed, o.Zones)
		if err != nil {
			closeOthers()
			return nil, fmt.Errorf("localstack: %w", err)
		}
		others = append(others, Account{Provider: o.Provider, Descriptor: d, Fake: f, Zones: append([]string{o.Zone}, o.Zones...)})
		sources = append(sources, f.Zones)
	}
	l, err := providertest.Start(opts.Provider, Zone, Seed(), opts.Zones, sources...)
	if err != nil {
		closeOthers()
		return nil, fmt.Errorf("localstack: %w", err)
	}
	s := &Stack{Provider: opts.Provider, Descriptor: l.Provider, Fake: l.Fake, DNS: l.DNS, light: l}
	s.Accounts = append([]Account{{Provider: opts.Provider, Descriptor: l.Provider, Fake: l.Fake, Zones: append([]string{Zone}, opts.Zones...)}}, others...)
	if opts.CA {
		if s.CA, err = pebbletest.Start(pebbletest.Options{DNSServer: l.DNS.Addr(), Logger: opts.PebbleLog}); err != nil {
			s.Close()
			return nil, fmt.Errorf("starting Pebble: %w", err)
		}
	}
	return s, nil
}

// Env returns the environment a hook process needs to work on this stack:
// the providers (ACME_HOOK_PROVIDER, a comma list when there are others),
// each one's settings (credentials, API URL) as its environment variables,
// and the DNS server to check propagation on.
func (s *Stack) Env() []string {
	env := s.light.Env()
	if len(s.Accounts) == 1 {
		return env
	}
	names := make([]string, len(s.Accounts))
	for i, a := range s.Accounts {
		names[i] = a.Provider
		if i > 0 {
			env = append(env, providertest.EnvLines(a.Descriptor, a.Fake)...)
		}
	}
	for i, kv := range env {
		if strings.HasPrefix(kv, "ACME_HOOK_PROVIDER=") {
			env[i] = "ACME_HOOK_PROVIDER=" + strings.Join(names, ",")
		}
	}
	return env
}

// Secrets returns the secret values the providers are configured with.
func (s *Stack) Secrets() []string {
	out := s.light.Secrets()
	for _, a := range s.Accounts[1:] {
		out = append(out, providertest.Secrets(a.Descriptor, a.Fake)...)
	}
	return out
}

// Snapshots returns every zone of every account as its fake stores it
// (Fake.Snapshot), by zone: equal snapshots mean nothing changed.
func (s *Stack) Snapshots() map[string][]string {
	out := map[string][]string{}
	for _, a := range s.Accounts {
		for _, z := range a.Zones {
			out[z] = a.Fake.Snapshot(z)
		}
	}
	return out
}

// Close stops everything that was started.
func (s *Stack) Close() {
	if s.CA != nil {
		s.CA.Close()
	}
	s.light.Close()
	for _, a := range s.Accounts[1:] {
		a.Fake.Close()
	}
}
