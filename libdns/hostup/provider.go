// Package hostup is a libdns provider for HostUp DNS (cloud.hostup.se, API v2).
//
// HostUp creates and deletes one record at a time, so this provider reads
// the zone, works out which records an operation adds and which it removes,
// and sends exactly those calls: records it was not asked to change are
// never touched. A record that exists already (same name, type and data) is
// not created again, since the API refuses exact duplicates; deletes go by
// the record's id after matching name, type and data (and TTL, when given).
// Writes to one zone are serialised within the process, and concurrent calls
// are coalesced into one read of the zone.
//
// Per-record writes are not atomic: when a call fails halfway, the error
// says how many of its changes were made, and the same call again completes
// it. A zone holds at most 200 customer-managed records (SOA and NS records
// not counted); an operation that would exceed that fails before anything
// is sent, with an error saying so.
//
// Zones are the account's DNS zones. A zone argument below one
// ("sub.example.com.") is accepted and works on the records under it.
// Record names are relative to the zone passed; returned records are typed
// (libdns.TXT, libdns.Address, libdns.MX, …) and TXT text is unquoted. The
// zone's SOA record is not returned. Record types HostUp accepts: A, AAAA,
// CNAME, ALIAS, MX, TXT, NS, SRV, CAA and TLSA.
//
// The API key needs the scopes read:dns, write:dns and read:domains.
package hostup

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/hostup"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/zone"
)

// Provider reaches one HostUp account. Populate the fields and use it; it
// is safe for concurrent use. Changing fields after first use has no effect.
type Provider struct {
	// APIKey is an API key from the HostUp control panel with the scopes
	// read:dns, write:dns and read:domains.
	APIKey string `json:"api_key,omitempty"`
	// APIURL overrides the API root (default https://cloud.hostup.se/api/v2/).
	APIURL string `json:"api_url,omitempty"`
	// TTL in seconds for records created without one: 60 to 86400,
	// default 120.
	TTL int `json:"ttl,omitempty"`

	// HTTPClient sends the API requests (default http.DefaultClient).
	HTTPClient *http.Client `json:"-"`
	// Lock, when set, also serialises writes across processes; see zone.Options.
	Lock func(ctx context.Context, key string) (unlock func(), err error) `json:"-"`
	// GroupWindow is how long the first write to an idle zone waits for
	// concurrent calls to join it; see zone.Options.GroupWindow (zero: the
	// default, negative: no wait).
	GroupWindow time.Duration `json:"-"`
	// ZoneList, when set, keeps the account's zone list beyond the
	// process; see zone.Options.ZoneList.
	ZoneList zone.ZoneListStore `json:"-"`

	engine zone.Lazy // built by build on first use
	retry  api.Retry // zero value: hostup.DefaultRetry, six tries within a minute
}

// descriptor declares every setting of Provider once; every surface (the
// environment, Caddy, help, README) is derived from it. The TTL range is
// the one HostUp accepts (HostUp's own acme.sh hook enforces it; lower TTLs
// are refused by the API).
var descriptor = &settings.Descriptor{
	Name:  "hostup",
	Title: "HostUp",
	Env:   "HOSTUP_",
	Short: "api_key",
	Settings: []settings.Setting{
		{Key: "api_key", Secret: true, Required: true, Help: "an API key from the HostUp control panel with the scopes read:dns, write:dns and read:domains"},
		{Key: "api_url", Format: api.CheckURL, Default: hostup.DefaultURL, Help: "the API root"},
		{Key: "ttl", Kind: settings.Seconds, Min: minTTL, Max: maxTTL, Default: "120", Help: "the TTL of challenge records"},
	},
	New: func() any { return new(Provider) },
}

func init() { settings.Register(descriptor) }

// minTTL and maxTTL are the TTLs HostUp accepts.
const (
	minTTL = 60
	maxTTL = 86400
)

// build validates the configuration and makes the engine; the first call of
// a method calls it, and calls it again while it fails.
func (p *Provider) build() (*zone.Engine, error) {
	if err := descriptor.Check(p, settings.Keys, nil); err != nil {
		return nil, fmt.Errorf("hostup: %w", err)
	}
	c, err := hostup.New(p.APIKey, hostup.Options{BaseURL: p.APIURL, HTTPClient: p.HTTPClient, Retry: p.retry})
	if err != nil {
		return nil, fmt.Errorf("hostup: %w", err)
	}
	e, err := zone.New(&backend{c: c, id: "hostup " + c.Endpoint(), zones: map[string]hostup.Zone{}}, zone.Options{
		DefaultTTL:  time.Duration(p.TTL) * time.Second,
		Lock:        p.Lock,
		GroupWindow: p.GroupWindow,
		ZoneList:    p.ZoneList,
		Account:     descriptor.Fingerprint(p),
	})
	if err != nil {
		return nil, fmt.Errorf("hostup: %w", err)
	}
	return e, nil
}

// GetRecords returns every record at or below zone, except the SOA.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	return p.front().GetRecords(ctx, zone)
}

// AppendRecords adds records without touching existing ones; a record that
// already exists (same name, type and data) is not added twice. It returns
// the input records as they now exist.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.front().AppendRecords(ctx, zone, recs)
}

// SetRecords makes each (name, type) set in recs hold exactly those records
// and leaves every other record untouched: it deletes the records of those
// sets that differ, then creates the missing ones. It is not atomic; after
// a failure the same call again completes it.
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.front().SetRecords(ctx, zone, recs)
}

// DeleteRecords removes the records matching an input exactly (empty type or
// data, or zero TTL, match any) and returns those removed; absent records are
// ignored.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.front().DeleteRecords(ctx, zone, recs)
}

// ListZones returns the account's DNS zones with a trailing dot.
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	return p.front().ListZones(ctx)
}

// front is how the methods reach the engine: built on first use, its errors
// prefixed with "hostup: " and explained.
func (p *Provider) front() zone.Front {
	return zone.Front{Lazy: &p.engine, Build: p.build, Prefix: "hostup", Explain: explain}
}

// explain adds the fix to errors whose cause is the credential.
func explain(err error) error {
	switch api.StatusOf(err) {
	case http.StatusUnauthorized:
		return fmt.Errorf("the API key was rejected (check HOSTUP_API_KEY / api_key): %w", err)
	case http.StatusForbidden:
		return fmt.Errorf("the API key may not do this (check its scopes in the HostUp panel): %w", err)
	}
	return err
}

// backend adapts the HostUp client to the zone engine (per-record flavour).
type backend struct {
	c  *hostup.Client
	id string

	mu    sync.Mutex
	zones map[string]hostup.Zone // by name, lower case, no trailing dot
}

func (b *backend) ID() string { return b.id }

func (b *backend) Zones(ctx context.Context) ([]string, error) {
	zs, err := b.c.Zones(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(zs))
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, z := range zs {
		out[i] = z.Name
		b.zones[key(z.Name)] = z
	}
	return out, nil
}

// zone returns the account zone called name, from the last listing or by
// asking the API for it by name.
func (b *backend) zone(ctx context.Context, name string) (hostup.Zone, error) {
	b.mu.Lock()
	z, ok := b.zones[key(name)]
	b.mu.Unlock()
	if ok {
		return z, nil
	}
	z, err := b.c.FindZone(ctx, key(name))
	if err != nil {
		return hostup.Zone{}, err
	}
	b.remember(z)
	return z, nil
}

func (b *backend) remember(z hostup.Zone) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.zones[key(z.Name)] = z
}

func (b *backend) forget(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.zones, key(name))
}

func (b *backend) Read(ctx context.Context, name string) ([]zone.Record, error) {
	z, err := b.zone(ctx, name)
	if err != nil {
		return nil, err
	}
	list, err := b.c.Records(ctx, z.ID, hostup.Filter{})
	if api.StatusOf(err) == http.StatusNotFound {
		// The zone was re-created under a new id: look it up again.
		b.forget(name)
		if z, err = b.zone(ctx, name); err != nil {
			return nil, err
		}
		list, err = b.c.Records(ctx, z.ID, hostup.Filter{})
	}
	if err != nil {
		return nil, err
	}
	if list.Zone.RecordLimit > 0 {
		z.RecordLimit = list.Zone.RecordLimit
		b.remember(z)
	}
	out := make([]zone.Record, 0, len(list.Records))
	for _, r := range list.Records {
		if r.Type == "SOA" {
			continue // managed by HostUp, not a customer record
		}
		out = append(out, zone.Record{RR: toRR(r.Record, name), Raw: r.Raw, ID: r.ID})
	}
	return out, nil
}

func (b *backend) Create(ctx context.Context, name string, rr libdns.RR) (zone.Record, error) {
	nr, err := toNew(rr, name)
	if err != nil {
		return zone.Record{}, err
	}
	z, err := b.zone(ctx, name)
	if err != nil {
		return zone.Record{}, err
	}
	r, err := b.c.CreateRecord(ctx, z.ID, nr)
	if err != nil {
		return zone.Record{}, err
	}
	return zone.Record{RR: toRR(r.Record, name), Raw: r.Raw, ID: r.ID}, nil
}

func (b *backend) Delete(ctx context.Context, name string, r zone.Record) error {
	if r.ID == "" {
		return fmt.Errorf("record %s %s has no id", r.RR.Name, r.RR.Type)
	}
	z, err := b.zone(ctx, name)
	if err != nil {
		return err
	}
	err = b.c.DeleteRecord(ctx, z.ID, r.ID)
	if api.StatusOf(err) == http.StatusNotFound {
		return nil // gone already: what a delete wants
	}
	return err
}

// CheckLimit refuses a change that would leave the zone with more
// customer-managed records than HostUp allows.
func (b *backend) CheckLimit(name string, before, after []zone.Record) error {
	count := func(rs []zone.Record) int {
		n := 0
		for _, r := range rs {
			if r.RR.Type != "NS" && r.RR.Type != "SOA" {
				n++
			}
		}
		return n
	}
	limit := hostup.RecordLimit
	b.mu.Lock()
	if z, ok := b.zones[key(name)]; ok && z.RecordLimit > 0 {
		limit = z.RecordLimit
	}
	b.mu.Unlock()
	if n, was := count(after), count(before); n > limit && n > was {
		return &hostup.LimitError{Zone: zone.Canonical(name), Count: n, Limit: limit}
	}
	return nil
}

// toNew converts an engine record (absolute name) into a create body:
// the name relative to the zone ("@" for the apex), MX and SRV numbers in
// their own fields, targets as full names without trailing dot. Targets
// without a trailing dot are relative to the zone, as in a zone file.
func toNew(rr libdns.RR, zoneName string) (hostup.NewRecord, error) {
	nr := hostup.NewRecord{
		Type:  strings.ToUpper(rr.Type),
		Name:  libdns.RelativeName(zone.Canonical(rr.Name), zone.Canonical(zoneName)),
		Value: rr.Data,
		TTL:   min(max(int(rr.TTL/time.Second), minTTL), maxTTL),
	}
	if nr.Name == "" {
		nr.Name = "@"
	}
	host := func(target string) string {
		if target == "." {
			return target
		}
		return strings.TrimSuffix(libdns.AbsoluteName(strings.TrimSpace(target), zone.Canonical(zoneName)), ".")
	}
	switch nr.Type {
	case "A", "AAAA", "TXT", "CAA", "TLSA":
	case "CNAME", "ALIAS", "NS":
		nr.Value = host(rr.Data)
	case "MX":
		f := strings.Fields(rr.Data)
		if len(f) != 2 {
			return nr, fmt.Errorf("MX data %q is not \"PREFERENCE TARGET\"", rr.Data)
		}
		n, err := strconv.ParseUint(f[0], 10, 16)
		if err != nil {
			return nr, fmt.Errorf("MX data %q: bad preference", rr.Data)
		}
		prio := int(n)
		nr.Priority, nr.Value = &prio, host(f[1])
	case "SRV":
		f := strings.Fields(rr.Data)
		if len(f) != 4 {
			return nr, fmt.Errorf("SRV data %q is not \"PRIORITY WEIGHT PORT TARGET\"", rr.Data)
		}
		var nums [3]int
		for i := range nums {
			n, err := strconv.ParseUint(f[i], 10, 16)
			if err != nil {
				return nr, fmt.Errorf("SRV data %q: %q is not a number from 0 to 65535", rr.Data, f[i])
			}
			nums[i] = int(n)
		}
		nr.Priority, nr.Weight, nr.Port, nr.Value = &nums[0], &nums[1], &nums[2], host(f[3])
	default:
		return nr, fmt.Errorf("HostUp does not support %s records (it takes A, AAAA, CNAME, ALIAS, MX, TXT, NS, SRV, CAA and TLSA)", nr.Type)
	}
	return nr, nil
}

// toRR converts an API record into libdns form with an absolute name:
// targets get their trailing dot back, MX and SRV numbers go into Data.
func toRR(r hostup.Record, zoneName string) libdns.RR {
	rr := libdns.RR{
		Name: hostup.FullName(r.Name, zoneName) + ".",
		Type: r.Type,
		TTL:  time.Duration(r.TTL) * time.Second,
		Data: r.Value,
	}
	dot := func(h string) string {
		if h == "" || strings.HasSuffix(h, ".") {
			return h
		}
		return h + "."
	}
	// withTarget dots the last field of a value that already carries its
	// numbers ("10 mail.example.com"), for APIs that send it that way.
	withTarget := func(v string) string {
		f := strings.Fields(v)
		if len(f) > 0 {
			f[len(f)-1] = dot(f[len(f)-1])
		}
		return strings.Join(f, " ")
	}
	num := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	switch r.Type {
	case "CNAME", "ALIAS", "NS":
		rr.Data = dot(r.Value)
	case "MX":
		if r.Priority == nil {
			rr.Data = withTarget(r.Value)
		} else {
			rr.Data = fmt.Sprintf("%d %s", *r.Priority, dot(r.Value))
		}
	case "SRV":
		if r.Priority == nil && r.Weight == nil && r.Port == nil {
			rr.Data = withTarget(r.Value)
		} else {
			rr.Data = fmt.Sprintf("%d %d %d %s", num(r.Priority), num(r.Weight), num(r.Port), dot(r.Value))
		}
	}
	return rr
}

func key(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordSetter   = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ libdns.ZoneLister     = (*Provider)(nil)
	_ zone.RecordWriter     = (*backend)(nil)
	_ zone.RecordLimiter    = (*backend)(nil)
)
