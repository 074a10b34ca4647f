// Package realtimeregister is a libdns provider for Realtime Register DNS
// (REST API v2), BASIC and PREMIUM zones alike.
//
// Realtime Register replaces a zone's whole record set on every write, so
// this provider reads the zone, changes only the records it was asked to
// change, and sends every other record back exactly as it was read; the
// zone's system records (SOA and apex NS, "defaultRecords") are never sent.
// Writes to one zone are serialised within the process, and concurrent
// calls are coalesced into as few writes as possible. Each call is one
// whole-zone replacement, so a failed call changes nothing.
//
// Credentials are an API key, or a username "customer/login" with its
// password (sent in a session by default, or with every request).
//
// Zones are the account's DNS zones. A zone argument below a zone
// ("sub.example.com.") is accepted and works on the records under it.
// Record names are relative to the zone passed; returned records are typed
// (libdns.TXT, libdns.Address, libdns.MX, …) and TXT text is unquoted and
// unescaped.
package realtimeregister

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	rtr "github.com/acme-dns-hook/acme-dns-hook/internal/api/realtimeregister"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/zone"
)

// Provider reaches one Realtime Register account. Populate the fields and
// use it; it is safe for concurrent use. Changing fields after first use has
// no effect.
type Provider struct {
	// APIKey is an API key from the Realtime Register portal. Give it, or
	// Username and Password.
	APIKey string `json:"api_key,omitempty"`
	// Username is "customer/login": the customer handle and the login name
	// of a user.
	Username string `json:"username,omitempty"`
	// Password is that user's password.
	Password string `json:"password,omitempty"`
	// Auth chooses how Username and Password are used: "session" (default)
	// opens a session and sends only its key; "basic" sends them with every
	// request.
	Auth string `json:"auth,omitempty"`
	// APIURL overrides the API root (default https://api.yoursrs.com/v2/).
	APIURL string `json:"api_url,omitempty"`
	// OTE selects the test environment https://api.yoursrs-ote.com/v2/.
	OTE bool `json:"ote,omitempty"`
	// ZoneService forces "BASIC" or "PREMIUM" zones. Empty uses the zone that
	// serves the name when a name has both.
	ZoneService string `json:"zone_service,omitempty"`
	// TTL in seconds for records created without one (default 120; the API's
	// minimum is 60).
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

// descriptor declares every setting of Provider once, with the rules
// between them; every surface (the environment, Caddy, help, README) is
// derived from it.
var descriptor = &settings.Descriptor{
	Name:  "realtimeregister",
	Title: "Realtime Register",
	Env:   "REALTIMEREGISTER_",
	Short: "api_key",
	Settings: []settings.Setting{
		{Key: "api_key", Secret: true, Help: "an API key from the Realtime Register portal"},
		{Key: "username", Format: customerLogin, Help: "the customer/login of an API user (instead of an API key)"},
		{Key: "password", Secret: true, Help: "that user's password"},
		{Key: "auth", Choices: []string{"session", "basic"}, Requires: "username", Default: "session", Help: "how username and password are sent: a session opened once and renewed after 30 minutes idle or a 401, or Basic auth with every request"},
		{Key: "api_url", Format: api.CheckURL, Default: rtr.ProductionURL, Help: "the API root"},
		{Key: "ote", Kind: settings.Bool, Help: "use the test environment " + rtr.OTEURL},
		{Key: "zone_service", Choices: []string{rtr.ServiceBasic, rtr.ServicePremium}, Help: "which zone to use when a name has both"},
		{Key: "ttl", Kind: settings.Seconds, Min: 60, Max: 86400, Default: "120", Help: "the TTL of challenge records"},
	},
	OneOf:     [][]string{{"api_key"}, {"username", "password"}},
	Exclusive: [][2]string{{"ote", "api_url"}},
	New:       func() any { return new(Provider) },
}

func init() { settings.Register(descriptor) }

// customerLogin checks a username: customer handle, slash, login name.
func customerLogin(v string) error {
	if c, l, ok := strings.Cut(v, "/"); !ok || c == "" || l == "" || strings.Contains(l, "/") {
		return errors.New("use customer/login (customer handle, slash, login name), e.g. mycustomer/acme")
	}
	return nil
}

// build validates the configuration and makes the engine; the first call of
// a method calls it, and calls it again while it fails.
func (p *Provider) build() (*zone.Engine, error) {
	c, service, err := p.client()
	if err != nil {
		return nil, err
	}
	e, err := zone.New(&backend{c: c, id: "realtimeregister " + c.Endpoint(), service: service}, zone.Options{
		DefaultTTL:  time.Duration(p.TTL) * time.Second,
		Lock:        p.Lock,
		GroupWindow: p.GroupWindow,
		ZoneList:    p.ZoneList,
		Account:     descriptor.Fingerprint(p),
	})
	if err != nil {
		return nil, fmt.Errorf("realtimeregister: %w", err)
	}
	return e, nil
}

// client validates the configuration and builds the API client.
func (p *Provider) client() (*rtr.Client, string, error) {
	if err := descriptor.Check(p, settings.Keys, nil); err != nil {
		return nil, "", fmt.Errorf("realtimeregister: %w", err)
	}
	key, user := strings.TrimSpace(p.APIKey), strings.TrimSpace(p.Username)
	service := strings.ToUpper(strings.TrimSpace(p.ZoneService))
	cred := rtr.Credentials{APIKey: key, Username: user, Password: p.Password}
	switch strings.ToLower(strings.TrimSpace(p.Auth)) {
	case "session":
		cred.Auth = rtr.AuthSession
	case "basic":
		cred.Auth = rtr.AuthBasic
	}
	c, err := rtr.New(cred, rtr.Options{BaseURL: p.APIURL, OTE: p.OTE, HTTPClient: p.HTTPClient, Retry: p.retry})
	if err != nil {
		return nil, "", fmt.Errorf("realtimeregister: %w", err)
	}
	return c, service, nil
}

// GetRecords returns every record at or below zone, without the zone's
// system SOA and NS records.
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

// ListZones returns the account's DNS zones (of ZoneService, if set) with a
// trailing dot; a name with a BASIC and a PREMIUM zone is listed once.
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	return p.front().ListZones(ctx)
}

// front is how the methods reach the engine: built on first use, its errors
// prefixed with "realtimeregister: " and explained.
func (p *Provider) front() zone.Front {
	return zone.Front{Lazy: &p.engine, Build: p.build, Prefix: "realtimeregister", Explain: explain}
}

// explain adds the fix to errors whose cause is the configuration.
func explain(err error) error {
	switch {
	case api.StatusOf(err) == http.StatusUnauthorized:
		return fmt.Errorf("the credentials were rejected (check api_key / REALTIMEREGISTER_API_KEY, or username and password, and that they belong to this environment: production or OTE): %w", err)
	case api.StatusOf(err) == http.StatusForbidden:
		return fmt.Errorf("the API user lacks a permission (it needs VIEW_DNS_ZONE and UPDATE_DNS_ZONE, and VIEW_DOMAIN for domain-linked zones): %w", err)
	case errors.Is(err, rtr.ErrAmbiguousZone):
		return fmt.Errorf("%w (set zone_service / REALTIMEREGISTER_ZONE_SERVICE to BASIC or PREMIUM)", err)
	}
	return err
}

// backend adapts the Realtime Register client to the zone engine
// (whole-zone flavour).
type backend struct {
	c       *rtr.Client
	id      string
	service string // forced service, or ""

	mu    sync.Mutex
	known map[string][]rtr.Zone // zone name -> its zones, from the last listing
	ids   map[string]int64      // zone name -> the zone in use
}

func (b *backend) ID() string { return b.id }

// Zones lists the account's zone names and remembers the zones behind each.
// The engine runs one listing at a time and shares it between callers.
func (b *backend) Zones(ctx context.Context) ([]string, error) { return b.list(ctx) }

func (b *backend) list(ctx context.Context) ([]string, error) {
	zs, err := b.c.ZoneNames(ctx, b.service)
	if err != nil {
		return nil, err
	}
	known := map[string][]rtr.Zone{}
	var names []string
	for _, z := range zs {
		name := strings.ToLower(z.Name)
		if b.service != "" && z.Service != "" && z.Service != b.service {
			continue
		}
		if _, ok := known[name]; !ok {
			names = append(names, name)
		}
		known[name] = append(known[name], z)
	}
	b.mu.Lock()
	b.known = known
	b.mu.Unlock()
	return names, nil
}

// resolve returns the id of the zone used for name (no trailing dot). Unless
// fresh, a zone already resolved or the only one listed is taken as is.
func (b *backend) resolve(ctx context.Context, name string, fresh bool) (int64, error) {
	b.mu.Lock()
	if !fresh {
		if id, ok := b.ids[name]; ok {
			b.mu.Unlock()
			return id, nil
		}
		if zs := b.known[name]; len(zs) == 1 {
			b.setID(name, zs[0].ID)
			b.mu.Unlock()
			return zs[0].ID, nil
		}
	}
	b.mu.Unlock()
	z, err := b.c.FindZone(ctx, name, b.service)
	if err != nil {
		return 0, err
	}
	b.mu.Lock()
	b.setID(name, z.ID)
	b.mu.Unlock()
	return z.ID, nil
}

// setID records the zone in use for name. Callers hold b.mu.
func (b *backend) setID(name string, id int64) {
	if b.ids == nil {
		b.ids = map[string]int64{}
	}
	b.ids[name] = id
}

func (b *backend) Read(ctx context.Context, zoneName string) ([]zone.Record, error) {
	name := strings.TrimSuffix(strings.ToLower(zoneName), ".")
	id, err := b.resolve(ctx, name, false)
	if err != nil {
		return nil, err
	}
	z, err := b.c.Zone(ctx, id)
	if rtr.IsNotFound(err) {
		// The zone was removed and perhaps re-created: find it again.
		if id, err = b.resolve(ctx, name, true); err != nil {
			return nil, err
		}
		z, err = b.c.Zone(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	// defaultRecords (SOA, apex NS) are left out: they are the system's, and
	// what Read returns is what Write sends back.
	out := make([]zone.Record, len(z.Records))
	for i, r := range z.Records {
		ttl := r.TTL
		if ttl == 0 {
			ttl = z.TTL // [UNKNOWN] tolerated: a record without ttl has the zone's
		}
		out[i] = zone.Record{
			RR: libdns.RR{
				Name: zone.ReadName(r.Name, name),
				Type: r.Type,
				TTL:  time.Duration(ttl) * time.Second,
				Data: r.Data(),
			},
			Raw: r.Raw,
		}
	}
	return out, nil
}

func (b *backend) Write(ctx context.Context, zoneName string, recs []zone.Record) error {
	name := strings.TrimSuffix(strings.ToLower(zoneName), ".")
	id, err := b.resolve(ctx, name, false)
	if err != nil {
		return err
	}
	raws := make([]json.RawMessage, len(recs))
	for i, r := range recs {
		if r.Raw != nil {
			raws[i] = r.Raw
			continue
		}
		rec, err := rtr.FromData(r.RR.Name, r.RR.Type, int(r.RR.TTL/time.Second), r.RR.Data, name)
		if err != nil {
			return err
		}
		if raws[i], err = rtr.EncodeRecord(rec); err != nil {
			return err
		}
	}
	return b.c.UpdateZone(ctx, id, raws)
}

var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordSetter   = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ libdns.ZoneLister     = (*Provider)(nil)
	_ zone.ZoneWriter       = (*backend)(nil)
)
