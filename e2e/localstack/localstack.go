// Package localstack starts the project's local world on loopback: a fake
// provider API holding a seeded zone, an authoritative DNS server that serves
// whatever the fake API last stored (package providertest), and optionally
// an in-process Pebble ACME CA that validates DNS-01 against that DNS
// server. The demo, the benchmark and every end-to-end test run on it;
// nothing leaves 127.0.0.1. Every registered provider's fake can run here.
package localstack

import (
	"fmt"
	"log"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/pebbletest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/authdns"
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
	// PebbleLog receives Pebble's log; nil discards it.
	PebbleLog *log.Logger
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

	light *providertest.Stack
}

// Start starts the stack.
func Start(opts Options) (*Stack, error) {
	if opts.Provider == "" {
		opts.Provider = "mijnhost"
	}
	var elsewhere []authdns.Source
	if len(opts.Elsewhere) > 0 {
		elsewhere = append(elsewhere, func() map[string][]libdns.RR { return opts.Elsewhere })
	}
	l, err := providertest.Start(opts.Provider, Zone, Seed(), opts.Zones, elsewhere...)
	if err != nil {
		return nil, fmt.Errorf("localstack: %w", err)
	}
	s := &Stack{Provider: opts.Provider, Descriptor: l.Provider, Fake: l.Fake, DNS: l.DNS, light: l}
	if opts.CA {
		if s.CA, err = pebbletest.Start(pebbletest.Options{DNSServer: l.DNS.Addr(), Logger: opts.PebbleLog}); err != nil {
			s.Close()
			return nil, fmt.Errorf("starting Pebble: %w", err)
		}
	}
	return s, nil
}

// Env returns the environment a hook process needs to work on this stack:
// provider, its settings (credentials, API URL) as the provider's
// environment variables, and the DNS server to check propagation on.
func (s *Stack) Env() []string { return s.light.Env() }

// Secrets returns the secret values the provider is configured with.
func (s *Stack) Secrets() []string { return s.light.Secrets() }

// Close stops everything that was started.
func (s *Stack) Close() {
	if s.CA != nil {
		s.CA.Close()
	}
	s.light.Close()
}
