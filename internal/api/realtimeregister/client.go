// Package realtimeregister is a typed client for the DNS parts of the
// Realtime Register REST API v2 (https://api.yoursrs.com/v2/, test
// environment https://api.yoursrs-ote.com/v2/). It knows nothing about ACME.
//
// It covers zone discovery (the zone listing with its filters and
// pagination, and a domain's link to its zone), reading a zone and replacing
// a zone's record set (POST /v2/dns/zones/{id}/update), with the three
// authentication modes of the API: an API key, HTTP Basic with
// "customer/login" and password, and a session opened with that password.
//
// Where the API's behaviour is not confirmed, the client is tolerant: ids,
// TTLs and priorities may come as numbers or numeric strings; error details
// may be strings or lists; a listing may cap the page size, omit the total
// or repeat a page; the session endpoint may be gone (the client then falls
// back to Basic authentication); missing resources may be reported as the
// documented 400 ObjectDoesNotExist or as a bare 404. Each such place is
// marked [UNKNOWN] in the code.
package realtimeregister

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
)

// Base URLs of the two environments. Their accounts and credentials are
// separate.
const (
	ProductionURL = "https://api.yoursrs.com/v2/"
	OTEURL        = "https://api.yoursrs-ote.com/v2/"
)

// Zone services.
const (
	ServiceBasic   = "BASIC"
	ServicePremium = "PREMIUM"
)

// SessionIdle is how long a session stays valid after its last use. The
// client opens a new session a minute before that, so that a request never
// races the expiry.
const SessionIdle = 30 * time.Minute

const sessionMargin = time.Minute

// PageSize is the page size the client asks listings for. The API's default
// is 10; 250 is reported as its maximum.
const PageSize = 100

// Auth is an authentication mode.
type Auth string

// Authentication modes.
const (
	// AuthAPIKey sends "Authorization: ApiKey <key>" (what every official
	// client uses).
	AuthAPIKey Auth = "apikey"
	// AuthBasic sends "customer/login" and the password as HTTP Basic
	// credentials with every request.
	AuthBasic Auth = "basic"
	// AuthSession opens a session with POST /v2/session (Basic credentials)
	// and sends "Authorization: Session <key>", reusing the session while it
	// is valid and opening a new one after SessionIdle without use or when
	// the API answers 401.
	AuthSession Auth = "session"
)

// Credentials are an API key, or a username ("customer/login") and password.
type Credentials struct {
	APIKey   string
	Username string // customer handle and login name: "customer/login"
	Password string
	// Auth chooses the mode; empty means AuthAPIKey with an API key and
	// AuthSession with a username and password.
	Auth Auth
}

// Options tune a Client; the zero value is production with default retries.
type Options struct {
	// BaseURL overrides the API root; a root without path gets "/v2/".
	BaseURL string
	// OTE selects the test environment OTEURL (not together with BaseURL).
	OTE        bool
	HTTPClient *http.Client // default http.DefaultClient
	Retry      api.Retry
	Logger     *slog.Logger
	// Now is the clock that times session idleness; default time.Now.
	Now func() time.Time
}

// Errors of New and of zone discovery.
var (
	ErrCredentials = errors.New("credentials are missing: give an API key, or a username (customer/login) and a password")
	// ErrNoZone is wrapped by FindZone when no zone of the wanted name and
	// service exists.
	ErrNoZone = errors.New("no DNS zone of that name")
	// ErrAmbiguousZone is wrapped by FindZone when a name has zones of both
	// services and nothing tells which one serves it.
	ErrAmbiguousZone = errors.New("more than one DNS zone of that name")
)

// Client calls the Realtime Register API with one set of credentials. It is
// safe for concurrent use.
type Client struct {
	base *api.Client // copied per request with its authorisation and error reader
	auth Auth
	// authz is the fixed Authorization header for AuthAPIKey and AuthBasic;
	// basic is the Basic header used to open sessions.
	authz, basic string
	now          func() time.Time
	logger       *slog.Logger

	mu       sync.Mutex // guards the session; held while one is being opened
	sessKey  string
	sessUsed time.Time
	noSess   bool // the session endpoint is gone; Basic is used instead
}

// New returns a client. It fails on missing or conflicting credentials, a
// username that is not "customer/login", and an unusable base URL.
func New(cred Credentials, opts Options) (*Client, error) {
	key, user, pass := strings.TrimSpace(cred.APIKey), strings.TrimSpace(cred.Username), cred.Password
	auth := cred.Auth
	if auth == "" {
		auth = AuthSession
		if key != "" {
			auth = AuthAPIKey
		}
	}
	c := &Client{auth: auth, now: opts.Now, logger: opts.Logger}
	if c.now == nil {
		c.now = time.Now
	}
	var secrets []string
	switch auth {
	case AuthAPIKey:
		if key == "" {
			return nil, ErrCredentials
		}
		if user != "" || pass != "" {
			return nil, errors.New("both an API key and a username/password are given: use one")
		}
		c.authz = "ApiKey " + key
		secrets = []string{key}
	case AuthBasic, AuthSession:
		if key != "" && user == "" && pass == "" {
			return nil, fmt.Errorf("authentication mode %s takes a username and password, not an API key", auth)
		}
		if key != "" {
			return nil, errors.New("both an API key and a username/password are given: use one")
		}
		if user == "" || pass == "" {
			return nil, ErrCredentials
		}
		if cust, login, ok := strings.Cut(user, "/"); !ok || cust == "" || login == "" || strings.Contains(login, "/") {
			return nil, fmt.Errorf("username %q is not customer/login (customer handle, slash, login name)", user)
		}
		token := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		c.basic = "Basic " + token
		if auth == AuthBasic {
			c.authz = c.basic
		}
		secrets = []string{pass, token}
	default:
		return nil, fmt.Errorf("unknown authentication mode %q: use %s, %s or %s", auth, AuthAPIKey, AuthBasic, AuthSession)
	}
	u, err := baseURL(opts)
	if err != nil {
		return nil, err
	}
	c.base = &api.Client{
		BaseURL:    u,
		HTTPClient: opts.HTTPClient,
		Retry:      opts.Retry,
		Secrets:    secrets,
		Logger:     opts.Logger,
	}
	return c, nil
}

// Endpoint identifies the API root the client calls (see api.Endpoint).
func (c *Client) Endpoint() string { return c.base.Endpoint() }

func baseURL(opts Options) (*url.URL, error) {
	base := opts.BaseURL
	switch {
	case base != "" && opts.OTE:
		return nil, errors.New("both a base URL and the OTE environment are chosen: use one")
	case opts.OTE:
		base = OTEURL
	case base == "":
		base = ProductionURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("API URL %q is not an http(s) URL", base)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v2/"
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

// Auth returns the authentication mode in use. It is AuthBasic after a
// session client found the session endpoint gone.
func (c *Client) Auth() Auth {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.auth == AuthSession && c.noSess {
		return AuthBasic
	}
	return c.auth
}

// do sends req with the client's credentials. In session mode it opens a
// session when there is none or it has been idle too long, and on a 401
// opens a new one and tries once more. sent are the records of a write, to
// name them in error messages.
func (c *Client) do(ctx context.Context, req api.Request, sent []json.RawMessage) (*api.Response, error) {
	for renewed := false; ; renewed = true {
		authz, sessKey, err := c.authorization(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := c.send(ctx, req, authz, sessKey, sent)
		if sessKey == "" {
			return resp, err
		}
		status := api.StatusOf(err)
		if status == http.StatusUnauthorized && !renewed {
			// The session expired or was revoked on the server's side.
			c.dropSession(sessKey)
			continue
		}
		if err == nil || (status != 0 && status != http.StatusUnauthorized) {
			c.touchSession(sessKey) // the server saw the session: it was used
		}
		return resp, err
	}
}

// send is one api.Client call with a fixed Authorization header. The error
// reader decodes the API's error body into an *Error.
func (c *Client) send(ctx context.Context, req api.Request, authz, sessKey string, sent []json.RawMessage) (*api.Response, error) {
	ac := *c.base
	ac.Authorize = func(r *http.Request) {
		r.Header.Set("Authorization", authz)
		// [UNKNOWN] whether GET needs it too: the API answers 415 to a
		// request without Content-Type, and the official PHP client sends
		// it on every request, so this client does as well.
		if r.Header.Get("Content-Type") == "" {
			r.Header.Set("Content-Type", "application/json")
		}
	}
	if sessKey != "" {
		ac.Secrets = append(slices.Clip(ac.Secrets), sessKey)
	}
	var problem *Error
	ac.Message = func(_ int, body []byte) string {
		problem = parseProblem(body)
		if problem == nil {
			return ""
		}
		return problem.describe(sent)
	}
	resp, err := ac.Do(ctx, req)
	if err != nil && problem != nil && api.StatusOf(err) != 0 {
		problem.err = err
		return nil, problem
	}
	return resp, err
}

// authorization returns the Authorization header for the next request and,
// in session mode, the session key it carries.
func (c *Client) authorization(ctx context.Context) (authz, sessKey string, err error) {
	if c.auth != AuthSession {
		return c.authz, "", nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.noSess {
		return c.basic, "", nil
	}
	if c.sessKey != "" && c.now().Sub(c.sessUsed) < SessionIdle-sessionMargin {
		return "Session " + c.sessKey, c.sessKey, nil
	}
	key, err := c.openSession(ctx)
	if err != nil {
		return "", "", err
	}
	if key == "" { // the endpoint is gone
		c.noSess = true
		return c.basic, "", nil
	}
	c.sessKey, c.sessUsed = key, c.now()
	return "Session " + key, key, nil
}

// openSession creates a session (POST /v2/session with Basic credentials).
// It returns "" without error when the API has no session endpoint (any
// more): [UNKNOWN] the call is documented but called deprecated, so 404,
// 405, 410 and 501 make the client use Basic authentication instead.
// Callers hold c.mu.
func (c *Client) openSession(ctx context.Context) (string, error) {
	req := api.Request{Method: http.MethodPost, Path: "session", JSON: struct{}{}, Idempotent: true}
	resp, err := c.send(ctx, req, c.basic, "", nil)
	switch api.StatusOf(err) {
	case 0:
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusGone, http.StatusNotImplemented:
		if c.logger != nil {
			c.logger.WarnContext(ctx, "the API has no session endpoint; using Basic authentication", "status", api.StatusOf(err))
		}
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("opening a session: %w", err)
	}
	var body struct {
		Key string `json:"key"`
	}
	if err := resp.Decode(&body); err != nil || strings.TrimSpace(body.Key) == "" {
		return "", fmt.Errorf("opening a session: POST session: HTTP %d without a session key in the answer", resp.Status)
	}
	return body.Key, nil
}

func (c *Client) dropSession(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sessKey == key {
		c.sessKey = ""
	}
}

func (c *Client) touchSession(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); c.sessKey == key && now.After(c.sessUsed) {
		c.sessUsed = now
	}
}

// --- zones ---

// Zone is a DNS zone as the API returns it.
type Zone struct {
	ID       int64
	Name     string // may be empty in a GET answer (the field is optional)
	Customer string
	Service  string // BASIC or PREMIUM
	// Managed is true for a zone tied to a domain registered at Realtime
	// Register.
	Managed    bool
	Template   string
	Master     string
	NS         []string
	HostMaster string
	// Refresh, Retry, Expire and TTL are the SOA timers in seconds; TTL is
	// also the TTL of records written without one.
	Refresh, Retry, Expire, TTL int
	DNSSEC                      bool
	// CreatedDate, UpdatedDate and DeletionDate are as sent (RFC 3339).
	CreatedDate, UpdatedDate, DeletionDate string
	// DefaultRecords are the system's SOA and apex NS records: read-only,
	// never to be sent back in an update.
	DefaultRecords []RawRecord
	// Records are the editable records, in API order.
	Records []RawRecord
}

// zoneJSON decodes a zone tolerantly ([UNKNOWN]: numbers may come as
// strings).
type zoneJSON struct {
	ID             flexInt           `json:"id"`
	Name           string            `json:"name"`
	Customer       string            `json:"customer"`
	Service        string            `json:"service"`
	Managed        bool              `json:"managed"`
	Template       string            `json:"template"`
	Master         string            `json:"master"`
	NS             []string          `json:"ns"`
	HostMaster     string            `json:"hostMaster"`
	Refresh        flexInt           `json:"refresh"`
	Retry          flexInt           `json:"retry"`
	Expire         flexInt           `json:"expire"`
	TTL            flexInt           `json:"ttl"`
	DNSSEC         bool              `json:"dnssec"`
	CreatedDate    string            `json:"createdDate"`
	UpdatedDate    string            `json:"updatedDate"`
	DeletionDate   string            `json:"deletionDate"`
	DefaultRecords []json.RawMessage `json:"defaultRecords"`
	Records        []json.RawMessage `json:"records"`
}

func decodeZone(raw json.RawMessage) (*Zone, error) {
	var j zoneJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	z := &Zone{
		ID: j.ID.n, Name: strings.TrimSuffix(j.Name, "."), Customer: j.Customer, Service: strings.ToUpper(j.Service),
		Managed: j.Managed, Template: j.Template, Master: j.Master, NS: j.NS, HostMaster: j.HostMaster,
		Refresh: int(j.Refresh.n), Retry: int(j.Retry.n), Expire: int(j.Expire.n), TTL: int(j.TTL.n), DNSSEC: j.DNSSEC,
		CreatedDate: j.CreatedDate, UpdatedDate: j.UpdatedDate, DeletionDate: j.DeletionDate,
	}
	var err error
	if z.DefaultRecords, err = decodeRecords(j.DefaultRecords); err != nil {
		return nil, fmt.Errorf("defaultRecords: %w", err)
	}
	if z.Records, err = decodeRecords(j.Records); err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	return z, nil
}

func decodeRecords(raws []json.RawMessage) ([]RawRecord, error) {
	out := make([]RawRecord, 0, len(raws))
	for i, raw := range raws {
		r, err := decodeRecord(raw)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		out = append(out, RawRecord{Record: r, Raw: raw})
	}
	return out, nil
}

// ZoneFilter selects zones in a listing. Empty fields do not filter.
type ZoneFilter struct {
	Name    string // exact zone name (a trailing dot is removed)
	Service string // BASIC or PREMIUM
	// Fields limits the fields of each zone ("id", "name", "service", …);
	// empty means the whole zone, records included.
	Fields []string
}

// ListZones returns every zone matching f, following the pagination until
// the last page: it reads the page size and total from each answer, so a
// server that caps the page size or omits the total loses no zone.
func (c *Client) ListZones(ctx context.Context, f ZoneFilter) ([]Zone, error) {
	q := url.Values{}
	if f.Name != "" {
		q.Set("name", strings.TrimSuffix(strings.ToLower(f.Name), "."))
	}
	if f.Service != "" {
		q.Set("service", strings.ToUpper(f.Service))
	}
	if len(f.Fields) > 0 {
		q.Set("fields", strings.Join(f.Fields, ","))
	}
	q.Set("order", "id") // a stable order keeps pages from overlapping or skipping
	q.Set("limit", strconv.Itoa(PageSize))
	var zones []Zone
	seen := map[int64]bool{}
	for offset, page := 0, 1; ; page++ {
		q.Set("offset", strconv.Itoa(offset))
		req := api.Request{Method: http.MethodGet, Path: "dns/zones", Query: q}
		resp, err := c.do(ctx, req, nil)
		if err != nil {
			return nil, err
		}
		var body struct {
			Entities   []json.RawMessage `json:"entities"`
			Pagination *struct {
				Limit  flexInt `json:"limit"`
				Offset flexInt `json:"offset"`
				Total  flexInt `json:"total"`
			} `json:"pagination"`
		}
		if err := resp.Decode(&body); err != nil {
			// [UNKNOWN] tolerated: a bare array instead of the envelope (the
			// PHP client accepts one).
			if json.Unmarshal(resp.Body, &body.Entities) != nil {
				return nil, fmt.Errorf("GET dns/zones: %w", err)
			}
		}
		fresh := 0
		for i, raw := range body.Entities {
			z, err := decodeZone(raw)
			if err != nil {
				return nil, fmt.Errorf("GET dns/zones: zone %d of page %d: %w", i, page, err)
			}
			if !seen[z.ID] {
				seen[z.ID] = true
				zones = append(zones, *z)
				fresh++
			}
		}
		pageStart := offset
		offset += len(body.Entities)
		limit := PageSize
		if p := body.Pagination; p != nil && p.Limit.set && p.Limit.n > 0 {
			limit = int(p.Limit.n) // the server may cap the page size
		}
		switch {
		case len(body.Entities) == 0:
			return zones, nil
		case fresh == 0:
			// [UNKNOWN] guarded against: a server that ignores offset would
			// send the first page forever; stopping would silently lose zones.
			return nil, fmt.Errorf("GET dns/zones: the page at offset %d repeats zones already listed: the listing cannot be followed", pageStart)
		case body.Pagination != nil && body.Pagination.Total.set:
			if offset >= int(body.Pagination.Total.n) {
				return zones, nil
			}
		case len(body.Entities) < limit:
			return zones, nil
		}
		if page >= 10000 {
			return nil, errors.New("GET dns/zones: more than 10000 pages")
		}
	}
}

// Zone returns the zone with id (GET /v2/dns/zones/{id}).
func (c *Client) Zone(ctx context.Context, id int64) (*Zone, error) {
	path := zonePath(id)
	resp, err := c.do(ctx, api.Request{Method: http.MethodGet, Path: path}, nil)
	if err != nil {
		return nil, err
	}
	z, err := decodeZone(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if z.ID == 0 {
		z.ID = id
	}
	return z, nil
}

// UpdateZone replaces the zone's whole record set with records
// (POST /v2/dns/zones/{id}/update with only "records"). Every element is
// sent as is, so records read with Zone go back byte for byte. Never include
// the zone's DefaultRecords. A DnsConfigurationException comes back as an
// *Error whose text names each offending record.
func (c *Client) UpdateZone(ctx context.Context, id int64, records []json.RawMessage) error {
	body, err := api.ObjectWithArray("records", records)
	if err != nil {
		return fmt.Errorf("POST %s/update: %w", zonePath(id), err)
	}
	// The update replaces the whole set: repeating it cannot apply twice.
	// The answer is 200 with an empty or ignorable body.
	_, err = c.do(ctx, api.Request{Method: http.MethodPost, Path: zonePath(id) + "/update", RawJSON: body, Idempotent: true}, records)
	return err
}

func zonePath(id int64) string { return "dns/zones/" + strconv.FormatInt(id, 10) }

// --- domains ---

// Domain is the part of a domain registered at Realtime Register that
// matters for DNS.
type Domain struct {
	Name string   // domainName
	NS   []string // the domain's nameservers
	// Zone is the domain's linked (managed) zone, or nil.
	Zone *ZoneLink
}

// ZoneLink is a domain's pointer to its zone.
type ZoneLink struct {
	ID      int64
	Service string
}

// Domain returns the domain name registered in the account
// (GET /v2/domains/{domain}). A domain that is not there gives an error for
// which IsNotFound is true.
func (c *Client) Domain(ctx context.Context, name string) (*Domain, error) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	path := "domains/" + url.PathEscape(name)
	resp, err := c.do(ctx, api.Request{Method: http.MethodGet, Path: path}, nil)
	if err != nil {
		return nil, err
	}
	var body struct {
		DomainName string   `json:"domainName"`
		NS         []string `json:"ns"`
		Zone       *struct {
			ID      flexInt `json:"id"`
			Service string  `json:"service"`
		} `json:"zone"`
	}
	if err := resp.Decode(&body); err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	d := &Domain{Name: body.DomainName, NS: body.NS}
	if d.Name == "" {
		d.Name = name
	}
	if body.Zone != nil && body.Zone.ID.n != 0 {
		d.Zone = &ZoneLink{ID: body.Zone.ID.n, Service: strings.ToUpper(body.Zone.Service)}
	}
	return d, nil
}

// --- discovery ---

// discoveryFields are the zone fields FindZone and zone listings need.
var discoveryFields = []string{"id", "name", "service", "managed", "ns"}

// ZoneNames lists the account's zones (of service, if not empty) without
// their records.
func (c *Client) ZoneNames(ctx context.Context, service string) ([]Zone, error) {
	return c.ListZones(ctx, ZoneFilter{Service: service, Fields: discoveryFields})
}

// FindZone returns the zone that serves name (an exact zone name), of
// service if it is not empty, without its records.
//
// A name may have a BASIC and a PREMIUM zone. When both match, the zone the
// registered domain links to wins, then the one whose nameservers are the
// domain's, then the only managed one; otherwise the error wraps
// ErrAmbiguousZone. When the listing has no such zone, the domain's link
// (GET /v2/domains/{name}) is followed; failing that the error wraps
// ErrNoZone.
func (c *Client) FindZone(ctx context.Context, name, service string) (*Zone, error) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	service = strings.ToUpper(service)
	all, err := c.ListZones(ctx, ZoneFilter{Name: name, Service: service, Fields: discoveryFields})
	if err != nil {
		return nil, err
	}
	// The filter is an exact match; checking again costs nothing.
	cands := slices.DeleteFunc(all, func(z Zone) bool {
		return !strings.EqualFold(z.Name, name) || (service != "" && z.Service != "" && z.Service != service)
	})
	if len(cands) == 1 {
		return &cands[0], nil
	}
	dom, err := c.Domain(ctx, name)
	switch {
	case err == nil:
	case IsNotFound(err) || api.StatusOf(err) == http.StatusForbidden:
		dom = nil // not registered here, or the key may not view domains
	default:
		return nil, fmt.Errorf("finding the zone of %s: %w", name, err)
	}
	if len(cands) == 0 {
		if dom != nil && dom.Zone != nil && (service == "" || dom.Zone.Service == "" || dom.Zone.Service == service) {
			z, err := c.Zone(ctx, dom.Zone.ID)
			if err != nil {
				return nil, fmt.Errorf("reading zone %d linked to domain %s: %w", dom.Zone.ID, name, err)
			}
			if z.Name == "" {
				z.Name = name
			}
			return z, nil
		}
		what := "zone " + name
		if service != "" {
			what = service + " " + what
		}
		return nil, fmt.Errorf("%s: %w", what, ErrNoZone)
	}
	if dom != nil {
		if dom.Zone != nil {
			if i := slices.IndexFunc(cands, func(z Zone) bool { return z.ID == dom.Zone.ID }); i >= 0 {
				return &cands[i], nil
			}
		}
		if match := filter(cands, func(z Zone) bool { return len(dom.NS) > 0 && sameHosts(z.NS, dom.NS) }); len(match) == 1 {
			return &match[0], nil
		}
	}
	if managed := filter(cands, func(z Zone) bool { return z.Managed }); len(managed) == 1 {
		return &managed[0], nil
	}
	var list []string
	for _, z := range cands {
		list = append(list, fmt.Sprintf("%s (id %d)", z.Service, z.ID))
	}
	return nil, fmt.Errorf("zone %s exists as %s and nothing shows which one serves it: choose the service: %w",
		name, strings.Join(list, " and "), ErrAmbiguousZone)
}

func filter(zs []Zone, keep func(Zone) bool) []Zone {
	var out []Zone
	for _, z := range zs {
		if keep(z) {
			out = append(out, z)
		}
	}
	return out
}

// sameHosts compares two nameserver lists as sets of host names.
func sameHosts(a, b []string) bool {
	norm := func(l []string) []string {
		out := make([]string, len(l))
		for i, h := range l {
			out[i] = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return len(a) > 0 && slices.Equal(norm(a), norm(b))
}
