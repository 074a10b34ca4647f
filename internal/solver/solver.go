// Package solver presents and cleans up ACME DNS-01 TXT records through any
// libdns provider: it finds the zone holding each name (from the provider's
// zone list, or through DNS when the provider cannot list its zones), adds
// the value without touching other values of the name, removes exactly that
// value on cleanup, and can wait until DNS serves what it wrote. It can
// follow a CNAME chain from the challenge name first, and write where the
// chain ends, as lego and cert-manager do.
package solver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/propagation"
	"github.com/acme-dns-hook/acme-dns-hook/internal/zone"
)

// Provider is what the solver needs of a libdns provider: any provider that
// appends and deletes records will do. One that also implements
// libdns.ZoneLister has the zone of each name picked from its zone list;
// for any other, the zone is found through DNS (see Solver.Zone).
type Provider interface {
	libdns.RecordAppender
	libdns.RecordDeleter
}

// Waiter waits until DNS serves a TXT value (propagation.Checker does).
type Waiter interface {
	Wait(ctx context.Context, zone, fqdn, value string) error
}

// Aliases finds where a name's CNAME chain ends (propagation.Follower
// does).
type Aliases interface {
	Follow(ctx context.Context, name string) (end string, chain []string, err error)
}

// ZoneFinder is implemented by a Provider that finds the zone of a name
// itself, as one over several provider accounts does (providers.Set):
// ZoneFor returns the zone holding name and the name of the account that
// holds it, for messages; its error names the zones of each account when
// none holds name.
type ZoneFinder interface {
	ZoneFor(ctx context.Context, name string) (zone, account string, err error)
}

// Challenge is one TXT record: its owner name and value.
type Challenge struct {
	FQDN  string // "_acme-challenge.example.com." (trailing dot optional)
	Value string // the base64url SHA-256 digest of the key authorization
}

// FromKeyAuth returns the challenge for domain (the identifier without "*.")
// and a full key authorization, as lego's RAW mode hands them over.
func FromKeyAuth(domain, keyAuth string) Challenge {
	sum := sha256.Sum256([]byte(keyAuth))
	domain = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(domain), "*."), ".")
	return Challenge{FQDN: "_acme-challenge." + domain + ".", Value: base64.RawURLEncoding.EncodeToString(sum[:])}
}

// ForDomain returns the challenge for an identifier and a ready digest, as
// certbot and dehydrated hand them over.
func ForDomain(domain, value string) Challenge {
	domain = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(domain), "*."), ".")
	return Challenge{FQDN: "_acme-challenge." + domain + ".", Value: strings.TrimSpace(value)}
}

func (c Challenge) validate() error {
	name := strings.TrimSuffix(strings.TrimSpace(c.FQDN), ".")
	switch {
	case name == "" || strings.ContainsAny(name, " \t\n/\\\"") || strings.Contains(name, ".."):
		return fmt.Errorf("record name %q is not a domain name", c.FQDN)
	case c.Value == "":
		return fmt.Errorf("TXT value for %s is empty", c.FQDN)
	case len(c.Value) > 255 || strings.ContainsAny(c.Value, "\n\r"):
		return fmt.Errorf("TXT value for %s is not a DNS-01 digest (%d bytes)", c.FQDN, len(c.Value))
	}
	return nil
}

// Solver adds and removes challenge records. Safe for concurrent use.
type Solver struct {
	Provider Provider
	// TTL of created records; 0 leaves it to the provider's default.
	TTL time.Duration
	// Waiter, when set, is asked after Present to wait for every value.
	Waiter Waiter
	// Resolvers are the recursive resolvers ("host:port"; without a port,
	// port 53) asked for SOA records to find the zone of a name when
	// Provider cannot list its zones; empty means the nameservers of
	// /etc/resolv.conf. A provider that lists its zones never needs them.
	Resolvers []string
	// Aliases, when set, is asked where each challenge name leads: the
	// record is written, waited for and removed at the end of the name's
	// CNAME chain, in the zone holding that end. Every name is followed
	// before anything is written, and a failure to follow one writes
	// nothing.
	Aliases Aliases
	// Log, when set, receives one line (without newline) for each record
	// before it is added or removed, saying where.
	Log func(line string)
}

// Zone returns the provider zone holding fqdn. When the provider implements
// libdns.ZoneLister, it is the longest zone of the account equal to fqdn or
// a parent of it, and a name no zone holds is an error listing the account's
// zones. Otherwise it is the apex of the DNS zone that holds fqdn, as
// Resolvers report it (propagation.FindZone: the closest enclosing name with
// an SOA record).
//
// A Provider that implements ZoneFinder is asked instead.
func (s *Solver) Zone(ctx context.Context, fqdn string) (string, error) {
	z, _, err := s.zone(ctx, fqdn)
	return z, err
}

// zone is Zone, with the account holding the zone when the Provider names
// it.
func (s *Solver) zone(ctx context.Context, fqdn string) (string, string, error) {
	if f, ok := s.Provider.(ZoneFinder); ok {
		return f.ZoneFor(ctx, fqdn)
	}
	z, err := s.listedZone(ctx, fqdn)
	return z, "", err
}

func (s *Solver) listedZone(ctx context.Context, fqdn string) (string, error) {
	lister, ok := s.Provider.(libdns.ZoneLister)
	if !ok {
		return propagation.FindZone(ctx, s.Resolvers, fqdn)
	}
	zones, err := lister.ListZones(ctx)
	if err != nil {
		return "", fmt.Errorf("listing zones: %w", err)
	}
	names := make([]string, len(zones))
	for i, z := range zones {
		names[i] = zone.Canonical(z.Name)
	}
	best := zone.Longest(fqdn, names)
	if best == "" {
		return "", fmt.Errorf("no zone of this account holds %s (account zones: %s)", zone.Canonical(fqdn), strings.Join(names, " "))
	}
	return best, nil
}

// target is where one challenge's record goes.
type target struct {
	Challenge        // FQDN: the end of the CNAME chain, canonical
	from      string // the name asked for, canonical, when a CNAME led away from it
	zone      string
	account   string // who holds zone, when the Provider says
}

// where describes t for the log.
func (t target) where() string {
	at := "zone " + t.zone
	if t.account != "" {
		at = t.account + " (" + at + ")"
	}
	if t.from != "" {
		at += ", for " + t.from + " by CNAME"
	}
	return at
}

// group validates the challenges, follows each name's CNAMEs (with
// Aliases) and sorts the targets by zone. It writes nothing, so that a
// challenge that cannot be placed keeps every other one of the call from
// being written.
func (s *Solver) group(ctx context.Context, chs []Challenge) (map[string][]target, error) {
	for _, c := range chs {
		if err := c.validate(); err != nil {
			return nil, err
		}
	}
	ends := map[string]string{} // canonical name -> end of its chain
	for _, c := range chs {
		ends[zone.Canonical(c.FQDN)] = ""
	}
	if s.Aliases != nil {
		var fs []func() error
		var mu sync.Mutex
		for name := range ends {
			fs = append(fs, func() error {
				end, _, err := s.Aliases.Follow(ctx, name)
				if err != nil {
					// A name of no account whose CNAMEs cannot be followed
					// either (its domain does not resolve, say): both are
					// worth knowing.
					if _, _, zerr := s.zone(ctx, name); zerr != nil {
						err = fmt.Errorf("%v; %w", zerr, err)
					}
				}
				mu.Lock()
				ends[name] = end
				mu.Unlock()
				return err
			})
		}
		if err := parallel(fs); err != nil {
			return nil, err
		}
	}
	byZone := map[string][]target{}
	zones := map[string][2]string{} // end -> zone, account
	for _, c := range chs {
		name := zone.Canonical(c.FQDN)
		t := target{Challenge: c}
		if end := ends[name]; end != "" && end != name {
			t.FQDN, t.from = end, name
		}
		key := zone.Canonical(t.FQDN)
		za, ok := zones[key]
		if !ok {
			z, account, err := s.zone(ctx, t.FQDN)
			if err != nil {
				return nil, err
			}
			za = [2]string{z, account}
			zones[key] = za
		}
		t.zone, t.account = za[0], za[1]
		byZone[t.zone] = append(byZone[t.zone], t)
	}
	return byZone, nil
}

func (s *Solver) records(z string, ts []target) []libdns.Record {
	out := make([]libdns.Record, len(ts))
	for i, t := range ts {
		out[i] = libdns.TXT{Name: libdns.RelativeName(zone.Canonical(t.FQDN), z), TTL: s.TTL, Text: t.Value}
	}
	return out
}

func (s *Solver) log(verb string, byZone map[string][]target) {
	if s.Log == nil {
		return
	}
	for _, z := range slices.Sorted(maps.Keys(byZone)) {
		for _, t := range byZone[z] {
			s.Log(fmt.Sprintf("%s TXT %s %q at %s", verb, zone.Canonical(t.FQDN), t.Value, t.where()))
		}
	}
}

// Present adds every challenge value (zones in parallel, one call per zone),
// then, with a Waiter, waits until all of them are served. Presenting a value
// that exists already succeeds. Nothing is written if any input is invalid,
// or if any name's CNAMEs or zone cannot be found.
func (s *Solver) Present(ctx context.Context, chs ...Challenge) error {
	byZone, err := s.group(ctx, chs)
	if err != nil {
		return err
	}
	s.log("adding", byZone)
	if err := eachZone(byZone, func(z string, ts []target) error {
		if _, err := s.Provider.AppendRecords(ctx, z, s.records(z, ts)); err != nil {
			return fmt.Errorf("adding TXT %s: %w", names(ts), err)
		}
		return nil
	}); err != nil {
		return err
	}
	if s.Waiter == nil {
		return nil
	}
	var all []func() error
	for z, ts := range byZone {
		for _, t := range ts {
			all = append(all, func() error { return s.Waiter.Wait(ctx, z, zone.Canonical(t.FQDN), t.Value) })
		}
	}
	return parallel(all)
}

// Cleanup removes exactly the given values; other values of the same name
// stay. A value that is already gone is not an error. With Aliases, each
// value is removed where Present wrote it: at the end of its name's CNAME
// chain.
func (s *Solver) Cleanup(ctx context.Context, chs ...Challenge) error {
	byZone, err := s.group(ctx, chs)
	if err != nil {
		return err
	}
	s.log("removing", byZone)
	return eachZone(byZone, func(z string, ts []target) error {
		recs := s.records(z, ts)
		for i := range recs {
			t := recs[i].(libdns.TXT)
			t.TTL = 0 // match whatever TTL the record was created with
			recs[i] = t
		}
		if _, err := s.Provider.DeleteRecords(ctx, z, recs); err != nil {
			return fmt.Errorf("removing TXT %s: %w", names(ts), err)
		}
		return nil
	})
}

func names(ts []target) string {
	seen := map[string]bool{}
	var out []string
	for _, t := range ts {
		n := zone.Canonical(t.FQDN)
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

func eachZone(byZone map[string][]target, f func(string, []target) error) error {
	var fs []func() error
	for z, ts := range byZone {
		fs = append(fs, func() error { return f(z, ts) })
	}
	return parallel(fs)
}

// parallel runs fs concurrently and joins their errors.
func parallel(fs []func() error) error {
	errs := make([]error, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Go(func() { errs[i] = f() })
	}
	wg.Wait()
	return errors.Join(errs...)
}
