// Package solver presents and cleans up ACME DNS-01 TXT records through any
// libdns provider: it finds the zone holding each name (from the provider's
// zone list, or through DNS when the provider cannot list its zones), adds
// the value without touching other values of the name, removes exactly that
// value on cleanup, and can wait until DNS serves what it wrote.
package solver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
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
}

// Zone returns the provider zone holding fqdn. When the provider implements
// libdns.ZoneLister, it is the longest zone of the account equal to fqdn or
// a parent of it, and a name no zone holds is an error listing the account's
// zones. Otherwise it is the apex of the DNS zone that holds fqdn, as
// Resolvers report it (propagation.FindZone: the closest enclosing name with
// an SOA record).
func (s *Solver) Zone(ctx context.Context, fqdn string) (string, error) {
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

// group validates the challenges and sorts them by zone.
func (s *Solver) group(ctx context.Context, chs []Challenge) (map[string][]Challenge, error) {
	byZone := map[string][]Challenge{}
	for _, c := range chs {
		if err := c.validate(); err != nil {
			return nil, err
		}
		z, err := s.Zone(ctx, c.FQDN)
		if err != nil {
			return nil, err
		}
		byZone[z] = append(byZone[z], c)
	}
	return byZone, nil
}

func (s *Solver) records(z string, chs []Challenge) []libdns.Record {
	out := make([]libdns.Record, len(chs))
	for i, c := range chs {
		out[i] = libdns.TXT{Name: libdns.RelativeName(zone.Canonical(c.FQDN), z), TTL: s.TTL, Text: c.Value}
	}
	return out
}

// Present adds every challenge value (zones in parallel, one call per zone),
// then, with a Waiter, waits until all of them are served. Presenting a value
// that exists already succeeds. Nothing is written if any input is invalid.
func (s *Solver) Present(ctx context.Context, chs ...Challenge) error {
	byZone, err := s.group(ctx, chs)
	if err != nil {
		return err
	}
	if err := eachZone(byZone, func(z string, cs []Challenge) error {
		if _, err := s.Provider.AppendRecords(ctx, z, s.records(z, cs)); err != nil {
			return fmt.Errorf("adding TXT %s: %w", names(cs), err)
		}
		return nil
	}); err != nil {
		return err
	}
	if s.Waiter == nil {
		return nil
	}
	var all []func() error
	for z, cs := range byZone {
		for _, c := range cs {
			all = append(all, func() error { return s.Waiter.Wait(ctx, z, zone.Canonical(c.FQDN), c.Value) })
		}
	}
	return parallel(all)
}

// Cleanup removes exactly the given values; other values of the same name
// stay. A value that is already gone is not an error.
func (s *Solver) Cleanup(ctx context.Context, chs ...Challenge) error {
	byZone, err := s.group(ctx, chs)
	if err != nil {
		return err
	}
	return eachZone(byZone, func(z string, cs []Challenge) error {
		recs := s.records(z, cs)
		for i := range recs {
			t := recs[i].(libdns.TXT)
			t.TTL = 0 // match whatever TTL the record was created with
			recs[i] = t
		}
		if _, err := s.Provider.DeleteRecords(ctx, z, recs); err != nil {
			return fmt.Errorf("removing TXT %s: %w", names(cs), err)
		}
		return nil
	})
}

func names(cs []Challenge) string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cs {
		n := zone.Canonical(c.FQDN)
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

func eachZone(byZone map[string][]Challenge, f func(string, []Challenge) error) error {
	var fs []func() error
	for z, cs := range byZone {
		fs = append(fs, func() error { return f(z, cs) })
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
