// Package hostup is a typed client for the DNS endpoints of the HostUp API
// v2 (https://cloud.hostup.se/api/v2/). It knows nothing about ACME.
//
// It speaks v2 only: bare JSON resources, "zone_…"/"drr_…" ids, RFC 7807
// problem documents for errors, cursor pagination. It is tolerant where the
// documentation is vague or has drifted between builds: record ids may be
// strings or numbers and are kept opaque; ttl and the MX/SRV numbers may be
// numbers or strings; the zone's status field may be called zoneStatus or
// status; TXT values wrapped in quotes (the legacy API's form) are unquoted;
// problem documents are read whatever their Content-Type; and the outcome of
// a create is checked against the zone whenever the answer was lost or was
// a refusal, because HostUp refuses exact duplicates with a status and code
// that are not documented.
package hostup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
)

// DefaultURL is the production API root.
const DefaultURL = "https://cloud.hostup.se/api/v2/"

// RecordLimit is HostUp's documented maximum of customer-managed records per
// zone (SOA and NS records are not counted); a zone that states its own
// liveRecordLimit overrides it.
const RecordLimit = 200

// Scopes are the key scopes this client's calls need: listing zones needs
// read:dns and read:domains, reading records read:dns, creating and deleting
// them write:dns.
var Scopes = []string{"read:dns", "write:dns", "read:domains"}

// DefaultRetry is used when Options.Retry is the zero value. HostUp's rate
// limits are not published, so it waits longer than the api package's
// default: up to six tries within a minute, honouring Retry-After (or
// X-RateLimit-Reset) up to 30 seconds.
var DefaultRetry = api.Retry{Attempts: 6, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second, MaxTotal: time.Minute}

var (
	// ErrMissingKey is returned by New for an empty API key.
	ErrMissingKey = errors.New("API key is missing")
	// ErrZoneNotFound is wrapped by FindZone when no zone has the name.
	ErrZoneNotFound = errors.New("no such DNS zone in the account")
	// ErrRecordLimit is wrapped by CreateRecord when the zone is full.
	ErrRecordLimit = errors.New("the zone holds the most records HostUp allows")
)

// Zone is one DNS zone of the account.
type Zone struct {
	ID          string // "zone_…", opaque
	Name        string // "example.com", no trailing dot
	Status      string // active, disabled, pending, error or unknown
	Kind        string // dns_only or linked; empty when not sent
	RecordCount int
	// RecordLimit is the zone's liveRecordLimit when the API states one, else 0.
	RecordLimit int
}

// Record is one record as the API returns it. Name is a full name without
// trailing dot (the apex is the zone's name). For MX, Priority holds the
// preference and Value the target; SRV has Priority, Weight and Port and
// the target in Value. Targets carry no trailing dot. TXT values are
// unquoted.
type Record struct {
	ID       string // opaque: a string or a number in the JSON
	Type     string // upper case; SPF is reported as TXT
	Name     string
	Value    string
	TTL      int
	Priority *int
	Weight   *int
	Port     *int
	Status   string // "pending" right after a change, then "active"
}

// RawRecord is a record with the exact JSON it was read from.
type RawRecord struct {
	Record
	Raw json.RawMessage
}

// RecordList is a zone and its (possibly filtered) records.
type RecordList struct {
	Zone    Zone
	Records []RawRecord
}

// NewRecord is the body of a create. Name is relative to the zone ("@" for
// the apex, "_acme-challenge", "_sip._tcp"); the API refuses full names.
// Value is unquoted text for TXT; a target name (no trailing dot) for CNAME,
// ALIAS, NS, MX and SRV. TTL 0 leaves it to the API (3600).
type NewRecord struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	Value    string `json:"value"`
	TTL      int    `json:"ttl,omitempty"`
	Priority *int   `json:"priority,omitempty"`
	Weight   *int   `json:"weight,omitempty"`
	Port     *int   `json:"port,omitempty"`
}

// ZoneQuery selects a page of zones. Zero values are left out.
type ZoneQuery struct {
	Name   string // exact zone name
	Limit  int    // 1..1000
	Cursor string // from Page.NextCursor
}

// Page is one page of zones.
type Page struct {
	Zones      []Zone
	HasMore    bool
	NextCursor string
}

// Filter narrows a record listing. Zero values are left out.
type Filter struct {
	Type string // A, TXT, …
	Name string // "@", relative, or full name
}

// Problem is an RFC 7807 problem document as HostUp sends it. Branch on
// Code, not Detail.
type Problem struct {
	Type      string
	Title     string
	Status    int
	Detail    string
	Code      string // invalid_request, unauthorized, forbidden, rate_limited, internal_error, …
	Instance  string
	RequestID string
	Errors    []FieldError // invalid_request only
}

// FieldError is one entry of a problem's errors array.
type FieldError struct {
	Pointer string `json:"pointer"`
	Detail  string `json:"detail"`
	Code    string `json:"code"`
}

// Error is an HTTP failure of the API. It wraps the *api.Error (so
// api.StatusOf works) and adds the decoded problem document. Its text never
// contains the API key.
type Error struct {
	Problem Problem // zero when the body was not a problem document
	err     *api.Error
}

func (e *Error) Error() string {
	s := e.err.Error()
	switch {
	case e.Problem.Code == "unauthorized" || e.Problem.Code == "" && e.err.Status == http.StatusUnauthorized:
		s += " (the API key is missing, wrong, revoked or not allowed from this IP address)"
	case e.Problem.Code == "forbidden" || e.Problem.Code == "" && e.err.Status == http.StatusForbidden:
		s += " (the API key lacks a scope: keys used for ACME need " + strings.Join(Scopes, ", ") + ")"
	}
	return s
}

// Unwrap returns the underlying *api.Error.
func (e *Error) Unwrap() error { return e.err }

// CodeOf returns the problem code of an *Error in err's chain, or "".
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Problem.Code
	}
	return ""
}

// Client calls the HostUp API with one API key. Safe for concurrent use.
type Client struct {
	api   *api.Client
	tries int // POSTs of one create after lost answers
}

// Options tune a Client; the zero value is production with DefaultRetry.
type Options struct {
	BaseURL    string       // default DefaultURL
	HTTPClient *http.Client // default http.DefaultClient
	Retry      api.Retry    // zero value: DefaultRetry
	Logger     *slog.Logger
	// Wait replaces the timer between tries (see api.Client.Wait).
	Wait func(ctx context.Context, d time.Duration) error
}

// New returns a client for apiKey. It fails only on an empty key or an
// unparsable base URL.
func New(apiKey string, opts Options) (*Client, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, ErrMissingKey
	}
	base := opts.BaseURL
	if base == "" {
		base = DefaultURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("API URL %q is not an http(s) URL", base)
	}
	retry := opts.Retry
	if retry == (api.Retry{}) {
		retry = DefaultRetry
	}
	return &Client{
		api: &api.Client{
			BaseURL:    u,
			HTTPClient: opts.HTTPClient,
			Retry:      retry,
			Authorize:  func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+apiKey) },
			Secrets:    []string{apiKey},
			Message:    message,
			RetryIf:    transient,
			Logger:     opts.Logger,
			Wait:       opts.Wait,
		},
		tries: max(retry.Attempts, 2),
	}, nil
}

// Endpoint identifies the API root the client calls (see api.Endpoint).
func (c *Client) Endpoint() string { return c.api.Endpoint() }

// problemJSON reads a problem document leniently: status may be a number or
// a string, and every field may be missing.
type problemJSON struct {
	Type      string          `json:"type"`
	Title     string          `json:"title"`
	Status    json.RawMessage `json:"status"`
	Detail    string          `json:"detail"`
	Code      string          `json:"code"`
	Instance  string          `json:"instance"`
	RequestID string          `json:"requestId"`
	Errors    []FieldError    `json:"errors"`
	// The legacy API's error shape, in case a proxy still answers with it.
	Error   string `json:"error"`
	Message string `json:"message"`
}

func decodeProblem(body []byte) (Problem, bool) {
	var pj problemJSON
	if json.Unmarshal(body, &pj) != nil {
		return Problem{}, false
	}
	p := Problem{Type: pj.Type, Title: pj.Title, Detail: pj.Detail, Code: strings.ToLower(pj.Code),
		Instance: pj.Instance, RequestID: pj.RequestID, Errors: pj.Errors}
	p.Status, _ = strconv.Atoi(strings.Trim(string(pj.Status), `"`))
	if p.Detail == "" {
		p.Detail = pj.Message
	}
	if p.Title == "" {
		p.Title = pj.Error
	}
	return p, p.Code != "" || p.Detail != "" || p.Title != ""
}

// transient reports a problem whose code says "try again" under a status
// the api package would not retry by itself (429 and 5xx it retries anyway).
func transient(_ int, body []byte) bool {
	p, ok := decodeProblem(body)
	return ok && (p.Code == "rate_limited" || p.Code == "internal_error")
}

// message is the error text: "code: detail (pointer: detail; …)".
func message(_ int, body []byte) string {
	p, ok := decodeProblem(body)
	if !ok {
		return ""
	}
	var b strings.Builder
	if p.Code != "" {
		b.WriteString(p.Code + ": ")
	}
	if p.Detail != "" {
		b.WriteString(p.Detail)
	} else {
		b.WriteString(p.Title)
	}
	var fields []string
	for _, f := range p.Errors {
		if f.Pointer != "" {
			fields = append(fields, f.Pointer+": "+f.Detail)
		} else {
			fields = append(fields, f.Detail)
		}
	}
	if len(fields) > 0 {
		b.WriteString(" (" + strings.Join(fields, "; ") + ")")
	}
	if p.RequestID != "" {
		b.WriteString(" [request " + p.RequestID + "]")
	}
	return strings.TrimSuffix(strings.TrimSpace(b.String()), ":")
}

// do sends req and decodes a 2xx body into out (may be nil). HTTP failures
// come back as *Error.
func (c *Client) do(ctx context.Context, req api.Request, out any) (*api.Response, error) {
	resp, err := c.api.Do(ctx, req)
	if err != nil {
		return nil, c.wrap(err)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return nil, fmt.Errorf("%s %s: decoding response: %w", req.Method, req.Path, err)
		}
	}
	return resp, nil
}

func (c *Client) wrap(err error) error {
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status == 0 {
		return err
	}
	// ae.Body is redacted already (api.Error), so the problem holds no key
	// in any of its fields.
	p, _ := decodeProblem(ae.Body)
	return &Error{Problem: p, err: ae}
}

// ListZones returns one page of zones (GET dns-zones).
func (c *Client) ListZones(ctx context.Context, q ZoneQuery) (Page, error) {
	v := url.Values{}
	if q.Name != "" {
		v.Set("name", q.Name)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	var body struct {
		Data       []json.RawMessage `json:"data"`
		HasMore    bool              `json:"hasMore"`
		NextCursor *string           `json:"nextCursor"`
	}
	if _, err := c.do(ctx, api.Request{Method: http.MethodGet, Path: "dns-zones", Query: v}, &body); err != nil {
		return Page{}, err
	}
	p := Page{HasMore: body.HasMore}
	if body.NextCursor != nil {
		p.NextCursor = *body.NextCursor
	}
	for i, raw := range body.Data {
		z, err := decodeZone(raw)
		if err != nil {
			return Page{}, fmt.Errorf("GET dns-zones: zone %d: %w", i, err)
		}
		p.Zones = append(p.Zones, z)
	}
	return p, nil
}

// Zones returns every zone of the account, following the cursor pages.
func (c *Client) Zones(ctx context.Context) ([]Zone, error) {
	var all []Zone
	seen := map[string]bool{}
	q := ZoneQuery{Limit: 1000}
	for {
		p, err := c.ListZones(ctx, q)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Zones...)
		if !p.HasMore || p.NextCursor == "" {
			return all, nil
		}
		if seen[p.NextCursor] || len(seen) >= 1000 {
			return nil, fmt.Errorf("GET dns-zones: the pagination does not end (cursor %q repeats)", p.NextCursor)
		}
		seen[p.NextCursor] = true
		q.Cursor = p.NextCursor
	}
}

// FindZone returns the zone called name (GET dns-zones?name=…). The name
// is compared case-insensitively without trailing dot; a missing zone is
// an error wrapping ErrZoneNotFound.
func (c *Client) FindZone(ctx context.Context, name string) (Zone, error) {
	name = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
	p, err := c.ListZones(ctx, ZoneQuery{Name: name})
	if err != nil {
		return Zone{}, err
	}
	for _, z := range p.Zones {
		if strings.EqualFold(strings.TrimSuffix(z.Name, "."), name) {
			return z, nil
		}
	}
	return Zone{}, fmt.Errorf("zone %s: %w", name, ErrZoneNotFound)
}

// Records returns the zone's records in API order, each with its raw JSON
// (GET dns-zones/{id}/records, filtered by f).
func (c *Client) Records(ctx context.Context, zoneID string, f Filter) (RecordList, error) {
	v := url.Values{}
	if f.Type != "" {
		v.Set("type", strings.ToUpper(f.Type))
	}
	if f.Name != "" {
		v.Set("name", f.Name)
	}
	path := recordsPath(zoneID)
	var body struct {
		Zone    json.RawMessage   `json:"zone"`
		Records []json.RawMessage `json:"records"`
	}
	if _, err := c.do(ctx, api.Request{Method: http.MethodGet, Path: path, Query: v}, &body); err != nil {
		return RecordList{}, err
	}
	var list RecordList
	if len(body.Zone) > 0 && string(body.Zone) != "null" {
		z, err := decodeZone(body.Zone)
		if err != nil {
			return RecordList{}, fmt.Errorf("GET %s: zone: %w", path, err)
		}
		list.Zone = z
	}
	for i, raw := range body.Records {
		r, err := decodeRecord(raw)
		if err != nil {
			return RecordList{}, fmt.Errorf("GET %s: record %d: %w", path, i, err)
		}
		list.Records = append(list.Records, RawRecord{Record: r, Raw: raw})
	}
	return list, nil
}

// CreateRecord adds one record (POST dns-zones/{id}/records, 201) and
// returns it as stored. It never leaves two copies: the POST is not resent
// blindly after a lost answer. Whenever the answer was lost (a transport
// error or a 5xx) or the API refused the record (400, 409, 422), the zone
// is read: a record equal to r (type, name, value and numbers; not the TTL)
// that is there now is returned as success, because HostUp refuses exact
// duplicates. A refusal because the zone is full wraps ErrRecordLimit.
func (c *Client) CreateRecord(ctx context.Context, zoneID string, r NewRecord) (RawRecord, error) {
	r.Type = strings.ToUpper(r.Type)
	req := api.Request{Method: http.MethodPost, Path: recordsPath(zoneID), JSON: r}
	var err error
	for try := 1; try <= c.tries; try++ {
		var resp *api.Response
		resp, err = c.do(ctx, req, nil)
		if err == nil {
			rec, derr := decodeRecord(resp.Body)
			if derr != nil {
				return RawRecord{}, fmt.Errorf("POST %s: decoding the created record: %w", req.Path, derr)
			}
			return RawRecord{Record: rec, Raw: resp.Body}, nil
		}
		status := api.StatusOf(err)
		refused := status == http.StatusBadRequest || status == http.StatusConflict || status == http.StatusUnprocessableEntity
		if ctx.Err() != nil || (status != 0 && status < 500 && !refused) {
			return RawRecord{}, err
		}
		list, lerr := c.Records(ctx, zoneID, Filter{Type: r.Type, Name: r.Name})
		if lerr != nil {
			return RawRecord{}, fmt.Errorf("%w (and checking whether the record exists failed: %v)", err, lerr)
		}
		for _, have := range list.Records {
			if Matches(have.Record, r, list.Zone.Name) {
				return have, nil
			}
		}
		if refused {
			return RawRecord{}, c.limitError(ctx, zoneID, err)
		}
		if status != 0 {
			return RawRecord{}, err // a 5xx the api package already retried
		}
		// The answer was lost and the record is not there: send it again.
	}
	return RawRecord{}, err
}

// limitError returns err, wrapped with ErrRecordLimit and a plain
// explanation when the zone is full. The API's status and code for this
// case are not documented, so the zone is counted instead.
func (c *Client) limitError(ctx context.Context, zoneID string, err error) error {
	list, lerr := c.Records(ctx, zoneID, Filter{})
	if lerr != nil {
		return err
	}
	n := 0
	for _, r := range list.Records {
		if r.Type != "NS" && r.Type != "SOA" {
			n++
		}
	}
	limit := RecordLimit
	if list.Zone.RecordLimit > 0 {
		limit = list.Zone.RecordLimit
	}
	if n < limit {
		return err
	}
	return &LimitError{Zone: list.Zone.Name, Count: n, Limit: limit, Err: err}
}

// LimitError is a zone that is, or would be, over HostUp's record limit.
// errors.Is(err, ErrRecordLimit) holds for it.
type LimitError struct {
	Zone  string
	Count int // records counted: those the zone holds, or would hold after the change
	Limit int
	// Err is the API's refusal; nil when the change was refused before
	// anything was sent.
	Err error
}

func (e *LimitError) Error() string {
	const fix = " (SOA and NS records not counted): delete records it no longer needs"
	if e.Err == nil {
		return fmt.Sprintf("zone %s would hold %d records, but HostUp allows at most %d per zone"+fix, e.Zone, e.Count, e.Limit)
	}
	return fmt.Sprintf("zone %s holds %d records, the most HostUp allows per zone"+fix+": %v", e.Zone, e.Count, e.Err)
}

// Unwrap returns ErrRecordLimit and the API's refusal, if any.
func (e *LimitError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrRecordLimit}
	}
	return []error{ErrRecordLimit, e.Err}
}

// DeleteRecord removes one record (DELETE dns-zones/{id}/records/{recordId},
// 204). A record that does not exist gives an *Error with Status 404.
func (c *Client) DeleteRecord(ctx context.Context, zoneID, recordID string) error {
	_, err := c.do(ctx, api.Request{Method: http.MethodDelete, Path: recordsPath(zoneID) + "/" + url.PathEscape(recordID)}, nil)
	return err
}

func recordsPath(zoneID string) string {
	return "dns-zones/" + url.PathEscape(zoneID) + "/records"
}

// Matches reports whether have (as listed in zone zoneName) is the record
// r would create: same type, name and value, and the same MX/SRV numbers.
// The TTL is not compared. Names and non-TXT values compare
// case-insensitively and without trailing dots; TXT values exactly.
func Matches(have Record, r NewRecord, zoneName string) bool {
	typ := strings.ToUpper(r.Type)
	if typ == "SPF" {
		typ = "TXT"
	}
	if have.Type != typ || !strings.EqualFold(FullName(have.Name, zoneName), FullName(r.Name, zoneName)) {
		return false
	}
	return normal(have.Type, have.Value, have.Priority, have.Weight, have.Port) == normal(typ, r.Value, r.Priority, r.Weight, r.Port)
}

// normal renders a value with its numbers in one comparable form. An MX or
// SRV value that carries its numbers inside ("10 mx.example.com") while the
// fields are null is read the same way.
func normal(typ, value string, prio, weight, port *int) string {
	if typ == "TXT" {
		return value
	}
	f := strings.Fields(strings.ToLower(value))
	for i := range f {
		f[i] = strings.TrimSuffix(f[i], ".")
	}
	var nums []string
	for _, p := range []*int{prio, weight, port} {
		if p != nil {
			nums = append(nums, strconv.Itoa(*p))
		}
	}
	return strings.Join(append(nums, f...), " ")
}

// FullName returns name as a full name without trailing dot inside zone:
// "@", "" and relative names are completed; full names (with or without
// trailing dot) are kept. Lower case.
func FullName(name, zone string) string {
	n := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
	z := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(zone), "."))
	switch {
	case n == "" || n == "@":
		return z
	case z == "" || n == z || strings.HasSuffix(n, "."+z):
		return n
	}
	return n + "." + z
}

// Unquote returns a TXT value without the quoting the legacy API added:
// one or more double-quoted strings ("a" "b") are joined with \" and \\
// unescaped; a value merely wrapped in one pair of quotes loses them;
// anything else is returned as is.
func Unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	var b strings.Builder
	in := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case !in && c == '"':
			in = true
		case !in && c == ' ':
		case !in:
			return v[1 : len(v)-1] // not a list of quoted strings
		case c == '\\' && i+1 < len(v):
			i++
			b.WriteByte(v[i])
		case c == '"':
			in = false
		default:
			b.WriteByte(c)
		}
	}
	if in {
		return v[1 : len(v)-1]
	}
	return b.String()
}

// decodeZone reads a zone leniently (zoneStatus or status; numbers or strings).
func decodeZone(raw json.RawMessage) (Zone, error) {
	var z struct {
		ID               json.RawMessage `json:"id"`
		Name             string          `json:"name"`
		ZoneStatus       string          `json:"zoneStatus"`
		Status           string          `json:"status"`
		Kind             string          `json:"kind"`
		RecordCount      json.RawMessage `json:"recordCount"`
		TotalRecordCount json.RawMessage `json:"totalRecordCount"`
		LiveRecordLimit  json.RawMessage `json:"liveRecordLimit"`
	}
	if err := json.Unmarshal(raw, &z); err != nil {
		return Zone{}, err
	}
	out := Zone{ID: opaque(z.ID), Name: strings.TrimSuffix(z.Name, "."), Status: z.ZoneStatus, Kind: z.Kind}
	if out.Status == "" {
		out.Status = z.Status
	}
	var err error
	if out.RecordCount, err = number(z.RecordCount); err != nil {
		return Zone{}, fmt.Errorf("recordCount: %w", err)
	}
	if out.RecordLimit, err = number(z.LiveRecordLimit); err != nil {
		return Zone{}, fmt.Errorf("liveRecordLimit: %w", err)
	}
	if out.ID == "" || out.Name == "" {
		return Zone{}, fmt.Errorf("zone without id or name: %s", raw)
	}
	return out, nil
}

// decodeRecord reads a record leniently: the id is opaque, numbers may be
// strings, TXT values lose legacy quoting.
func decodeRecord(raw json.RawMessage) (Record, error) {
	var r struct {
		ID       json.RawMessage `json:"id"`
		Type     string          `json:"type"`
		Name     string          `json:"name"`
		Value    string          `json:"value"`
		TTL      json.RawMessage `json:"ttl"`
		Priority json.RawMessage `json:"priority"`
		Weight   json.RawMessage `json:"weight"`
		Port     json.RawMessage `json:"port"`
		Status   string          `json:"status"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return Record{}, err
	}
	rec := Record{ID: opaque(r.ID), Type: strings.ToUpper(r.Type), Name: strings.TrimSuffix(r.Name, "."), Value: r.Value, Status: r.Status}
	if rec.Type == "SPF" {
		rec.Type = "TXT"
	}
	if rec.Type == "TXT" {
		rec.Value = Unquote(rec.Value)
	}
	var err error
	if rec.TTL, err = number(r.TTL); err != nil {
		return Record{}, fmt.Errorf("ttl: %w", err)
	}
	for _, f := range []struct {
		raw json.RawMessage
		dst **int
		key string
	}{{r.Priority, &rec.Priority, "priority"}, {r.Weight, &rec.Weight, "weight"}, {r.Port, &rec.Port, "port"}} {
		if s := strings.Trim(string(f.raw), `"`); s != "" && s != "null" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return Record{}, fmt.Errorf("%s %s is not a number", f.key, f.raw)
			}
			*f.dst = &n
		}
	}
	if rec.ID == "" || rec.Type == "" {
		return Record{}, fmt.Errorf("record without id or type: %s", raw)
	}
	return rec, nil
}

// opaque turns a JSON string or number into its text; null and absent are "".
func opaque(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// number reads a JSON number or numeric string; null and absent are 0.
func number(raw json.RawMessage) (int, error) {
	s := strings.Trim(string(raw), `"`)
	if s == "" || s == "null" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s is not a number", raw)
	}
	return n, nil
}
