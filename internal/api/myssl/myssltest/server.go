// Package myssltest provides an in-process fake of the MySSL (myssl.info)
// API v1, for tests that must never reach the real service.
//
// The fake follows the project's reference (reference/myssl.md in the shared
// design notes). What MySSL documents is reproduced exactly: Bearer keys
// "myssl_k_…" and the two documented 401 bodies; GET domains with page,
// per_page (at most 100), status, grade and search, and its pagination
// object; GET domains/{id} with the certificate's issuer; POST scans taking
// either domain_id or hostname (with port, scan_type and callback_url) and
// answering 202 with the scan; the rate-limit headers X-RateLimit-Limit,
// -Remaining, -Reset (Unix seconds), X-Daily-Limit and X-Daily-Remaining
// on every answer, a per-key sliding minute and a per-account UTC day, and
// 429 beyond them. Where MySSL's behaviour is unknown the fake is strict and
// says so in an [UNKNOWN] comment: unknown query parameters and body fields
// are refused, and a scan beyond the plan's concurrent scans is refused
// with 429.
//
// The two calls MySSL does not confirm are switches, so that a client is
// tested both ways: GET scans/{id} ([Server.SetScanStatus]) and POST
// domains ([Server.SetCreateDomain]) are served when on and answer 404, as
// an unknown path does, when off (the default).
//
// Served endpoints, relative to [Server.URL] (which ends in "/api/v1/"):
//
//	GET  domains          list the monitored domains
//	GET  domains/{id}     one monitored domain
//	POST domains          add a monitored domain      (switch; 404 when off)
//	POST scans            start a scan, 202
//	GET  scans/{id}       a scan's status and result  (switch; 404 when off)
//
// A scan is pending until it finishes: when [Server.Finish] is called, or
// on its own once reads have seen it pending as often as
// [Server.SetAutoFinish] says (a read of the scan, or of its monitored
// domain in a listing or by id). It finishes with the result set for its
// host ([Server.SetResult]), which then shows on the monitored domain of
// that host and port, if MySSL watches it. [Server.Scans] records every
// scan request with the key that made it.
package myssltest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
)

// Endpoint keys used by [Server.Requests] and [Server.Count]. Every request
// is counted under exactly one, whatever its outcome.
const (
	EndpointListDomains  = "GET /domains"
	EndpointGetDomain    = "GET /domains/{id}"
	EndpointCreateDomain = "POST /domains"
	EndpointStartScan    = "POST /scans"
	EndpointGetScan      = "GET /scans/{id}"
	// EndpointOther counts unknown paths and wrong methods.
	EndpointOther = "other"
)

// The documented 401 bodies. [CONFIRMED-DOC] for the first; the second's
// "error" is documented, its status and message are not.
const (
	errAuthRequired = "Authentication required"
	msgAuthRequired = "Please provide a valid API key in the Authorization header"
	errInvalidKey   = "Invalid API key"
	msgInvalidKey   = "The API key does not exist or has been revoked" // [UNKNOWN] wording
)

// Fault is a failure the fake can inject in place of a normal answer; see
// [Server.FailNext]. A request answered with a fault changes nothing and is
// not counted against the rate limits.
type Fault int

const (
	// FaultRateLimit answers 429 as the per-minute limit does: remaining 0
	// and X-RateLimit-Reset one second after the fake's clock.
	FaultRateLimit Fault = iota + 1
	// FaultDailyLimit answers 429 as the daily limit does: X-Daily-Remaining 0.
	FaultDailyLimit
	// FaultForbidden answers 403 {"error":"Access denied",…}.
	FaultForbidden
	// FaultServerError answers 500 with a JSON body.
	FaultServerError
	// FaultBadGatewayHTML answers 502 with an HTML page, as a proxy would.
	FaultBadGatewayHTML
	// FaultDropConnection closes the connection without an answer.
	FaultDropConnection
)

func (f Fault) String() string {
	switch f {
	case FaultRateLimit:
		return "RateLimit"
	case FaultDailyLimit:
		return "DailyLimit"
	case FaultForbidden:
		return "Forbidden"
	case FaultServerError:
		return "ServerError"
	case FaultBadGatewayHTML:
		return "BadGatewayHTML"
	case FaultDropConnection:
		return "DropConnection"
	}
	return "Fault(" + strconv.Itoa(int(f)) + ")"
}

// Plan is a MySSL plan's limits [CONFIRMED-DOC]; zero means unlimited.
type Plan struct {
	Name       string
	PerMinute  int // requests in any 60 seconds, per key
	Daily      int // requests per UTC day, shared by every key of the account
	Concurrent int // scans running at once
}

// The plans MySSL documents (Enterprise is unlimited or custom).
var (
	Free     = Plan{Name: "Free", PerMinute: 10, Daily: 1000, Concurrent: 1}
	Pro      = Plan{Name: "Pro", PerMinute: 60, Daily: 10000, Concurrent: 5}
	Business = Plan{Name: "Business", PerMinute: 300, Daily: 100000, Concurrent: 20}
)

// Result is what a scan finds.
type Result struct {
	Grade  string    // "A+" … "F"
	Score  int       // 0..100
	Expiry time.Time // the certificate's expiry
	Issuer string
	// Fail, when set, makes the scan end "failed" with this reason
	// instead of a grade.
	Fail string
}

// DefaultResult is what a scan finds when no result is set for its host.
var DefaultResult = Result{Grade: "A", Score: 90, Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Issuer: "Pebble Intermediate CA"}

// ScanRecord is one accepted scan request and what became of it.
type ScanRecord struct {
	ID          string
	Key         string // the API key that started it
	DomainID    string // when started by domain_id
	Hostname    string
	Port        int
	ScanType    string
	CallbackURL string
	Status      string // pending, completed or failed
	CreatedAt   time.Time
	CompletedAt time.Time
	Result      Result // once finished
}

type domain struct {
	id        int
	hostname  string
	port      int
	active    bool
	frequency string
	created   time.Time
	scanned   bool
	result    Result
	lastScan  time.Time
	history   []int // scan ids
}

type scan struct {
	ScanRecord
	id     int
	domain *domain // nil for a host MySSL does not watch
	reads  int     // reads that saw it pending
}

// Server is a running fake of the MySSL API. All methods are safe for
// concurrent use, also while requests are in flight. Create it with
// [NewServer] and release it with [Server.Close].
type Server struct {
	// URL is the API root, "http://127.0.0.1:PORT/api/v1/".
	URL string

	// Controls gives the fake Close, Requests, Count, ResetCounts,
	// SetLatency, FailNext and SetEcho (see apitest.Server), keyed by the Endpoint*
	// constants and taking the Fault constants; StatusCounter counts the
	// answers by HTTP status.
	apitest.Controls[Fault]
	apitest.StatusCounter

	api *apitest.Server[Fault]

	mu           sync.Mutex
	keys         map[string]bool // key -> revoked
	plan         Plan
	clock        func() time.Time
	window       map[string][]time.Time // per key: accepted requests in the last minute
	day          string                 // the UTC day daily counts
	dailyUsed    int
	domains      []*domain
	scans        []*scan
	nextDomain   int
	nextScan     int
	scanStatus   bool
	createDomain bool
	results      map[string]Result // by lower-case hostname
	autoFinish   int
	maxRunning   int
	changed      chan struct{} // closed and replaced on every accepted scan
	echo         string        // the request's credentials, as SetEcho repeats them in error messages
}

// NewServer starts a fake on a loopback address with no keys, no monitored
// domains, the Free plan, the real clock, both unconfirmed calls off and
// scans that finish at the first read that sees them (SetAutoFinish(0)).
// The caller must call [Server.Close].
func NewServer() *Server {
	s := &Server{
		keys:       map[string]bool{},
		plan:       Free,
		clock:      time.Now,
		window:     map[string][]time.Time{},
		nextDomain: 1,
		nextScan:   12345,
		results:    map[string]Result{},
		changed:    make(chan struct{}),
	}
	s.api = apitest.New(http.HandlerFunc(s.serve), apitest.Options[Fault]{
		Known: func(f Fault) bool { return f >= FaultRateLimit && f <= FaultDropConnection },
	})
	s.Controls, s.StatusCounter = s.api, s.api
	s.api.Serve()
	s.URL = s.api.URL + "/api/v1/"
	return s
}

// AddKey makes key valid. It panics on a key MySSL would not issue (one
// not starting with "myssl_k_").
func (s *Server) AddKey(key string) {
	if !strings.HasPrefix(key, "myssl_k_") || len(key) <= len("myssl_k_") {
		panic("myssltest: AddKey: MySSL keys look like myssl_k_<random>, not " + strconv.Quote(key))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = false
}

// RevokeKey makes key answered as revoked.
func (s *Server) RevokeKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = true
}

// SetPlan sets the account's limits.
func (s *Server) SetPlan(p Plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plan = p
}

// SetClock replaces the clock the fake's times and limits follow.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = now
}

// SetScanStatus serves GET scans/{id} (on) or answers it 404 (off, the
// default): the path is not confirmed by MySSL's documentation.
func (s *Server) SetScanStatus(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scanStatus = on
}

// SetCreateDomain serves POST domains (on) or answers it 404 (off, the
// default): the call is not confirmed by MySSL's documentation.
func (s *Server) SetCreateDomain(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.createDomain = on
}

// SetResult makes scans of hostname (any port) find r.
func (s *Server) SetResult(hostname string, r Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results[strings.ToLower(hostname)] = r
}

// SetAutoFinish makes a scan finish on its own once n reads have seen it
// pending (0: the first read sees it finished); n < 0 leaves every scan
// pending until [Server.Finish].
func (s *Server) SetAutoFinish(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.autoFinish = n
}

// AddDomain makes MySSL watch hostname on port, never scanned yet, and
// returns its id.
func (s *Server) AddDomain(hostname string, port int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strconv.Itoa(s.addDomain(hostname, port).id)
}

// AddScannedDomain is AddDomain for a domain last scanned at lastScan with
// result r.
func (s *Server) AddScannedDomain(hostname string, port int, r Result, lastScan time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.addDomain(hostname, port)
	d.scanned, d.result, d.lastScan = true, r, lastScan.UTC().Truncate(time.Second)
	return strconv.Itoa(d.id)
}

func (s *Server) addDomain(hostname string, port int) *domain {
	d := &domain{id: s.nextDomain, hostname: strings.ToLower(hostname), port: port, active: true, frequency: "daily", created: s.clock().UTC().Truncate(time.Second)}
	s.nextDomain++
	s.domains = append(s.domains, d)
	return d
}

// Monitored returns the watched domains as "hostname:port", in order added.
func (s *Server) Monitored() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, d := range s.domains {
		out = append(out, d.hostname+":"+strconv.Itoa(d.port))
	}
	return out
}

// Finish finishes the pending scan id now, with its host's result. It
// reports whether there was such a pending scan.
func (s *Server) Finish(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range s.scans {
		if sc.ID == id && sc.Status == "pending" {
			s.finish(sc)
			return true
		}
	}
	return false
}

// Scans returns every accepted scan request, in order.
func (s *Server) Scans() []ScanRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ScanRecord, len(s.scans))
	for i, sc := range s.scans {
		out[i] = sc.ScanRecord
	}
	return out
}

// WaitScans blocks until n scans have been accepted in all, or ctx ends.
func (s *Server) WaitScans(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		got, changed := len(s.scans), s.changed
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%d scan(s) accepted, waiting for %d: %w", got, n, ctx.Err())
		}
	}
}

// MaxRunning returns the most scans that were pending at once.
func (s *Server) MaxRunning() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxRunning
}

// --- request handling ---

func endpointOf(r *http.Request) (endpoint, id string) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/")
	if !ok {
		return EndpointOther, ""
	}
	parts := strings.Split(rest, "/")
	switch {
	case rest == "domains" && r.Method == http.MethodGet:
		return EndpointListDomains, ""
	case rest == "domains" && r.Method == http.MethodPost:
		return EndpointCreateDomain, ""
	case len(parts) == 2 && parts[0] == "domains" && parts[1] != "" && r.Method == http.MethodGet:
		return EndpointGetDomain, parts[1]
	case rest == "scans" && r.Method == http.MethodPost:
		return EndpointStartScan, ""
	case len(parts) == 2 && parts[0] == "scans" && parts[1] != "" && r.Method == http.MethodGet:
		return EndpointGetScan, parts[1]
	}
	return EndpointOther, ""
}

type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// answer writes a JSON answer with the rate-limit headers and counts it.
func (s *Server) answer(w http.ResponseWriter, code int, body any) {
	s.api.AddStatus(code)
	apitest.WriteJSON(w, code, "application/json", body)
}

// fail writes MySSL's error body; under SetEcho, its message repeats the
// request's credentials, as a careless API would. Called with mu held.
func (s *Server) fail(w http.ResponseWriter, code int, e, msg string) {
	s.answer(w, code, errorBody{e, msg + s.echo})
}

// limitHeaders sets the rate-limit headers [CONFIRMED-DOC: every answer
// carries them] for key's window and the account's day. Called with mu held.
func (s *Server) limitHeaders(w http.ResponseWriter, key string, now time.Time) {
	s.rollDay(now)
	h := w.Header()
	win := s.window[key]
	reset := now.Add(time.Minute)
	if len(win) > 0 {
		reset = win[0].Add(time.Minute)
	}
	if s.plan.PerMinute > 0 {
		h.Set("X-RateLimit-Limit", strconv.Itoa(s.plan.PerMinute))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(s.plan.PerMinute-len(win), 0)))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(reset), 10))
	}
	if s.plan.Daily > 0 {
		h.Set("X-Daily-Limit", strconv.Itoa(s.plan.Daily))
		h.Set("X-Daily-Remaining", strconv.Itoa(max(s.plan.Daily-s.dailyUsed, 0)))
	}
}

func ceilUnix(t time.Time) int64 {
	if t.Truncate(time.Second).Equal(t) {
		return t.Unix()
	}
	return t.Unix() + 1
}

// rollDay resets the daily count at midnight UTC. Called with mu held.
func (s *Server) rollDay(now time.Time) {
	if d := now.UTC().Format(time.DateOnly); d != s.day {
		s.day, s.dailyUsed = d, 0
	}
}

// prune drops requests older than a minute from key's window. Called with
// mu held.
func (s *Server) prune(key string, now time.Time) {
	win := s.window[key]
	i := 0
	for i < len(win) && !win[i].Add(time.Minute).After(now) {
		i++
	}
	s.window[key] = win[i:]
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	endpoint, id := endpointOf(r)
	fault := s.api.Receive(r, endpoint)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.echo = s.api.EchoText(r)
	now := s.clock()
	key, keyOK := s.authenticate(r)
	s.prune(key, now)

	switch fault {
	case FaultDropConnection:
		s.api.AddStatus(0)
		apitest.Drop(w)
		return
	case FaultBadGatewayHTML:
		s.api.AddStatus(http.StatusBadGateway)
		apitest.WriteHTML(w, http.StatusBadGateway, "iso-8859-1", apitest.ApacheProxyError)
		return
	case FaultServerError:
		s.limitHeaders(w, key, now)
		s.fail(w, http.StatusInternalServerError, "Internal server error", "An unexpected error occurred") // [UNKNOWN] wording
		return
	case FaultForbidden:
		s.limitHeaders(w, key, now)
		s.fail(w, http.StatusForbidden, "Access denied", "You do not have access to this resource") // [DOC-UNVERIFIED]
		return
	case FaultRateLimit:
		s.limitHeaders(w, key, now)
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(now.Add(time.Second)), 10))
		s.fail(w, http.StatusTooManyRequests, "Rate limit exceeded", "Too many requests per minute") // [UNKNOWN] body
		return
	case FaultDailyLimit:
		s.limitHeaders(w, key, now)
		w.Header().Set("X-Daily-Remaining", "0")
		s.fail(w, http.StatusTooManyRequests, "Rate limit exceeded", "Daily request limit reached") // [UNKNOWN] body
		return
	}

	if !keyOK {
		// [UNKNOWN] whether an unauthenticated answer carries the limits; it
		// gets the plan's, untouched.
		s.limitHeaders(w, "", now)
		if key == "" {
			s.fail(w, http.StatusUnauthorized, errAuthRequired, msgAuthRequired)
		} else {
			s.fail(w, http.StatusUnauthorized, errInvalidKey, msgInvalidKey)
		}
		return
	}

	// Limits: the per-key sliding minute, then the account's UTC day.
	s.rollDay(now)
	if s.plan.PerMinute > 0 && len(s.window[key]) >= s.plan.PerMinute {
		s.limitHeaders(w, key, now)
		s.fail(w, http.StatusTooManyRequests, "Rate limit exceeded", fmt.Sprintf("Limit of %d requests per minute exceeded", s.plan.PerMinute)) // [UNKNOWN] body
		return
	}
	if s.plan.Daily > 0 && s.dailyUsed >= s.plan.Daily {
		s.limitHeaders(w, key, now)
		s.fail(w, http.StatusTooManyRequests, "Rate limit exceeded", fmt.Sprintf("Daily limit of %d requests exceeded", s.plan.Daily)) // [UNKNOWN] body
		return
	}
	s.window[key] = append(s.window[key], now)
	s.dailyUsed++
	s.limitHeaders(w, key, now)

	switch endpoint {
	case EndpointListDomains:
		s.listDomains(w, r)
	case EndpointGetDomain:
		s.getDomain(w, id)
	case EndpointCreateDomain:
		if !s.createDomain {
			s.notFound(w)
			return
		}
		s.postDomain(w, r, now)
	case EndpointStartScan:
		s.startScan(w, r, key, now)
	case EndpointGetScan:
		if !s.scanStatus {
			s.notFound(w)
			return
		}
		s.getScan(w, id, now)
	default:
		s.notFound(w)
	}
}

// notFound is the answer to a path MySSL does not serve. [UNKNOWN] body.
func (s *Server) notFound(w http.ResponseWriter) {
	s.fail(w, http.StatusNotFound, "Not found", "The requested resource was not found")
}

// authenticate reads "Authorization: Bearer myssl_k_…". key is "" when the
// header is missing or malformed; ok only for a valid, unrevoked key.
// Called with mu held.
func (s *Server) authenticate(r *http.Request) (key string, ok bool) {
	scheme, cred, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(cred, "myssl_k_") || len(cred) <= len("myssl_k_") {
		return "", false
	}
	revoked, known := s.keys[cred]
	return cred, known && !revoked
}

// --- domains ---

type domainJSON struct {
	ID                  int     `json:"id"`
	Hostname            string  `json:"hostname"`
	Port                int     `json:"port"`
	SSLGrade            *string `json:"ssl_grade"`
	SSLScore            *int    `json:"ssl_score"`
	CertificateExpiry   *string `json:"certificate_expiry"`
	DaysUntilExpiry     *int    `json:"days_until_expiry"`
	LastScan            *string `json:"last_scan"`
	IsActive            bool    `json:"is_active"`
	MonitoringFrequency string  `json:"monitoring_frequency"`
	CreatedAt           string  `json:"created_at"`
}

// domainDetail is GET domains/{id}'s domain: the listing's fields, the
// certificate and the scan history. [UNKNOWN] past "certificate": {"issuer"
// (the documentation's example stops there).
type domainDetail struct {
	domainJSON
	Certificate *struct {
		Issuer string `json:"issuer"`
	} `json:"certificate"`
	ScanHistory []scanJSON `json:"scan_history"`
}

func stamp(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

func (s *Server) domainJSON(d *domain, now time.Time) domainJSON {
	j := domainJSON{ID: d.id, Hostname: d.hostname, Port: d.port, IsActive: d.active, MonitoringFrequency: d.frequency, CreatedAt: stamp(d.created)}
	if d.scanned && d.result.Fail == "" {
		g, sc, exp, last := d.result.Grade, d.result.Score, stamp(d.result.Expiry), stamp(d.lastScan)
		days := int(d.result.Expiry.Sub(now).Hours() / 24)
		j.SSLGrade, j.SSLScore, j.CertificateExpiry, j.DaysUntilExpiry, j.LastScan = &g, &sc, &exp, &days, &last
	} else if d.scanned {
		last := stamp(d.lastScan)
		j.LastScan = &last
	}
	return j
}

// seeDomain counts a read of d's pending scans. Called with mu held.
func (s *Server) seeDomain(d *domain) {
	for _, sc := range s.scans {
		if sc.domain == d && sc.Status == "pending" {
			s.see(sc)
		}
	}
}

var gradeFilters = []string{"A+", "A", "B", "C", "D", "F"}

func (s *Server) listDomains(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains([]string{"page", "per_page", "status", "grade", "search"}, k) {
			// [UNKNOWN] strict: MySSL may ignore unknown parameters.
			s.fail(w, http.StatusBadRequest, "Validation error", "Unknown query parameter: "+k)
			return
		}
	}
	page, perPage := 1, 20
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.fail(w, http.StatusBadRequest, "Validation error", "page must be a positive integer") // [UNKNOWN] strict
			return
		}
		page = n
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			s.fail(w, http.StatusBadRequest, "Validation error", "per_page must be between 1 and 100") // [UNKNOWN] strict: MySSL may clamp
			return
		}
		perPage = n
	}
	status, grade, search := q.Get("status"), q.Get("grade"), strings.ToLower(q.Get("search"))
	if status != "" && !slices.Contains([]string{"active", "inactive", "expiring"}, status) {
		s.fail(w, http.StatusBadRequest, "Validation error", "status must be active, inactive or expiring")
		return
	}
	if grade != "" && !slices.Contains(gradeFilters, grade) {
		s.fail(w, http.StatusBadRequest, "Validation error", "grade must be one of A+, A, B, C, D, F")
		return
	}
	now := s.clock()
	var match []*domain
	for _, d := range s.domains {
		j := s.domainJSON(d, now)
		switch {
		case status == "active" && !d.active, status == "inactive" && d.active:
			continue
		case status == "expiring" && (j.DaysUntilExpiry == nil || *j.DaysUntilExpiry > 30): // [UNKNOWN] threshold
			continue
		case grade != "" && (j.SSLGrade == nil || *j.SSLGrade != grade):
			continue
		case search != "" && !strings.Contains(d.hostname, search):
			continue
		}
		match = append(match, d)
	}
	pages := (len(match) + perPage - 1) / perPage
	body := struct {
		Domains    []domainJSON `json:"domains"`
		Pagination struct {
			Page    int  `json:"page"`
			PerPage int  `json:"per_page"`
			Total   int  `json:"total"`
			Pages   int  `json:"pages"`
			HasNext bool `json:"has_next"`
			HasPrev bool `json:"has_prev"`
		} `json:"pagination"`
	}{Domains: []domainJSON{}}
	for i := (page - 1) * perPage; i < len(match) && i < page*perPage; i++ {
		s.seeDomain(match[i])
		body.Domains = append(body.Domains, s.domainJSON(match[i], now))
	}
	p := &body.Pagination
	p.Page, p.PerPage, p.Total, p.Pages, p.HasNext, p.HasPrev = page, perPage, len(match), pages, page < pages, page > 1
	s.answer(w, http.StatusOK, body)
}

func (s *Server) findDomain(id string) *domain {
	for _, d := range s.domains {
		if strconv.Itoa(d.id) == id {
			return d
		}
	}
	return nil
}

func (s *Server) getDomain(w http.ResponseWriter, id string) {
	d := s.findDomain(id)
	if d == nil {
		s.fail(w, http.StatusNotFound, "Not found", "Domain not found") // [UNKNOWN] body
		return
	}
	s.seeDomain(d)
	now := s.clock()
	j := domainDetail{domainJSON: s.domainJSON(d, now), ScanHistory: []scanJSON{}}
	if d.scanned && d.result.Issuer != "" {
		j.Certificate = &struct {
			Issuer string `json:"issuer"`
		}{d.result.Issuer}
	}
	for _, sc := range s.scans {
		if sc.domain == d {
			j.ScanHistory = append(j.ScanHistory, s.scanJSON(sc))
		}
	}
	s.answer(w, http.StatusOK, map[string]any{"domain": j})
}

// postDomain serves the unconfirmed POST domains. [UNKNOWN] every detail:
// a body {"hostname", "port"}, 201 with {"domain": …}, 409 for a domain
// watched already.
func (s *Server) postDomain(w http.ResponseWriter, r *http.Request, now time.Time) {
	var body struct {
		Hostname            string `json:"hostname"`
		Port                *int   `json:"port"`
		MonitoringFrequency string `json:"monitoring_frequency"`
	}
	if msg := readJSON(r, &body); msg != "" {
		s.fail(w, http.StatusBadRequest, "Validation error", msg)
		return
	}
	port := 443
	if body.Port != nil {
		port = *body.Port
	}
	if body.Hostname == "" || port < 1 || port > 65535 {
		s.fail(w, http.StatusBadRequest, "Validation error", "hostname is required and port must be 1 to 65535")
		return
	}
	for _, d := range s.domains {
		if d.hostname == strings.ToLower(body.Hostname) && d.port == port {
			s.fail(w, http.StatusConflict, "Conflict", "Domain is already monitored")
			return
		}
	}
	d := s.addDomain(body.Hostname, port)
	if body.MonitoringFrequency != "" {
		d.frequency = body.MonitoringFrequency
	}
	s.answer(w, http.StatusCreated, map[string]any{"domain": s.domainJSON(d, now)})
}

// readJSON decodes a JSON request body strictly: the Content-Type must be
// JSON [the documentation's examples send it; UNKNOWN whether required],
// and unknown fields are refused [UNKNOWN strict]. It returns the
// complaint, or "".
func readJSON(r *http.Request, v any) string {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return "Content-Type must be application/json"
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return "unreadable body"
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return "Invalid JSON body: " + err.Error()
	}
	if dec.More() {
		return "Invalid JSON body: trailing data"
	}
	return ""
}

// --- scans ---

type scanJSON struct {
	ID        int    `json:"id"`
	Hostname  string `json:"hostname"`
	Port      int    `json:"port"`
	Status    string `json:"status"`
	ScanType  string `json:"scan_type"`
	CreatedAt string `json:"created_at"`
	// The rest is [UNKNOWN]: a finished scan's fields, named as the
	// monitored domains name them.
	CompletedAt       *string `json:"completed_at,omitempty"`
	SSLGrade          *string `json:"ssl_grade,omitempty"`
	SSLScore          *int    `json:"ssl_score,omitempty"`
	CertificateExpiry *string `json:"certificate_expiry,omitempty"`
	Certificate       *struct {
		Issuer string `json:"issuer"`
	} `json:"certificate,omitempty"`
	Error *string `json:"error,omitempty"`
}

func (s *Server) scanJSON(sc *scan) scanJSON {
	j := scanJSON{ID: sc.id, Hostname: sc.Hostname, Port: sc.Port, Status: sc.Status, ScanType: sc.ScanType, CreatedAt: stamp(sc.CreatedAt)}
	if sc.Status == "pending" {
		return j
	}
	done := stamp(sc.CompletedAt)
	j.CompletedAt = &done
	if sc.Result.Fail != "" {
		j.Error = &sc.Result.Fail
		return j
	}
	g, score, exp := sc.Result.Grade, sc.Result.Score, stamp(sc.Result.Expiry)
	j.SSLGrade, j.SSLScore, j.CertificateExpiry = &g, &score, &exp
	j.Certificate = &struct {
		Issuer string `json:"issuer"`
	}{sc.Result.Issuer}
	return j
}

func (s *Server) running() int {
	n := 0
	for _, sc := range s.scans {
		if sc.Status == "pending" {
			n++
		}
	}
	return n
}

func (s *Server) startScan(w http.ResponseWriter, r *http.Request, key string, now time.Time) {
	var body struct {
		DomainID    *json.Number `json:"domain_id"`
		Hostname    *string      `json:"hostname"`
		Port        *int         `json:"port"`
		ScanType    *string      `json:"scan_type"`
		CallbackURL *string      `json:"callback_url"`
	}
	if msg := readJSON(r, &body); msg != "" {
		s.fail(w, http.StatusBadRequest, "Validation error", msg) // [UNKNOWN] body
		return
	}
	if (body.DomainID == nil) == (body.Hostname == nil) {
		s.fail(w, http.StatusBadRequest, "Validation error", "Provide either domain_id or hostname, not both") // [CONFIRMED-DOC] rule, [UNKNOWN] answer
		return
	}
	sc := &scan{ScanRecord: ScanRecord{Key: key, ScanType: "quick", Port: 443, Status: "pending", CreatedAt: now.UTC().Truncate(time.Second)}}
	if body.ScanType != nil {
		if *body.ScanType != "quick" && *body.ScanType != "full" {
			s.fail(w, http.StatusBadRequest, "Validation error", "scan_type must be quick or full")
			return
		}
		sc.ScanType = *body.ScanType
	}
	if body.CallbackURL != nil {
		sc.CallbackURL = *body.CallbackURL
	}
	if body.DomainID != nil {
		if body.Port != nil {
			s.fail(w, http.StatusBadRequest, "Validation error", "port goes with hostname") // [UNKNOWN] strict
			return
		}
		d := s.findDomain(body.DomainID.String())
		if d == nil {
			s.fail(w, http.StatusNotFound, "Not found", "Domain not found") // [UNKNOWN] body
			return
		}
		sc.DomainID, sc.domain, sc.Hostname, sc.Port = strconv.Itoa(d.id), d, d.hostname, d.port
	} else {
		h := strings.ToLower(strings.TrimSpace(*body.Hostname))
		if h == "" || strings.ContainsAny(h, " /:") {
			s.fail(w, http.StatusBadRequest, "Validation error", "hostname must be a host name")
			return
		}
		if body.Port != nil {
			if *body.Port < 1 || *body.Port > 65535 {
				s.fail(w, http.StatusBadRequest, "Validation error", "port must be 1 to 65535")
				return
			}
			sc.Port = *body.Port
		}
		sc.Hostname = h
		for _, d := range s.domains {
			// [UNKNOWN] whether a scan by hostname updates the monitored
			// domain of that host and port; the fake assumes it does.
			if d.hostname == h && d.port == sc.Port {
				sc.domain = d
			}
		}
	}
	if s.plan.Concurrent > 0 && s.running() >= s.plan.Concurrent {
		// [UNKNOWN] how MySSL refuses a scan beyond the plan's concurrent
		// scans; strict: 429.
		s.fail(w, http.StatusTooManyRequests, "Concurrent scan limit reached", fmt.Sprintf("The %s plan allows %d concurrent scan(s)", s.plan.Name, s.plan.Concurrent))
		return
	}
	sc.id = s.nextScan
	s.nextScan++
	sc.ID = strconv.Itoa(sc.id)
	s.scans = append(s.scans, sc)
	s.maxRunning = max(s.maxRunning, s.running())
	close(s.changed)
	s.changed = make(chan struct{})
	s.answer(w, http.StatusAccepted, map[string]any{"scan": s.scanJSON(sc)})
}

func (s *Server) getScan(w http.ResponseWriter, id string, now time.Time) {
	for _, sc := range s.scans {
		if sc.ID == id {
			if sc.Status == "pending" {
				s.see(sc)
			}
			s.answer(w, http.StatusOK, map[string]any{"scan": s.scanJSON(sc)})
			return
		}
	}
	s.fail(w, http.StatusNotFound, "Not found", "Scan not found") // [UNKNOWN] body
}

// see counts a read that sees sc pending and finishes it when it has been
// seen enough. Called with mu held.
func (s *Server) see(sc *scan) {
	if s.autoFinish < 0 {
		return
	}
	if sc.reads >= s.autoFinish {
		s.finish(sc)
		return
	}
	sc.reads++
}

// finish ends sc with its host's result and shows it on its domain. Called
// with mu held.
func (s *Server) finish(sc *scan) {
	r, ok := s.results[sc.Hostname]
	if !ok {
		r = DefaultResult
	}
	done := s.clock().UTC().Truncate(time.Second)
	if done.Before(sc.CreatedAt) {
		done = sc.CreatedAt
	}
	sc.Result, sc.CompletedAt, sc.Status = r, done, "completed"
	if r.Fail != "" {
		sc.Status = "failed"
	}
	if d := sc.domain; d != nil {
		d.history = append(d.history, sc.id)
		// [UNKNOWN] what a failed scan does to its domain; the fake leaves
		// the last result and its time as they were.
		if r.Fail == "" {
			d.scanned, d.lastScan, d.result = true, done, r
		}
	}
}
