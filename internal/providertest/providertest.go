// Package providertest runs every registered provider against its fake API:
// it starts a provider's fake seeded with a zone, points the provider at it
// through the provider's own settings, and serves the fake's zones from a
// real authoritative DNS server. The shared provider test kit, the
// end-to-end stack (e2e/localstack) and the demo all start fakes here, so a
// new provider gets every test by registering its fake in fakes.go.
package providertest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/authdns"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

// Fake is one provider's fake API as the tests run it. Each fake package's
// *Server implements it.
type Fake interface {
	// Settings point a provider at the fake: descriptor keys (api_key,
	// api_url, …) to values.
	Settings() map[string]string
	// Zones returns every zone's records as the API holds them now (libdns
	// convention: names relative to the zone), for the DNS server.
	Zones() map[string][]libdns.RR
	// Snapshot returns a zone as the API stores it, one line per record in
	// API order, every field included: equal snapshots mean nothing changed.
	Snapshot(zone string) []string
	// Requests returns the request counters by endpoint.
	Requests() map[string]int
	// ResetCounts sets the request counters to zero.
	ResetCounts()
	// SetLatency delays every request by d.
	SetLatency(d time.Duration)
	// FailServerErrors makes the next n requests answer with the
	// provider's HTTP 500 error.
	FailServerErrors(n int)
	// SetEcho makes the fake repeat the request's credentials in its error
	// answers, in the forms e (see apitest.Echo).
	SetEcho(e apitest.Echo)
	Close()
}

// Starter starts a provider's fake whose account holds zone with seed
// (names relative to zone) and every name in extra as an empty zone.
type Starter func(zone string, seed []libdns.RR, extra []string) (Fake, error)

// Names returns the providers that have a fake, sorted.
func Names() []string {
	var out []string
	for name := range starters {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// StartFake starts the fake of provider name.
func StartFake(name, zone string, seed []libdns.RR, extra []string) (Fake, error) {
	start, ok := starters[name]
	if !ok {
		return nil, fmt.Errorf("providertest: no fake for provider %q (have %s)", name, strings.Join(Names(), ", "))
	}
	f, err := start(zone, seed, extra)
	if err != nil {
		return nil, fmt.Errorf("starting the %s fake: %w", name, err)
	}
	return f, nil
}

// Provider returns a new provider of descriptor d configured with the
// fake's settings, through the same descriptor rules as every surface.
func Provider(d *settings.Descriptor, f Fake) (providers.Provider, error) {
	return providers.New(d, Env(d, f), providers.Options{})
}

// Env returns the fake's settings as the environment names them
// (<PREFIX>_API_KEY=…), as a settings.Env.
func Env(d *settings.Descriptor, f Fake) settings.Env {
	lines := EnvLines(d, f)
	return func(name string) (string, bool) {
		for _, l := range lines {
			if v, ok := strings.CutPrefix(l, name+"="); ok {
				return v, true
			}
		}
		return "", false
	}
}

// EnvLines returns the fake's settings as NAME=value lines, sorted.
func EnvLines(d *settings.Descriptor, f Fake) []string {
	var out []string
	for k, v := range f.Settings() {
		s := d.Setting(k)
		if s == nil {
			panic(fmt.Sprintf("providertest: fake of %s sets %q, which is not a setting", d.Name, k))
		}
		out = append(out, d.EnvName(s)+"="+v)
	}
	slices.Sort(out)
	return out
}

// Secrets returns the secret values among the fake's settings.
func Secrets(d *settings.Descriptor, f Fake) []string {
	var out []string
	for k, v := range f.Settings() {
		if s := d.Setting(k); s != nil && s.Secret {
			out = append(out, v)
		}
	}
	return out
}

// Stack is a fake API with a DNS server that answers from it.
type Stack struct {
	Provider *settings.Descriptor
	Fake     Fake
	DNS      *authdns.Server
}

// Start starts provider name's fake holding zone with seed and extra as
// empty zones, and a DNS server on 127.0.0.1 serving what the fake holds
// and what the sources in elsewhere hold (zones no account of the fake
// holds, such as a domain whose DNS is hosted elsewhere).
func Start(name, zone string, seed []libdns.RR, extra []string, elsewhere ...authdns.Source) (*Stack, error) {
	d, err := providers.Lookup(name)
	if err != nil {
		return nil, err
	}
	f, err := StartFake(name, zone, seed, extra)
	if err != nil {
		return nil, err
	}
	s := &Stack{Provider: d, Fake: f}
	if s.DNS, err = authdns.Start("127.0.0.1:0", append([]authdns.Source{f.Zones}, elsewhere...)...); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting DNS server: %w", err)
	}
	return s, nil
}

// Env returns the environment a hook process needs on the stack: the
// provider, its settings, and the DNS server to check propagation on.
func (s *Stack) Env() []string {
	return append([]string{"ACME_HOOK_PROVIDER=" + s.Provider.Name, "ACME_HOOK_RESOLVERS=" + s.DNS.Addr()}, EnvLines(s.Provider, s.Fake)...)
}

// Secrets returns the secret values the stack's provider is configured with.
func (s *Stack) Secrets() []string { return Secrets(s.Provider, s.Fake) }

// Close stops the DNS server and the fake.
func (s *Stack) Close() {
	s.DNS.Close()
	s.Fake.Close()
}

// Zone is the zone every stack seeds.
const Zone = "example.test"

//go:embed testdata/example.test.json
var seedJSON []byte

// Seed returns the records Zone starts with, names relative to Zone: one of
// each common type, with quotes, semicolons, backslashes and non-ASCII text
// in TXT values, and a CNAME.
func Seed() []libdns.RR {
	var recs []struct {
		Name, Type, Data string
		TTL              int
	}
	if err := json.Unmarshal(seedJSON, &recs); err != nil {
		panic("providertest: bad seed fixture: " + err.Error())
	}
	out := make([]libdns.RR, len(recs))
	for i, r := range recs {
		out[i] = libdns.RR{Name: r.Name, Type: r.Type, TTL: time.Duration(r.TTL) * time.Second, Data: r.Data}
	}
	return out
}
