// Package mijnhost is a libdns provider for mijn.host DNS (API v2).
//
// mijn.host replaces a domain's whole record set on every write, so this
// provider reads the zone, changes only the records it was asked to change,
// and sends every other record back exactly as it was read. Writes to one
// zone are serialised within the process, and concurrent calls are coalesced
// into as few writes as possible. Writes are not atomic across calls, but each
// call is one whole-zone replacement, so a failed call changes nothing.
//
// Zones are the account's domains. A zone argument below a domain
// ("sub.example.com.") is accepted and works on the records under it.
// Record names are relative to the zone passed; returned records are typed
// (libdns.TXT, libdns.Address, libdns.MX, …) and TXT text is unquoted.
package mijnhost

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/zone"
)

// Provider reaches one mijn.host account. Populate the fields and use it;
// it is safe for concurrent use. Changing fields after first use has no effect.
type Provider struct {
	// APIKey is the key from the mijn.host control panel ("API Access").
	APIKey string `json:"api_key,omitempty"`
	// APIURL overrides the API root (default https://mijn.host/api/v2/).
	APIURL string `json:"api_url,omitempty"`
	// TTL in seconds for records created without one (default 120).
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
	retry  api.Retry // zero value: the API client's defaults; tests shorten it
}

// descriptor declares every setting of Provider once; every surface (the
// environment, Caddy, help, README) is derived from it.
var descriptor = &settings.Descriptor{
	Name:  "mijnhost",
	Title: "mijn.host",
	Env:   "MIJNHOST_",
	Short: "api_key",
	Settings: []settings.Setting{
		{Key: "api_key", Secret: true, Required: true, Help: "the API key from the mijn.host control panel (API Access)"},
		{Key: "api_url", Format: api.CheckURL, Default: mijnhost.DefaultURL, Help: "the API root"},
		{Key: "ttl", Kind: settings.Seconds, Min: 1, Max: 86400, Default: "120", Help: "the TTL of challenge records"},
	},
	New: func() any { return new(Provider) },
}

func init() { settings.Register(descriptor) }

// build validates the configuration and makes the engine; the first call of
// a method calls it, and calls it again while it fails.
func (p *Provider) build() (*zone.Engine, error) {
	if err := descriptor.Check(p, settings.Keys, nil); err != nil {
		return nil, fmt.Errorf("mijnhost: %w", err)
	}
	c, err := mijnhost.New(p.APIKey, mijnhost.Options{BaseURL: p.APIURL, HTTPClient: p.HTTPClient, Retry: p.retry})
	if err != nil {
		return nil, fmt.Errorf("mijnhost: %w", err)
	}
	e, err := zone.New(&backend{c: c, id: "mijnhost " + c.Endpoint()}, zone.Options{
		DefaultTTL:  time.Duration(p.TTL) * time.Second,
		Lock:        p.Lock,
		GroupWindow: p.GroupWindow,
		ZoneList:    p.ZoneList,
		Account:     descriptor.Fingerprint(p),
	})
	if err != nil {
		return nil, fmt.Errorf("mijnhost: %w", err)
	}
	return e, nil
}

// GetRecords returns every record at or below zone.
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
// and leaves every other record untouched. It is one zone write: either all
// of it happens or none.
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.front().SetRecords(ctx, zone, recs)
}

// DeleteRecords removes the records matching an input exactly (empty type or
// data, or zero TTL, match any) and returns those removed; absent records are
// ignored.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.front().DeleteRecords(ctx, zone, recs)
}

// ListZones returns the account's domains as zones with a trailing dot.
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	return p.front().ListZones(ctx)
}

// front is how the methods reach the engine: built on first use, its errors
// prefixed with "mijnhost: " and explained.
func (p *Provider) front() zone.Front {
	return zone.Front{Lazy: &p.engine, Build: p.build, Prefix: "mijnhost", Explain: explain}
}

// explain adds the fix to errors whose cause is the credential.
func explain(err error) error {
	switch api.StatusOf(err) {
	case http.StatusUnauthorized:
		return fmt.Errorf("the API key was rejected (check MIJNHOST_API_KEY / api_key): %w", err)
	case http.StatusForbidden:
		return fmt.Errorf("the API key may not do this (check its permissions in the mijn.host panel): %w", err)
	}
	return err
}

// backend adapts the mijn.host client to the zone engine (whole-zone flavour).
type backend struct {
	c  *mijnhost.Client
	id string
}

func (b *backend) ID() string { return b.id }

func (b *backend) Zones(ctx context.Context) ([]string, error) {
	ds, err := b.c.Domains(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Domain
	}
	return out, nil
}

func (b *backend) Read(ctx context.Context, z string) ([]zone.Record, error) {
	raws, err := b.c.Records(ctx, z)
	if err != nil {
		return nil, err
	}
	out := make([]zone.Record, len(raws))
	for i, r := range raws {
		out[i] = zone.Record{
			RR: libdns.RR{
				Name: zone.ReadName(r.Name, z),
				Type: r.Type,
				TTL:  time.Duration(r.TTL) * time.Second,
				Data: r.Value,
			},
			Raw: r.Raw,
		}
	}
	return out, nil
}

func (b *backend) Write(ctx context.Context, z string, recs []zone.Record) error {
	raws := make([]json.RawMessage, len(recs))
	for i, r := range recs {
		if r.Raw != nil {
			raws[i] = r.Raw
			continue
		}
		raws[i] = mijnhost.EncodeRecord(mijnhost.Record{
			Type:  r.RR.Type,
			Name:  zone.Canonical(r.RR.Name), // dotted FQDN: the form every client sends
			Value: r.RR.Data,
			TTL:   int(r.RR.TTL / time.Second),
		})
	}
	return b.c.ReplaceRecords(ctx, z, raws)
}

var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordSetter   = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ libdns.ZoneLister     = (*Provider)(nil)
	_ zone.ZoneWriter       = (*backend)(nil)
)
