package providers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/zone"
)

// Account is one configured provider account: the provider's descriptor
// and the provider built from its settings.
type Account struct {
	Descriptor *settings.Descriptor
	Provider   Provider
}

// Set is one Provider over the accounts of several providers. A name
// belongs to the account holding the longest zone that contains it, among
// the zones of every account; each call with a zone goes to the account
// that holds that zone. Safe for concurrent use: it keeps no state of its
// own (each provider caches its zone list).
type Set struct {
	accounts []Account
}

// NewSet returns the Set of accounts, in the order given.
func NewSet(accounts ...Account) *Set { return &Set{accounts: slices.Clone(accounts)} }

// Accounts returns the accounts of the set, in order.
func (s *Set) Accounts() []Account { return slices.Clone(s.accounts) }

// maxShown bounds the zones an error lists per account.
const maxShown = 10

// zones lists every account's zones (canonical, sorted) concurrently; an
// account whose listing fails fails the call, naming the account, since a
// name might be in its zones.
func (s *Set) zones(ctx context.Context) ([][]string, error) {
	out := make([][]string, len(s.accounts))
	errs := make([]error, len(s.accounts))
	var wg sync.WaitGroup
	for i, a := range s.accounts {
		wg.Go(func() {
			zs, err := a.Provider.ListZones(ctx)
			if err != nil {
				errs[i] = s.wrap(a, err)
				return
			}
			for _, z := range zs {
				out[i] = append(out[i], zone.Canonical(z.Name))
			}
			slices.Sort(out[i])
			out[i] = slices.Compact(out[i])
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// wrap names the account in err when the set has several.
func (s *Set) wrap(a Account, err error) error {
	if len(s.accounts) == 1 {
		return err
	}
	return fmt.Errorf("%s: %w", a.Descriptor.Title, err)
}

// ZoneFor returns the zone holding name, the longest among the zones of
// every account, and the account's provider title ("mijn.host"). A name no
// account holds is an error listing each account's zones; so is a zone
// held by several accounts, since the set cannot tell which one DNS
// serves.
func (s *Set) ZoneFor(ctx context.Context, name string) (string, string, error) {
	i, z, err := s.find(ctx, name)
	if err != nil {
		return "", "", err
	}
	return z, s.accounts[i].Descriptor.Title, nil
}

// find returns the index of the account holding name and the zone.
func (s *Set) find(ctx context.Context, name string) (int, string, error) {
	if len(s.accounts) == 0 {
		return 0, "", errors.New("no provider account is configured")
	}
	lists, err := s.zones(ctx)
	if err != nil {
		return 0, "", fmt.Errorf("listing zones: %w", err)
	}
	name = zone.Canonical(name)
	best, holders := "", []int(nil)
	for i, zs := range lists {
		switch z := zone.Longest(name, zs); {
		case z == "" || len(z) < len(best):
		case len(z) > len(best):
			best, holders = z, []int{i}
		default:
			holders = append(holders, i)
		}
	}
	switch {
	case len(holders) == 1:
		return holders[0], best, nil
	case len(holders) > 1:
		var titles []string
		for _, i := range holders {
			titles = append(titles, s.accounts[i].Descriptor.Title)
		}
		return 0, "", fmt.Errorf("zone %s of %s is in several accounts (%s): keep the providers whose account serves it in ACME_HOOK_PROVIDER", best, name, strings.Join(titles, ", "))
	case len(s.accounts) == 1:
		return 0, "", fmt.Errorf("no zone of this account holds %s (account zones: %s)", name, shown(lists[0]))
	}
	var parts []string
	for i, a := range s.accounts {
		parts = append(parts, a.Descriptor.Title+" zones: "+shown(lists[i]))
	}
	return 0, "", fmt.Errorf("no account holds %s (%s)", name, strings.Join(parts, "; "))
}

// shown is a zone list for an error: at most maxShown zones.
func shown(zs []string) string {
	if len(zs) == 0 {
		return "none"
	}
	if len(zs) > maxShown {
		zs = append(slices.Clip(zs[:maxShown]), "…")
	}
	return strings.Join(zs, " ")
}

// account returns the account that holds zone z.
func (s *Set) account(ctx context.Context, z string) (Account, error) {
	if len(s.accounts) == 1 {
		return s.accounts[0], nil // it reports a zone it lacks itself
	}
	i, _, err := s.find(ctx, z)
	if err != nil {
		return Account{}, err
	}
	return s.accounts[i], nil
}

// ListZones returns the zones of every account, sorted; a zone in several
// accounts is listed once.
func (s *Set) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	lists, err := s.zones(ctx)
	if err != nil {
		return nil, err
	}
	all := slices.Sorted(slices.Values(slices.Concat(lists...)))
	var out []libdns.Zone
	for _, z := range slices.Compact(all) {
		out = append(out, libdns.Zone{Name: z})
	}
	return out, nil
}

// GetRecords returns the records of zone from the account that holds it.
func (s *Set) GetRecords(ctx context.Context, z string) ([]libdns.Record, error) {
	a, err := s.account(ctx, z)
	if err != nil {
		return nil, err
	}
	recs, err := a.Provider.GetRecords(ctx, z)
	return recs, s.wrapErr(a, err)
}

// AppendRecords appends recs in zone at the account that holds it.
func (s *Set) AppendRecords(ctx context.Context, z string, recs []libdns.Record) ([]libdns.Record, error) {
	a, err := s.account(ctx, z)
	if err != nil {
		return nil, err
	}
	out, err := a.Provider.AppendRecords(ctx, z, recs)
	return out, s.wrapErr(a, err)
}

// SetRecords sets recs in zone at the account that holds it.
func (s *Set) SetRecords(ctx context.Context, z string, recs []libdns.Record) ([]libdns.Record, error) {
	a, err := s.account(ctx, z)
	if err != nil {
		return nil, err
	}
	out, err := a.Provider.SetRecords(ctx, z, recs)
	return out, s.wrapErr(a, err)
}

// DeleteRecords deletes recs in zone at the account that holds it.
func (s *Set) DeleteRecords(ctx context.Context, z string, recs []libdns.Record) ([]libdns.Record, error) {
	a, err := s.account(ctx, z)
	if err != nil {
		return nil, err
	}
	out, err := a.Provider.DeleteRecords(ctx, z, recs)
	return out, s.wrapErr(a, err)
}

func (s *Set) wrapErr(a Account, err error) error {
	if err == nil {
		return nil
	}
	return s.wrap(a, err)
}

var _ Provider = (*Set)(nil)
