// Package localstack starts the project's local world on loopback: a fake
// mijn.host API holding a seeded zone, an authoritative DNS server that
// serves whatever the fake API last stored, and optionally an in-process
// Pebble ACME CA that validates DNS-01 against that DNS server. The demo and
// every end-to-end test run on it; nothing leaves 127.0.0.1.
package localstack

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"log"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/authdns"
	"github.com/acme-dns-hook/acme-dns-hook/internal/pebbletest"
)

// APIKey is the key the fake mijn.host API accepts.
const APIKey = "local-stack-api-key-7c1e"

// Zone is the seeded zone.
const Zone = "example.test"

//go:embed testdata/example.test.json
var seedJSON []byte

// Seed returns the records the zone starts with.
func Seed() []mijnhosttest.Record {
	var recs []mijnhosttest.Record
	if err := json.Unmarshal(seedJSON, &recs); err != nil {
		panic("localstack: bad seed fixture: " + err.Error())
	}
	return recs
}

// Options choose what to start.
type Options struct {
	// CA starts Pebble too.
	CA bool
	// Zones are extra empty domains in the account besides Zone.
	Zones []string
	// PebbleLog receives Pebble's log; nil discards it.
	PebbleLog *log.Logger
}

// Stack is a running local world. Close stops it.
type Stack struct {
	MijnHost *mijnhosttest.Server
	DNS      *authdns.Server
	CA       *pebbletest.CA // nil unless Options.CA
}

// Start starts the stack.
func Start(opts Options) (*Stack, error) {
	s := &Stack{MijnHost: mijnhosttest.NewServer()}
	s.MijnHost.AddKey(APIKey)
	s.MijnHost.AddDomain(Zone, Seed()...)
	for _, z := range opts.Zones {
		s.MijnHost.AddDomain(z)
	}
	var err error
	if s.DNS, err = authdns.Start("127.0.0.1:0", s.MijnHost.Zones); err != nil {
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
	return []string{
		"ACME_HOOK_PROVIDER=mijnhost",
		"MIJNHOST_API_KEY=" + APIKey,
		"MIJNHOST_API_URL=" + s.MijnHost.URL,
		"ACME_HOOK_RESOLVERS=" + s.DNS.Addr(),
	}
}

// Close stops everything that was started.
func (s *Stack) Close() {
	if s.CA != nil {
		s.CA.Close()
	}
	if s.DNS != nil {
		s.DNS.Close()
	}
	s.MijnHost.Close()
}
