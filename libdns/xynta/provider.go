// Package xynta is a libdns provider for Xynta (xYnta) DNS. It is
// EXPERIMENTAL: Xynta's DNS calls are known only from one public client
// tested against production, not from Xynta's documentation, and this
// provider has not been run against a live account.
//
// Xynta replaces a domain's whole zone on every write (a=edit-dns-zone), so
// this provider reads the zone, changes only the records it was asked to
// change, and sends every other record back exactly as it was read (as
// opaque JSON, unknown fields included). Its safety rails:
//
//   - it never sends an empty zone, and never a zone that lost a record it
//     should have kept (such a write is refused before anything is sent);
//   - after each write it reads the zone back and fails loudly if the result
//     differs from what was sent;
//   - writes to one zone are serialised within the process (and across
//     processes with Lock), and concurrent calls are coalesced into as few
//     writes as possible.
//
// A change made to the zone by someone else between this provider's read and
// its write is lost: the API offers no way to detect it. Removing the last
// record of a zone is refused.
//
// Xynta binds the credential hash to one whitelisted IPv4 address, so the
// provider connects over IPv4 only (unless HTTPClient brings a Transport of
// its own).
//
// Zones are the account's domains. A zone argument below a domain
// ("sub.example.nl.") is accepted and works on the records under it. Record
// names are relative to the zone passed; returned records are typed
// (libdns.TXT, libdns.Address, …) and TXT text is unquoted.
package xynta

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/xynta"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/zone"
)

// Provider reaches one Xynta account. Populate the fields and use it; it is
// safe for concurrent use. Changing fields after first use has no effect.
type Provider struct {
	// UID is the UserID shown in Mijn Xynta under ACCOUNT > API > API Settings.
	UID string `json:"uid,omitempty"`
	// Hash is the IPHash of the whitelisted IPv4 address this host sends from.
	Hash string `json:"hash,omitempty"`
	// APIURL overrides the API endpoint (default https://api.xynta.com/).
	APIURL string `json:"api_url,omitempty"`
	// TTL in seconds for records created without one (default 120).
	TTL int `json:"ttl,omitempty"`

	// HTTPClient sends the API requests. nil, or a client without Transport,
	// connects over IPv4 only; a client with a Transport is used as is.
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
//
// Both credentials are secret. The hash is the real credential; the uid is
// an account number, but Xynta's help centre treats uid and hash as a pair
// of secrets, the API client redacts both, and keeping the uid out of
// output costs nothing.
var descriptor = &settings.Descriptor{
	Name:         "xynta",
	Title:        "Xynta (experimental)",
	Experimental: true,
	Env:          "XYNTA_",
	Settings: []settings.Setting{
		{Key: "uid", Secret: true, Required: true, Help: "the UserID from Mijn Xynta (ACCOUNT > API > API Settings)"},
		{Key: "hash", Secret: true, Required: true, Help: "the IPHash Mijn Xynta shows for the whitelisted IPv4 address this host sends from"},
		{Key: "api_url", Format: api.CheckURL, Default: xynta.DefaultURL, Help: "the API endpoint"},
		{Key: "ttl", Kind: settings.Seconds, Min: 1, Max: 86400, Default: "120", Help: "the TTL of challenge records"},
	},
	New: func() any { return new(Provider) },
}

func init() { settings.Register(descriptor) }

// build validates the configuration and makes the engine; the first call of
// a method calls it, and calls it again while it fails.
func (p *Provider) build() (*zone.Engine, error) {
	if err := descriptor.Check(p, settings.Keys, nil); err != nil {
		return nil, fmt.Errorf("xynta: %w", err)
	}
	c, err := xynta.New(p.UID, p.Hash, xynta.Options{BaseURL: p.APIURL, HTTPClient: p.HTTPClient, Retry: p.retry})
	if err != nil {
		return nil, fmt.Errorf("xynta: %w", err)
	}
	e, err := zone.New(&backend{c: c, id: "xynta " + c.Endpoint()}, zone.Options{
		DefaultTTL:  time.Duration(p.TTL) * time.Second,
		Lock:        p.Lock,
		GroupWindow: p.GroupWindow,
		ZoneList:    p.ZoneList,
		Account:     descriptor.Fingerprint(p),
		// The API's behaviour on writes is unconfirmed: check every one.
		VerifyWrites: true,
	})
	if err != nil {
		return nil, fmt.Errorf("xynta: %w", err)
	}
	return e, nil
}

// GetRecords returns every record at or below zone.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	return p.front().GetRecords(ctx, zone)
}

// AppendRecords adds records without touching existing ones; a record that
// already exists (same name, type and data) is not added twice. It returns
// the input records as they now exist, once the zone read back holds them.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.front().AppendRecords(ctx, zone, recs)
}

// SetRecords makes each (name, type) set in recs hold exactly those records
// and leaves every other record untouched. It is one zone write: either all
// of it is sent or none.
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.front().SetRecords(ctx, zone, recs)
}

// DeleteRecords removes the records matching an input exactly (empty type or
// data, or zero TTL, match any) and returns those removed; absent records are
// ignored. Deleting every record of a zone is refused.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.front().DeleteRecords(ctx, zone, recs)
}

// ListZones returns the account's domains as zones with a trailing dot.
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	return p.front().ListZones(ctx)
}

// front is how the methods reach the engine: built on first use, its errors
// prefixed with "xynta: ".
func (p *Provider) front() zone.Front {
	return zone.Front{Lazy: &p.engine, Build: p.build, Prefix: "xynta"}
}

// backend adapts the Xynta client to the zone engine (whole-zone flavour).
type backend struct {
	c  *xynta.Client
	id string

	mu      sync.Mutex
	domains []xynta.Domain // as last listed
}

func (b *backend) ID() string { return b.id }

func (b *backend) Zones(ctx context.Context) ([]string, error) {
	ds, err := b.c.Domains(ctx)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.domains = ds
	b.mu.Unlock()
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Name
	}
	return out, nil
}

// domain returns the Domain/Tld split of an account zone, as the account
// list gives it: the longest account domain holding the zone (the zone
// itself, as the engine only passes account zones).
func (b *backend) domain(ctx context.Context, z string) (xynta.Domain, error) {
	for refreshed := false; ; refreshed = true {
		b.mu.Lock()
		ds := b.domains
		b.mu.Unlock()
		if d, ok := xynta.SplitName(z, ds); ok && d.Name == strings.TrimSuffix(z, ".") {
			return d, nil
		}
		if refreshed {
			return xynta.Domain{}, fmt.Errorf("%s is not a domain of this account", z)
		}
		if _, err := b.Zones(ctx); err != nil {
			return xynta.Domain{}, err
		}
	}
}

func (b *backend) Read(ctx context.Context, z string) ([]zone.Record, error) {
	d, err := b.domain(ctx, z)
	if err != nil {
		return nil, err
	}
	raws, err := b.c.ShowDNSZone(ctx, d)
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
				Data: data(r.Type, r.Value),
			},
			Raw: r.Raw,
		}
	}
	return out, nil
}

// Write sends the whole zone. Kept records go back as the raw JSON they were
// read with; new ones are encoded with a name relative to the zone ("@" for
// the apex). It never sends an empty zone: the engine may plan one when the
// last record is deleted, and what Xynta does with it is unknown.
func (b *backend) Write(ctx context.Context, z string, recs []zone.Record) error {
	if len(recs) == 0 {
		return fmt.Errorf("refusing to write zone %s without any record: Xynta might wipe the zone; remove the last record in Mijn Xynta if you mean to", z)
	}
	d, err := b.domain(ctx, z)
	if err != nil {
		return err
	}
	raws := make([]json.RawMessage, len(recs))
	for i, r := range recs {
		if r.Raw != nil {
			raws[i] = r.Raw
			continue
		}
		raws[i] = xynta.EncodeRecord(xynta.Record{
			Name:  relative(r.RR.Name, z),
			Type:  r.RR.Type,
			Value: r.RR.Data,
			TTL:   int(r.RR.TTL / time.Second),
		})
	}
	return b.c.EditDNSZone(ctx, d, raws)
}

// relative writes an absolute name the way the known client's records
// are named: "@" or relative to the domain [CONFIRMED-CLIENT for "@" and
// "www"; INFERRED for deeper names such as "_acme-challenge.sub"].
func relative(name, z string) string {
	n := zone.Canonical(name)
	if n == zone.Canonical(z) {
		return "@"
	}
	return strings.TrimSuffix(n, "."+zone.Canonical(z))
}

// data turns Xynta's value into libdns data. [UNKNOWN] how TXT values are
// quoted: a value that is entirely zone-file character-strings ("a" "b") is
// read as their text; anything else is taken literally, as sent.
func data(typ, value string) string {
	if typ == "TXT" {
		if s, ok := unquoteTXT(value); ok {
			return s
		}
	}
	return value
}

// unquoteTXT parses one or more double-quoted strings separated by blanks,
// with \" and \\ escapes, and returns their concatenation.
func unquoteTXT(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(v); {
		if v[i] == ' ' || v[i] == '\t' {
			i++
			continue
		}
		if v[i] != '"' {
			return "", false
		}
		i++
		for {
			if i >= len(v) {
				return "", false
			}
			c := v[i]
			if c == '"' {
				i++
				break
			}
			if c == '\\' && i+1 < len(v) && (v[i+1] == '"' || v[i+1] == '\\') {
				c = v[i+1]
				i++
			}
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), true
}

var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordSetter   = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ libdns.ZoneLister     = (*Provider)(nil)
	_ zone.ZoneWriter       = (*backend)(nil)
)
