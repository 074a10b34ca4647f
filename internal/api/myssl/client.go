// Package myssl is a typed client for the MySSL (myssl.info) API v1: the
// monitored domains and the on-demand TLS scans. MySSL watches certificates
// and grades TLS configurations (its scans run testssl.sh); it hosts no DNS
// and issues no certificates. This package knows nothing about ACME.
//
// What MySSL's documentation confirms (reference/myssl.md in the shared
// design notes) is called exactly as documented: Bearer keys "myssl_k_…";
// GET domains with its pagination and filters; GET domains/{id}; POST scans,
// answered 202 with the scan; the rate-limit headers on every answer and
// 429 when a limit is reached. What it does not confirm is called where a
// REST API usually has it and is tolerated when absent or different:
//
//   - the scan-status path, GET scans/{id}: a 404 or 405 is
//     [ErrNoScanStatus], so that a caller can read the grade from the
//     monitored domains instead;
//   - the create-domain call, POST domains: a 404 or 405 is
//     [ErrNoCreateDomain];
//   - the statuses a scan goes through after "pending", the fields of a
//     finished scan, the body of a 429, and whether ids are numbers or
//     strings (ids are kept as opaque text).
//
// A 429 is waited out until X-RateLimit-Reset (Unix seconds, as documented)
// within the Retry budget; a 429 with X-Daily-Remaining 0 is the account's
// daily limit, which resets at midnight UTC: it is not waited for but
// reported as [ErrDailyLimit]. The API key never appears in an error or a
// log line.
package myssl

import (
	"context"
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
	"github.com/acme-dns-hook/acme-dns-hook/internal/redact"
)

// DefaultURL is the production API root.
const DefaultURL = "https://myssl.info/api/v1/"

// KeyPrefix starts every MySSL API key.
const KeyPrefix = "myssl_k_"

// DefaultRetry is used when Options.Retry is the zero value. MySSL's
// per-minute limit is a sliding window of 60 seconds (10 requests on the
// Free plan), so a 429 may ask for up to a minute: up to four tries within
// 90 seconds, each wait at most 61 seconds.
var DefaultRetry = api.Retry{Attempts: 4, BaseDelay: time.Second, MaxDelay: 61 * time.Second, MaxTotal: 90 * time.Second}

// Grades are the grades MySSL documents, best first.
var Grades = []string{"A+", "A", "B", "C", "D", "F"}

// rank orders the documented grades and the two that grading scales of this
// kind also use (A- and E); lower is better.
var rank = map[string]int{"A+": 0, "A": 1, "A-": 2, "B": 3, "C": 4, "D": 5, "E": 6, "F": 7}

// GradeAtLeast reports whether grade is min or better. known is false when
// either is not a grade that can be compared (empty, or another scale's
// "T" or "M").
func GradeAtLeast(grade, min string) (ok, known bool) {
	g, gok := rank[strings.ToUpper(strings.TrimSpace(grade))]
	m, mok := rank[strings.ToUpper(strings.TrimSpace(min))]
	if !gok || !mok {
		return false, false
	}
	return g <= m, true
}

var (
	// ErrMissingKey is returned by New for an empty API key.
	ErrMissingKey = errors.New("API key is missing")
	// ErrDailyLimit is matched (errors.Is) by an error for a request the
	// account's daily limit refused.
	ErrDailyLimit = errors.New("MySSL's daily request limit is used up")
	// ErrNoScanStatus is wrapped by GetScan when the scan-status path is
	// not there (404 or 405): MySSL does not document it.
	ErrNoScanStatus = errors.New("MySSL has no scan-status path GET /api/v1/scans/{id} (that path is not confirmed by its documentation)")
	// ErrNoCreateDomain is wrapped by AddDomain when POST /api/v1/domains
	// is not there (404 or 405): MySSL does not document it.
	ErrNoCreateDomain = errors.New("MySSL has no create-domain call POST /api/v1/domains (that call is not confirmed by its documentation)")
)

// Limits are the rate-limit headers of one answer. Zero fields were not
// sent (or not numbers).
type Limits struct {
	Minute          int       // X-RateLimit-Limit: requests per sliding minute, per key
	MinuteRemaining int       // X-RateLimit-Remaining
	Reset           time.Time // X-RateLimit-Reset (Unix seconds)
	Daily           int       // X-Daily-Limit: requests per UTC day, shared by every key of the account
	DailyRemaining  int       // X-Daily-Remaining
	// DailyUsedUp is set when X-Daily-Remaining was sent as 0.
	DailyUsedUp bool
	// Known is set when any of the headers was sent.
	Known bool
}

// LimitsOf reads the rate-limit headers of an answer.
func LimitsOf(h http.Header) Limits {
	var l Limits
	num := func(name string) (int, bool) {
		v := strings.TrimSpace(h.Get(name))
		if v == "" {
			return 0, false
		}
		l.Known = true
		n, err := strconv.Atoi(v)
		return n, err == nil
	}
	l.Minute, _ = num("X-RateLimit-Limit")
	l.MinuteRemaining, _ = num("X-RateLimit-Remaining")
	if n, ok := num("X-RateLimit-Reset"); ok && n > 0 {
		l.Reset = time.Unix(int64(n), 0)
	}
	l.Daily, _ = num("X-Daily-Limit")
	var ok bool
	l.DailyRemaining, ok = num("X-Daily-Remaining")
	l.DailyUsedUp = ok && l.DailyRemaining <= 0
	return l
}

// nextMidnightUTC is when the daily limit resets.
func nextMidnightUTC(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// retryAfter is how long a 429 or 5xx answer asks to wait: until midnight
// UTC when the daily limit is used up (beyond any retry budget, so the
// answer is final); else Retry-After, should MySSL send one (not
// documented); else X-RateLimit-Reset, documented as a Unix timestamp (a
// small number is taken as seconds to wait, in case it is a delay after
// all).
func retryAfter(h http.Header, now time.Time) time.Duration {
	if LimitsOf(h).DailyUsedUp {
		return max(nextMidnightUTC(now).Sub(now), time.Millisecond)
	}
	if d := api.RetryAfter(h, now); d > 0 {
		return d
	}
	n, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64)
	switch {
	case err != nil || n <= 0:
		return 0
	case n < 1e9:
		return time.Duration(n) * time.Second
	}
	return max(time.Unix(n, 0).Sub(now), time.Millisecond)
}

// Error is an HTTP failure of the API. It wraps the *api.Error (so
// api.StatusOf works) and adds MySSL's error fields and the rate limits the
// answer stated. Its text never contains the API key.
type Error struct {
	// Code is the body's "error" ("Authentication required", "Invalid API
	// key", "Access denied", …); Message its "message".
	Code, Message string
	Limits        Limits
	err           *api.Error
}

func (e *Error) Error() string {
	s := e.err.Error()
	switch {
	case e.err.Status == http.StatusUnauthorized:
		s += " (the API key is missing, malformed, unknown or revoked: MySSL keys start with " + KeyPrefix + " and are created under Dashboard → Settings → API Keys)"
	case e.err.Status == http.StatusForbidden:
		s += " (the API key may not do this)"
	case e.err.Status == http.StatusTooManyRequests && e.Limits.DailyUsedUp:
		daily := "its"
		if e.Limits.Daily > 0 {
			daily = fmt.Sprintf("its %d", e.Limits.Daily)
		}
		s += fmt.Sprintf(" (the account has used up %s requests of the day, shared by all its keys; the limit resets at midnight UTC)", daily)
	case e.err.Status == http.StatusTooManyRequests:
		s += " (MySSL's rate limit: the Free plan allows 10 requests a minute and one scan at a time)"
	}
	return s
}

// Unwrap returns the underlying *api.Error.
func (e *Error) Unwrap() error { return e.err }

// Is matches ErrDailyLimit for a 429 sent with X-Daily-Remaining 0.
func (e *Error) Is(target error) bool {
	return target == ErrDailyLimit && e.err.Status == http.StatusTooManyRequests && e.Limits.DailyUsedUp
}

// Client calls the MySSL API with one API key. Safe for concurrent use.
type Client struct {
	api *api.Client

	mu     sync.Mutex
	limits Limits // of the last answer
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
// unusable base URL; a key of the wrong form is left to MySSL to refuse.
func New(apiKey string, opts Options) (*Client, error) {
	apiKey = strings.TrimSpace(apiKey)
	if apiKey == "" {
		return nil, ErrMissingKey
	}
	base := opts.BaseURL
	if base == "" {
		base = DefaultURL
	}
	if err := api.CheckURL(base); err != nil {
		return nil, fmt.Errorf("API URL %q: %w", base, err)
	}
	u, _ := url.Parse(base)
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	retry := opts.Retry
	if retry == (api.Retry{}) {
		retry = DefaultRetry
	}
	return &Client{api: &api.Client{
		BaseURL:    u,
		HTTPClient: opts.HTTPClient,
		Retry:      retry,
		Authorize:  func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+apiKey) },
		Secrets:    []string{apiKey},
		Message:    errorMessage,
		RetryAfter: retryAfter,
		Logger:     opts.Logger,
		Wait:       opts.Wait,
	}}, nil
}

// Endpoint is the identity of the client's API root (see api.Endpoint).
func (c *Client) Endpoint() string { return c.api.Endpoint() }

// Limits returns the rate limits the last answer stated.
func (c *Client) Limits() Limits {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limits
}

// errorMessage reads MySSL's {"error": …, "message": …}.
func errorMessage(_ int, body []byte) string {
	var b struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &b) != nil || b.Error == "" && b.Message == "" {
		return ""
	}
	if b.Error != "" && b.Message != "" {
		return b.Error + ": " + b.Message
	}
	return b.Error + b.Message
}

// do sends req and keeps the answer's limits; failures become *Error.
func (c *Client) do(ctx context.Context, req api.Request) (*api.Response, error) {
	resp, err := c.api.Do(ctx, req)
	var h http.Header
	if resp != nil {
		h = resp.Header
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		h = ae.Header
	}
	if l := LimitsOf(h); l.Known {
		c.mu.Lock()
		c.limits = l
		c.mu.Unlock()
	}
	if ae != nil && ae.Status != 0 {
		e := &Error{err: ae, Limits: LimitsOf(ae.Header)}
		var b struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		if json.Unmarshal(ae.Body, &b) == nil {
			e.Code, e.Message = redact.String(b.Error, c.api.Secrets...), redact.String(b.Message, c.api.Secrets...)
		}
		return nil, e
	}
	return resp, err
}

// Domain is one monitored domain: a hostname and port MySSL watches (not a
// DNS zone).
type Domain struct {
	ID                  string // opaque: a number in the documentation
	Hostname            string
	Port                int
	Grade               string // ssl_grade; "" before the first scan
	Score               *int   // ssl_score
	CertificateExpiry   time.Time
	DaysUntilExpiry     *int
	LastScan            time.Time
	Active              bool
	MonitoringFrequency string
	CreatedAt           time.Time
	// Issuer is certificate.issuer, which GET domains/{id} sends; "" when
	// absent.
	Issuer string
	// Raw is the domain's JSON as it came.
	Raw json.RawMessage
}

// Pagination is a listing's page information.
type Pagination struct {
	Page    int  `json:"page"`
	PerPage int  `json:"per_page"`
	Total   int  `json:"total"`
	Pages   int  `json:"pages"`
	HasNext bool `json:"has_next"`
	HasPrev bool `json:"has_prev"`
}

// DomainQuery selects a page of monitored domains. Zero values are left out
// (MySSL's defaults: page 1, 20 a page).
type DomainQuery struct {
	Page    int    // from 1
	PerPage int    // 1..100
	Status  string // active, inactive or expiring
	Grade   string // one of Grades
	Search  string // hostname search
}

// DomainStatuses are the values of DomainQuery.Status.
var DomainStatuses = []string{"active", "inactive", "expiring"}

func (q DomainQuery) values() (url.Values, error) {
	v := url.Values{}
	if q.Page < 0 || q.PerPage < 0 || q.PerPage > 100 {
		return nil, fmt.Errorf("page %d, per_page %d: use a page from 1 and 1 to 100 a page", q.Page, q.PerPage)
	}
	if q.Page > 0 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.PerPage > 0 {
		v.Set("per_page", strconv.Itoa(q.PerPage))
	}
	if q.Status != "" {
		if !slices.Contains(DomainStatuses, q.Status) {
			return nil, fmt.Errorf("status %q: use %s", q.Status, strings.Join(DomainStatuses, ", "))
		}
		v.Set("status", q.Status)
	}
	if q.Grade != "" {
		if !slices.Contains(Grades, q.Grade) {
			return nil, fmt.Errorf("grade %q: use %s", q.Grade, strings.Join(Grades, ", "))
		}
		v.Set("grade", q.Grade)
	}
	if q.Search != "" {
		v.Set("search", q.Search)
	}
	return v, nil
}

// DomainPage is one page of monitored domains.
type DomainPage struct {
	Domains    []Domain
	Pagination Pagination
}

// ListDomains returns one page of the monitored domains.
func (c *Client) ListDomains(ctx context.Context, q DomainQuery) (*DomainPage, error) {
	v, err := q.values()
	if err != nil {
		return nil, fmt.Errorf("listing domains: %w", err)
	}
	resp, err := c.do(ctx, api.Request{Method: http.MethodGet, Path: "domains", Query: v})
	if err != nil {
		return nil, err
	}
	var body struct {
		Domains    []json.RawMessage `json:"domains"`
		Pagination Pagination        `json:"pagination"`
	}
	if err := resp.Decode(&body); err != nil {
		return nil, fmt.Errorf("GET domains: %w", err)
	}
	page := &DomainPage{Pagination: body.Pagination}
	for _, raw := range body.Domains {
		d, err := decodeDomain(raw)
		if err != nil {
			return nil, fmt.Errorf("GET domains: %w", err)
		}
		page.Domains = append(page.Domains, *d)
	}
	return page, nil
}

// maxPages bounds AllDomains: 100 pages of 100 domains.
const maxPages = 100

// AllDomains returns every monitored domain q selects, following the
// pagination 100 a page (q.Page and q.PerPage are ignored).
func (c *Client) AllDomains(ctx context.Context, q DomainQuery) ([]Domain, error) {
	var out []Domain
	q.PerPage = 100
	for q.Page = 1; ; q.Page++ {
		p, err := c.ListDomains(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Domains...)
		more := p.Pagination.HasNext || p.Pagination.Page > 0 && p.Pagination.Page < p.Pagination.Pages
		if !more || len(p.Domains) == 0 {
			return out, nil
		}
		if q.Page >= maxPages {
			return nil, fmt.Errorf("listing domains: more than %d pages", maxPages)
		}
	}
}

// FindDomain returns the monitored domain with hostname and port (443 when
// 0), or nil if MySSL does not watch it.
func (c *Client) FindDomain(ctx context.Context, hostname string, port int) (*Domain, error) {
	if port == 0 {
		port = 443
	}
	ds, err := c.AllDomains(ctx, DomainQuery{Search: hostname})
	if err != nil {
		return nil, err
	}
	for i, d := range ds {
		if strings.EqualFold(strings.TrimSuffix(d.Hostname, "."), strings.TrimSuffix(hostname, ".")) && (d.Port == port || d.Port == 0 && port == 443) {
			return &ds[i], nil
		}
	}
	return nil, nil
}

// GetDomain returns one monitored domain, with its certificate's issuer.
func (c *Client) GetDomain(ctx context.Context, id string) (*Domain, error) {
	resp, err := c.do(ctx, api.Request{Method: http.MethodGet, Path: "domains/" + url.PathEscape(id)})
	if err != nil {
		return nil, err
	}
	d, err := decodeWrapped(resp.Body, "domain", decodeDomain)
	if err != nil {
		return nil, fmt.Errorf("GET domains/%s: %w", id, err)
	}
	return d, nil
}

// AddDomain asks MySSL to monitor hostname on port (443 when 0). The call,
// POST domains with {"hostname","port"}, is not confirmed by MySSL's
// documentation: a 404 or 405 is ErrNoCreateDomain.
func (c *Client) AddDomain(ctx context.Context, hostname string, port int) (*Domain, error) {
	if port == 0 {
		port = 443
	}
	body := map[string]any{"hostname": hostname, "port": port}
	resp, err := c.do(ctx, api.Request{Method: http.MethodPost, Path: "domains", JSON: body})
	if s := api.StatusOf(err); s == http.StatusNotFound || s == http.StatusMethodNotAllowed {
		return nil, fmt.Errorf("%w: %w", ErrNoCreateDomain, err)
	}
	if err != nil {
		return nil, err
	}
	d, err := decodeWrapped(resp.Body, "domain", decodeDomain)
	if err != nil {
		return nil, fmt.Errorf("POST domains: %w", err)
	}
	return d, nil
}

// ScanTypes are the values of ScanRequest.ScanType: quick (the default)
// checks the certificate chain, protocols and ciphers; full adds
// vulnerability checks.
var ScanTypes = []string{"quick", "full"}

// ScanRequest is the body of POST scans: either DomainID or Hostname (with
// Port), not both.
type ScanRequest struct {
	DomainID    string // sent as a number when it is one
	Hostname    string
	Port        int    // with Hostname; default 443
	ScanType    string // quick (default) or full
	CallbackURL string // called by MySSL when the scan finishes
}

func (r ScanRequest) body() (map[string]any, error) {
	b := map[string]any{}
	switch {
	case (r.DomainID == "") == (r.Hostname == ""):
		return nil, errors.New("give either a domain id or a hostname")
	case r.DomainID != "":
		if n, err := strconv.ParseInt(r.DomainID, 10, 64); err == nil {
			b["domain_id"] = n
		} else {
			b["domain_id"] = r.DomainID
		}
	default:
		b["hostname"] = r.Hostname
		if r.Port != 0 {
			b["port"] = r.Port
		}
	}
	if r.ScanType != "" {
		if !slices.Contains(ScanTypes, r.ScanType) {
			return nil, fmt.Errorf("scan type %q: use quick or full", r.ScanType)
		}
		b["scan_type"] = r.ScanType
	}
	if r.CallbackURL != "" {
		b["callback_url"] = r.CallbackURL
	}
	return b, nil
}

// Scan is one scan. Only ID, Hostname, Port, Status, ScanType and CreatedAt
// are documented (in the answer to POST scans); the result fields are read
// where a finished scan most likely holds them, under the names the
// monitored domains use (ssl_grade, ssl_score, certificate_expiry,
// certificate.issuer) or shorter ones (grade, score).
type Scan struct {
	ID        string
	Hostname  string
	Port      int
	Status    string // "pending" when created; the later statuses are not documented
	ScanType  string
	CreatedAt time.Time
	// Accepted is when MySSL accepted the scan by its own clock: CreatedAt,
	// or else the answer's Date header.
	Accepted time.Time

	Grade             string
	Score             *int
	CertificateExpiry time.Time
	Issuer            string
	// Error is a failed scan's reason, when it gives one.
	Error string
	Raw   json.RawMessage
}

var (
	doneStatuses   = []string{"completed", "complete", "done", "finished", "success", "succeeded"}
	failedStatuses = []string{"failed", "failure", "error", "errored", "cancelled", "canceled", "timeout", "timed_out"}
)

// Done reports whether the scan has finished, well or not. Which statuses
// a finished scan has is not documented: the usual words count, and so
// does a grade without a status.
func (s *Scan) Done() bool {
	st := strings.ToLower(strings.TrimSpace(s.Status))
	return slices.Contains(doneStatuses, st) || s.Failed() || st == "" && s.Grade != ""
}

// Failed reports whether the scan ended without a result.
func (s *Scan) Failed() bool {
	return slices.Contains(failedStatuses, strings.ToLower(strings.TrimSpace(s.Status)))
}

// StartScan asks MySSL to scan a monitored domain or a hostname; MySSL
// answers 202 with the scan, which runs on its own. It is not retried after
// a lost answer (a second scan might start), only after a refusal (429).
func (c *Client) StartScan(ctx context.Context, r ScanRequest) (*Scan, error) {
	body, err := r.body()
	if err != nil {
		return nil, fmt.Errorf("starting a scan: %w", err)
	}
	resp, err := c.do(ctx, api.Request{Method: http.MethodPost, Path: "scans", JSON: body})
	if err != nil {
		return nil, err
	}
	s, err := decodeWrapped(resp.Body, "scan", decodeScan)
	if err != nil {
		return nil, fmt.Errorf("POST scans: %w", err)
	}
	if s.ID == "" {
		return nil, fmt.Errorf("POST scans: the answer (HTTP %d) holds no scan id", resp.Status)
	}
	s.Accepted = s.CreatedAt
	if s.Accepted.IsZero() {
		s.Accepted, _ = http.ParseTime(resp.Header.Get("Date"))
	}
	return s, nil
}

// GetScan reads a scan by id from GET scans/{id}, a path MySSL's
// documentation does not confirm: a 404 or 405 is ErrNoScanStatus.
func (c *Client) GetScan(ctx context.Context, id string) (*Scan, error) {
	resp, err := c.do(ctx, api.Request{Method: http.MethodGet, Path: "scans/" + url.PathEscape(id)})
	if s := api.StatusOf(err); s == http.StatusNotFound || s == http.StatusMethodNotAllowed {
		return nil, fmt.Errorf("%w: %w", ErrNoScanStatus, err)
	}
	if err != nil {
		return nil, err
	}
	s, err := decodeWrapped(resp.Body, "scan", decodeScan)
	if err != nil {
		return nil, fmt.Errorf("GET scans/%s: %w", id, err)
	}
	return s, nil
}

// decodeWrapped decodes {"<key>": {...}}, or the bare object should MySSL
// send one.
func decodeWrapped[T any](body []byte, key string, decode func(json.RawMessage) (*T, error)) (*T, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("decoding response: %w", err)
	}
	if raw, ok := m[key]; ok && len(raw) > 0 && raw[0] == '{' {
		return decode(raw)
	}
	return decode(body)
}

// wire is the tolerant form of a domain or a scan.
type wire struct {
	ID                  opaque          `json:"id"`
	Hostname            string          `json:"hostname"`
	Port                number          `json:"port"`
	SSLGrade            string          `json:"ssl_grade"`
	Grade               string          `json:"grade"`
	SSLScore            number          `json:"ssl_score"`
	Score               number          `json:"score"`
	CertificateExpiry   stamp           `json:"certificate_expiry"`
	DaysUntilExpiry     number          `json:"days_until_expiry"`
	LastScan            stamp           `json:"last_scan"`
	IsActive            *bool           `json:"is_active"`
	MonitoringFrequency string          `json:"monitoring_frequency"`
	CreatedAt           stamp           `json:"created_at"`
	Status              string          `json:"status"`
	ScanType            string          `json:"scan_type"`
	Error               json.RawMessage `json:"error"`
	Certificate         *struct {
		Issuer    json.RawMessage `json:"issuer"`
		Expiry    stamp           `json:"expiry"`
		NotAfter  stamp           `json:"not_after"`
		ValidTo   stamp           `json:"valid_to"`
		ExpiresAt stamp           `json:"expires_at"`
	} `json:"certificate"`
}

func (w *wire) grade() string {
	if w.SSLGrade != "" {
		return w.SSLGrade
	}
	return w.Grade
}

func (w *wire) score() *int {
	if w.SSLScore.set {
		return &w.SSLScore.n
	}
	if w.Score.set {
		return &w.Score.n
	}
	return nil
}

func (w *wire) expiry() time.Time {
	if !w.CertificateExpiry.IsZero() || w.Certificate == nil {
		return w.CertificateExpiry.Time
	}
	c := w.Certificate
	for _, t := range []stamp{c.Expiry, c.NotAfter, c.ValidTo, c.ExpiresAt} {
		if !t.IsZero() {
			return t.Time
		}
	}
	return time.Time{}
}

// issuer reads certificate.issuer: a string, or an object with a name.
func (w *wire) issuer() string {
	if w.Certificate == nil || len(w.Certificate.Issuer) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(w.Certificate.Issuer, &s) == nil {
		return s
	}
	var m map[string]any
	if json.Unmarshal(w.Certificate.Issuer, &m) == nil {
		for _, k := range []string{"common_name", "cn", "CN", "name", "organization", "o", "O"} {
			if v, ok := m[k].(string); ok && v != "" {
				return v
			}
		}
	}
	return ""
}

func decodeDomain(raw json.RawMessage) (*Domain, error) {
	var w wire
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("decoding a domain: %w", err)
	}
	d := &Domain{
		ID: string(w.ID), Hostname: w.Hostname, Port: w.Port.n, Grade: w.grade(), Score: w.score(),
		CertificateExpiry: w.expiry(), LastScan: w.LastScan.Time, Active: w.IsActive == nil || *w.IsActive,
		MonitoringFrequency: w.MonitoringFrequency, CreatedAt: w.CreatedAt.Time, Issuer: w.issuer(), Raw: raw,
	}
	if w.DaysUntilExpiry.set {
		d.DaysUntilExpiry = &w.DaysUntilExpiry.n
	}
	return d, nil
}

func decodeScan(raw json.RawMessage) (*Scan, error) {
	var w wire
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("decoding a scan: %w", err)
	}
	s := &Scan{
		ID: string(w.ID), Hostname: w.Hostname, Port: w.Port.n, Status: w.Status, ScanType: w.ScanType,
		CreatedAt: w.CreatedAt.Time, Grade: w.grade(), Score: w.score(), CertificateExpiry: w.expiry(),
		Issuer: w.issuer(), Raw: raw,
	}
	var msg string
	if json.Unmarshal(w.Error, &msg) == nil {
		s.Error = msg
	}
	return s, nil
}

// opaque is an id sent as a number or a string.
type opaque string

func (o *opaque) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		*o = opaque(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id %s is neither a number nor a string", b)
	}
	*o = opaque(n.String())
	return nil
}

// number is an integer sent as a number or a numeric string; null and ""
// leave it unset.
type number struct {
	n   int
	set bool
}

func (x *number) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("%s is not a number", b)
	}
	x.n, x.set = int(f), true
	return nil
}

// stamp is a time sent in RFC 3339, with or without a zone (then UTC) or
// fractional seconds; null and "" leave it zero.
type stamp struct{ time.Time }

func (t *stamp) UnmarshalJSON(b []byte) error {
	var s string
	if string(b) == "null" {
		return nil
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("time %s is not a string", b)
	}
	if s == "" {
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("time %q is not in RFC 3339 form", s)
}
