// Package hostuptest provides an in-process fake of the HostUp API v2 DNS
// endpoints (https://cloud.hostup.se/api/v2/), for tests that must never
// reach the real service.
//
// The fake follows the project's API reference (reference/hostup.md in the
// shared design notes): documented ([DOC]) and client-observed ([CODE],
// [VENDOR-CODE]) behaviour is reproduced exactly; where the real behaviour
// is unknown ([UNKNOWN]) the fake is strict, i.e. it rejects what a real
// server might reject, so that clients tested against it stay on the safe
// side. Every such choice is marked "[UNKNOWN]" in a comment. The legacy
// (unversioned) API is not faked.
//
// Served endpoints, relative to [Server.URL] (which ends in "/api/v2/"):
//
//	GET    dns-zones                          find/list zones (name, limit, cursor)
//	GET    dns-zones/{id}                     one zone and its records (type, name filters)
//	GET    dns-zones/{id}/records             alias of the above, newer field names
//	POST   dns-zones/{id}/records             create one record: 201 and the flat record
//	DELETE dns-zones/{id}/records/{recordId}  delete one record: 204
//
// Requests must carry "Authorization: Bearer <key>" with a key added by
// [Server.AddKey] or [Server.AddKeyWithScopes]; each endpoint needs the
// scopes the documentation names, or the answer is 403. Errors are RFC 7807
// problem documents. Fault injection ([Server.FailNext], [Server.SetLatency],
// [Server.SetRateLimit]) reproduces rate limiting, server errors and lost
// connections; request counters ([Server.Count], [Server.CountStatus]) let
// tests assert on traffic.
package hostuptest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"mime"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
)

// Endpoint keys used by [Server.Requests] and [Server.Count]. Every request
// the fake receives is counted under exactly one of them, whatever its
// outcome (faulted, rate-limited, unauthorised, rejected or successful).
const (
	EndpointListZones    = "GET /dns-zones"
	EndpointGetZone      = "GET /dns-zones/{id}"
	EndpointListRecords  = "GET /dns-zones/{id}/records"
	EndpointCreateRecord = "POST /dns-zones/{id}/records"
	EndpointDeleteRecord = "DELETE /dns-zones/{id}/records/{recordId}"
	// EndpointOther counts everything else: unknown paths and wrong methods.
	EndpointOther = "other"
)

// Key scopes the fake checks ([DOC] D-V2-ZONES, D-V2-ZONE, D-V2-CREATE).
const (
	ScopeReadDNS     = "read:dns"
	ScopeWriteDNS    = "write:dns"
	ScopeReadDomains = "read:domains"
)

// ScopesACME are the scopes HostUp documents for ACME clients; [Server.AddKey]
// grants them.
var ScopesACME = []string{ScopeReadDNS, ScopeWriteDNS, ScopeReadDomains}

// DefaultRecordLimit is the documented maximum of customer-managed records
// per zone (SOA and NS records are not counted). [DOC] D-V2-CREATE
const DefaultRecordLimit = 200

// Types the API accepts on create ([DOC] D-V1-PUT, D-V2-ZONE). SPF is
// stored as TXT ([DOC] D-V2-RECS: "SPF appears as TXT").
var allowedTypes = map[string]bool{
	"A": true, "AAAA": true, "CNAME": true, "ALIAS": true, "MX": true, "TXT": true,
	"SPF": true, "NS": true, "SRV": true, "CAA": true, "TLSA": true,
}

// Record is one record as the fake stores it. Name is the full name without
// trailing dot ("_acme-challenge.example.com"; the apex is the zone name),
// as the API returns it. MX keeps its preference in Priority and SRV its
// priority, weight and port in the three fields; Value is then the target
// host name, without trailing dot. TXT values are the unquoted text.
type Record struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Name     string `json:"name"`
	Value    string `json:"value"`
	TTL      int    `json:"ttl"`
	Priority *int   `json:"priority"`
	Weight   *int   `json:"weight"`
	Port     *int   `json:"port"`
	// Status is "pending" until [Server.SetPendingFor] has passed since the
	// record was created, "active" afterwards. Seeded records are active.
	Status string `json:"status"`
}

// Fault is a failure the fake can inject in place of a normal response;
// see [Server.FailNext].
type Fault int

const (
	// FaultRateLimit answers 429 with the problem code rate_limited and
	// the four documented headers: Retry-After: 1, X-RateLimit-Limit,
	// X-RateLimit-Remaining: 0 and X-RateLimit-Reset one second ahead as an
	// ISO time. [DOC] D-ERR
	FaultRateLimit Fault = iota + 1
	// FaultServerError answers 500 with the problem code internal_error.
	FaultServerError
	// FaultBadGateway answers 502 with an HTML body, as a proxy in front of
	// the API would. [UNKNOWN] whether HostUp's proxy does this.
	FaultBadGateway
	// FaultDropConnection closes the connection without handling the
	// request or answering: nothing changes.
	FaultDropConnection
	// FaultDropResponse handles the request (a create or delete takes
	// effect), then closes the connection without answering: the client
	// cannot know the change happened.
	FaultDropResponse
)

// String returns the constant's name without the "Fault" prefix.
func (f Fault) String() string {
	switch f {
	case FaultRateLimit:
		return "RateLimit"
	case FaultServerError:
		return "ServerError"
	case FaultBadGateway:
		return "BadGateway"
	case FaultDropConnection:
		return "DropConnection"
	case FaultDropResponse:
		return "DropResponse"
	}
	return "Fault(" + strconv.Itoa(int(f)) + ")"
}

type stored struct {
	Record
	activeAt time.Time // zero: active from the start
}

type zone struct {
	id      string
	name    string // lower case, no trailing dot
	records []*stored
}

// Server is a running fake of the HostUp v2 API. All methods are safe for
// concurrent use, also while requests are in flight. Create it with
// [NewServer] and release it with [Server.Close].
type Server struct {
	// URL is the API base URL, ending in "/api/v2/",
	// e.g. "http://127.0.0.1:PORT/api/v2/".
	URL string

	// Controls gives the fake Close, Requests, Count, ResetCounts,
	// SetLatency and FailNext (see [apitest.Server]): requests are counted
	// under the Endpoint* constants, and FailNext takes the Fault constants
	// and panics on any other value. Unlike the other fakes', FailNext with
	// n <= 0 clears every queued fault. Set by [NewServer].
	apitest.Controls[Fault]
	// StatusCounter gives the fake CountStatus: every answer is counted
	// under its HTTP status, injected faults included, and a connection
	// closed without an answer under 0. Set by [NewServer].
	apitest.StatusCounter

	api *apitest.Server[Fault] // what the two above are, seen from the handler

	mu          sync.Mutex
	keys        map[string][]string
	zones       []*zone // in creation order
	nextZone    int
	nextRecord  int
	nextReq     int
	recordLimit int
	pendingFor  time.Duration
	dupStatus   int
	quoteTXT    bool
	numericIDs  bool
	pageSize    int
	rateLimit   int
	rateWindow  time.Duration
	windowStart time.Time
	windowUsed  int
	now         func() time.Time
}

// NewServer starts a fake on a loopback address. It has no keys and no
// zones; the record limit is [DefaultRecordLimit], records stay pending for
// one second, duplicates are refused with 400, there is no rate limit, no
// latency and no pending fault. The caller must call [Server.Close].
func NewServer() *Server {
	s := &Server{
		keys:        map[string][]string{},
		recordLimit: DefaultRecordLimit,
		pendingFor:  time.Second,
		dupStatus:   http.StatusBadRequest,
		pageSize:    20,
		nextRecord:  1,
		now:         time.Now,
	}
	s.api = apitest.New(http.HandlerFunc(s.serve), apitest.Options[Fault]{
		Known:      func(f Fault) bool { return f >= FaultRateLimit && f <= FaultDropResponse },
		ZeroClears: true,
	})
	s.Controls, s.StatusCounter = s.api, s.api
	s.api.Serve()
	s.URL = s.api.URL + "/api/v2/"
	return s
}

// AddKey makes key a valid Bearer token with the scopes of [ScopesACME].
func (s *Server) AddKey(key string) { s.AddKeyWithScopes(key, ScopesACME...) }

// AddKeyWithScopes makes key a valid Bearer token with exactly the given
// scopes (none is allowed: every endpoint then answers 403). Adding a key
// again replaces its scopes.
func (s *Server) AddKeyWithScopes(key string, scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = slices.Clone(scopes)
}

// AddZone adds zone (case-insensitive, a trailing dot is ignored) to the
// account with the given records, or replaces the records of a zone that is
// there already, keeping its id. It returns the zone id ("zone_…").
//
// Record names may be "@", relative to the zone or full names (with or
// without trailing dot); targets may carry a trailing dot. Empty IDs are
// assigned, statuses are set to active; nothing else is validated, so tests
// can seed data the API would refuse. It panics on an empty zone name or a
// record name outside the zone.
func (s *Server) AddZone(name string, records ...Record) string {
	zname := canonicalZone(name)
	if zname == "" {
		panic("hostuptest: AddZone: empty zone name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zone(zname)
	if z == nil {
		s.nextZone++
		z = &zone{id: "zone_" + ulid(s.nextZone), name: zname}
		s.zones = append(s.zones, z)
	}
	z.records = nil
	for _, r := range records {
		fqdn, err := seedName(r.Name, zname)
		if err != nil {
			panic("hostuptest: AddZone(" + name + "): " + err.Error())
		}
		r.Name = fqdn
		r.Type = strings.ToUpper(r.Type)
		switch r.Type {
		case "CNAME", "ALIAS", "NS", "MX", "SRV":
			r.Value = strings.TrimSuffix(r.Value, ".") // stored like the API shows it
		}
		if r.ID == "" {
			r.ID = s.newRecordID()
		}
		r.Status = "active"
		z.records = append(z.records, &stored{Record: r})
	}
	return z.id
}

// ZoneID returns the id of zone, or "" if it is not in the account.
func (s *Server) ZoneID(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if z := s.zone(canonicalZone(name)); z != nil {
		return z.id
	}
	return ""
}

// Records returns a copy of the records of zone in API order, with their
// current status, or nil if the zone is not in the account.
func (s *Server) Records(zoneName string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zone(canonicalZone(zoneName))
	if z == nil {
		return nil
	}
	now := s.now()
	out := make([]Record, len(z.records))
	for i, r := range z.records {
		out[i] = r.view(now)
	}
	return out
}

// Zones returns what the zone's nameservers would serve: every active
// record of every zone, keyed by the zone's name with a trailing dot, in
// libdns form (names relative to the zone, "@" for the apex; Data in zone
// file syntax with absolute targets, e.g. "10 mail.example.com." for MX; TXT
// unquoted). Pending records are not served yet.
func (s *Server) Zones() map[string][]libdns.RR {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make(map[string][]libdns.RR, len(s.zones))
	for _, z := range s.zones {
		rrs := []libdns.RR{}
		for _, r := range z.records {
			if v := r.view(now); v.Status == "active" {
				rrs = append(rrs, v.RR(z.name))
			}
		}
		out[z.name+"."] = rrs
	}
	return out
}

// RR converts a stored record into libdns form relative to zoneName (see
// [Server.Zones]).
func (r Record) RR(zoneName string) libdns.RR {
	zoneName = canonicalZone(zoneName)
	rr := libdns.RR{Name: libdns.RelativeName(r.Name+".", zoneName+"."), Type: r.Type, TTL: time.Duration(r.TTL) * time.Second, Data: r.Value}
	host := func(v string) string {
		if v == "" || strings.HasSuffix(v, ".") {
			return v
		}
		return v + "."
	}
	switch r.Type {
	case "CNAME", "ALIAS", "NS":
		rr.Data = host(r.Value)
	case "MX":
		rr.Data = fmt.Sprintf("%d %s", deref(r.Priority), host(r.Value))
	case "SRV":
		rr.Data = fmt.Sprintf("%d %d %d %s", deref(r.Priority), deref(r.Weight), deref(r.Port), host(r.Value))
	}
	return rr
}

// RecordFromRR converts a libdns record (name relative to the zone or
// absolute) into the fake's form for [Server.AddZone]: MX and SRV numbers
// move into their own fields and targets lose their trailing dot.
func RecordFromRR(rr libdns.RR) (Record, error) {
	r := Record{Type: strings.ToUpper(rr.Type), Name: rr.Name, Value: rr.Data, TTL: int(rr.TTL / time.Second)}
	f := strings.Fields(rr.Data)
	num := func(s string) (*int, error) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 65535 {
			return nil, fmt.Errorf("%s %s: %q is not a number from 0 to 65535", rr.Name, rr.Type, s)
		}
		return &n, nil
	}
	var err error
	switch r.Type {
	case "CNAME", "ALIAS", "NS":
		r.Value = strings.TrimSuffix(strings.TrimSpace(rr.Data), ".")
	case "MX":
		if len(f) != 2 {
			return Record{}, fmt.Errorf("%s MX: data %q is not \"PREFERENCE TARGET\"", rr.Name, rr.Data)
		}
		if r.Priority, err = num(f[0]); err != nil {
			return Record{}, err
		}
		r.Value = strings.TrimSuffix(f[1], ".")
	case "SRV":
		if len(f) != 4 {
			return Record{}, fmt.Errorf("%s SRV: data %q is not \"PRIORITY WEIGHT PORT TARGET\"", rr.Name, rr.Data)
		}
		for i, dst := range []**int{&r.Priority, &r.Weight, &r.Port} {
			if *dst, err = num(f[i]); err != nil {
				return Record{}, err
			}
		}
		r.Value = strings.TrimSuffix(f[3], ".")
	}
	return r, nil
}

// SetRateLimit allows limit requests per fixed window (the first window
// starts with the next request); further requests in a window get 429 with
// rate_limited, Retry-After (whole seconds to the window's end, at least 1)
// and X-RateLimit-Reset (the window's end as an ISO time). While a limit is
// set, every answer carries X-RateLimit-Limit, X-RateLimit-Remaining and
// X-RateLimit-Reset. [DOC] D-ERR for the headers; the real limits, and
// whether they are per key, are [UNKNOWN]: the fake counts every request of
// every key. limit <= 0 switches limiting off.
func (s *Server) SetRateLimit(limit int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimit, s.rateWindow = limit, window
	s.windowStart, s.windowUsed = time.Time{}, 0
}

// SetRecordLimit changes the maximum number of customer-managed records per
// zone (NS records are not counted); default [DefaultRecordLimit].
func (s *Server) SetRecordLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordLimit = n
}

// SetPendingFor sets how long a created record stays "pending" (and is not
// served by [Server.Zones]); default one second. The create response always
// says "pending". [DOC] pending right after a change, active later; the
// real delay is [UNKNOWN].
func (s *Server) SetPendingFor(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pendingFor = d
}

// SetDuplicateStatus sets the HTTP status of the answer to a create that
// would duplicate an existing record exactly; default 400 (problem code
// invalid_request). The documentation says duplicates are rejected but not
// how: [UNKNOWN], so clients should be tested with 409 too.
func (s *Server) SetDuplicateStatus(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dupStatus = code
}

// SetQuoteTXT makes TXT values come back wrapped in double quotes, split into
// 255-byte strings ("\"part1\" \"part2\""), as the legacy API did. v2 shows
// them unquoted ([INFERRED] default off); clients strip quotes when present.
func (s *Server) SetQuoteTXT(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quoteTXT = on
}

// SetClock makes the fake read the time from now (its rate-limit windows,
// record activation, problem timestamps) instead of the system clock, so a
// test can move time on instead of waiting.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetNumericIDs makes records created or seeded from now on get integer ids,
// sent as JSON numbers (the legacy API's form, which the docs say may still
// appear); default off: "drr_…" strings.
func (s *Server) SetNumericIDs(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.numericIDs = on
}

// SetPageSize sets the number of zones per page when a request gives no
// limit; default 20. [UNKNOWN] the real default.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = max(n, 1)
}

// --- request handling ---

// problem is an RFC 7807 answer. [DOC] D-ERR, lego fixtures/error.json.
type problem struct {
	status int
	code   string
	title  string
	detail string
	errors []fieldError
	header map[string]string
}

type fieldError struct {
	Pointer string `json:"pointer"`
	Detail  string `json:"detail"`
	Code    string `json:"code"`
}

func invalid(pointer, format string, args ...any) *problem {
	d := fmt.Sprintf(format, args...)
	return &problem{status: http.StatusBadRequest, code: "invalid_request", title: "Invalid request",
		detail: "The request failed validation.", errors: []fieldError{{Pointer: pointer, Detail: d, Code: "invalid_request"}}}
}

// notFound: the code and texts are [UNKNOWN]; "not_found" is the legacy
// API's code in lower case.
func notFound(what string) *problem {
	return &problem{status: http.StatusNotFound, code: "not_found", title: "Not found", detail: what + " was not found."}
}

type routeKind int

const (
	routeUnknown routeKind = iota
	routeZones
	routeZone
	routeRecords
	routeRecord
)

// route classifies a request path. [UNKNOWN] strict: a trailing slash is
// not the same path.
func route(path string) (kind routeKind, zoneID, recordID string) {
	rest, ok := strings.CutPrefix(path, "/api/v2/")
	if !ok {
		return routeUnknown, "", ""
	}
	p := strings.Split(rest, "/")
	switch {
	case len(p) == 1 && p[0] == "dns-zones":
		return routeZones, "", ""
	case len(p) == 2 && p[0] == "dns-zones" && p[1] != "":
		return routeZone, p[1], ""
	case len(p) == 3 && p[0] == "dns-zones" && p[1] != "" && p[2] == "records":
		return routeRecords, p[1], ""
	case len(p) == 4 && p[0] == "dns-zones" && p[1] != "" && p[2] == "records" && p[3] != "":
		return routeRecord, p[1], p[3]
	}
	return routeUnknown, "", ""
}

// endpoint returns the counter key and the scopes the call needs.
// [DOC]: list zones needs read:dns and read:domains, reading a zone
// read:dns, writing write:dns.
func endpoint(kind routeKind, method string) (string, []string) {
	switch {
	case kind == routeZones && method == http.MethodGet:
		return EndpointListZones, []string{ScopeReadDNS, ScopeReadDomains}
	case kind == routeZone && method == http.MethodGet:
		return EndpointGetZone, []string{ScopeReadDNS}
	case kind == routeRecords && method == http.MethodGet:
		return EndpointListRecords, []string{ScopeReadDNS}
	case kind == routeRecords && method == http.MethodPost:
		return EndpointCreateRecord, []string{ScopeWriteDNS}
	case kind == routeRecord && method == http.MethodDelete:
		return EndpointDeleteRecord, []string{ScopeWriteDNS}
	}
	return EndpointOther, nil
}

// recorder buffers an answer so that FaultDropResponse can throw it away
// after the request took effect, and so that the status can be counted.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	kind, zoneID, recordID := route(r.URL.Path)
	key, scopes := endpoint(kind, r.Method)
	fault := s.api.Receive(r, key)
	s.mu.Lock()
	limited, rlHeaders := s.rateCheck()
	s.mu.Unlock()

	rec := &recorder{header: http.Header{}}
	maps.Copy(rec.header, rlHeaders)
	switch {
	case fault == FaultDropConnection:
		s.drop(w)
		return
	case fault != 0 && fault != FaultDropResponse:
		s.serveFault(rec, r, fault)
	case limited != nil:
		s.writeProblem(rec, r, limited)
	default:
		s.handle(rec, r, kind, zoneID, recordID, scopes)
	}
	if fault == FaultDropResponse {
		s.drop(w)
		return
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	s.api.AddStatus(rec.status)
	maps.Copy(w.Header(), rec.header)
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

// drop closes the connection without an answer.
func (s *Server) drop(w http.ResponseWriter) {
	s.api.AddStatus(0)
	apitest.Drop(w)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, kind routeKind, zoneID, recordID string, scopes []string) {
	// Authentication comes before routing: a bad key gets 401 on any path.
	// [DOC] "Authorization: Bearer <token>"; [UNKNOWN] strict: X-API-Key
	// (legacy) and other schemes are not accepted on v2.
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	granted, known := s.keys[token]
	s.mu.Unlock()
	if !ok || token == "" || !known {
		echo := s.api.EchoText(r)
		p := &problem{status: http.StatusUnauthorized, code: "unauthorized", title: "Unauthorized", detail: "Authentication required." + echo}
		if echo != "" {
			p.errors = []fieldError{{Pointer: "/authorization", Detail: "not a valid token" + echo}}
		}
		s.writeProblem(w, r, p)
		return
	}
	if kind == routeUnknown {
		s.writeProblem(w, r, notFound("The requested resource"))
		return
	}
	if scopes == nil {
		w.Header().Set("Allow", map[routeKind]string{routeZones: "GET", routeZone: "GET", routeRecords: "GET, POST", routeRecord: "DELETE"}[kind])
		s.writeProblem(w, r, &problem{status: http.StatusMethodNotAllowed, code: "method_not_allowed", title: "Method not allowed", detail: r.Method + " is not allowed here."}) // [UNKNOWN] code and text
		return
	}
	for _, sc := range scopes {
		if !slices.Contains(granted, sc) {
			// [UNKNOWN] detail text; the code is [DOC].
			s.writeProblem(w, r, &problem{status: http.StatusForbidden, code: "forbidden", title: "Forbidden",
				detail: "This API key lacks the scope " + sc + " required for this request."})
			return
		}
	}
	var p *problem
	switch {
	case kind == routeZones:
		p = s.listZones(w, r)
	case kind == routeRecords && r.Method == http.MethodPost:
		p = s.createRecord(w, r, zoneID)
	case kind == routeZone || kind == routeRecords:
		p = s.getZone(w, r, zoneID, kind == routeRecords)
	case kind == routeRecord:
		p = s.deleteRecord(w, zoneID, recordID)
	}
	if p != nil {
		s.writeProblem(w, r, p)
	}
}

// rateCheck counts the request against the current window. Callers hold s.mu.
func (s *Server) rateCheck() (*problem, http.Header) {
	if s.rateLimit <= 0 {
		return nil, nil
	}
	now := s.now()
	if s.windowStart.IsZero() || now.Sub(s.windowStart) >= s.rateWindow {
		s.windowStart, s.windowUsed = now, 0
	}
	reset := s.windowStart.Add(s.rateWindow)
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.rateLimit))
	h.Set("X-RateLimit-Reset", isoTime(reset))
	if s.windowUsed >= s.rateLimit {
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(reset.Sub(now).Seconds())))))
		return rateLimited(), h
	}
	s.windowUsed++
	h.Set("X-RateLimit-Remaining", strconv.Itoa(s.rateLimit-s.windowUsed))
	return nil, h
}

// rateLimited is the documented 429. [DOC] D-ERR, D-V2-CREATE
func rateLimited() *problem {
	return &problem{status: http.StatusTooManyRequests, code: "rate_limited", title: "Too many requests", detail: "Rate limit exceeded. Please try again later."}
}

func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f Fault) {
	switch f {
	case FaultRateLimit:
		s.mu.Lock()
		limit := s.rateLimit
		reset := s.now().Add(time.Second)
		s.mu.Unlock()
		if limit <= 0 {
			limit = 60 // [UNKNOWN] the real limit
		}
		w.Header().Set("Retry-After", "1")
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", isoTime(reset))
		s.writeProblem(w, r, rateLimited())
	case FaultServerError:
		s.writeProblem(w, r, &problem{status: http.StatusInternalServerError, code: "internal_error", title: "Internal server error", detail: "An unexpected error occurred." + s.api.EchoText(r)})
	case FaultBadGateway:
		apitest.WriteHTML(w, http.StatusBadGateway, "utf-8",
			"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n")
	}
}

// writeProblem sends p. [UNKNOWN] the Content-Type of problem answers; the
// fake uses RFC 7807's application/problem+json, so clients must not insist
// on application/json.
func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, p *problem) {
	s.mu.Lock()
	s.nextReq++
	reqID := "req_" + ulid(s.nextReq)
	now := s.now()
	s.mu.Unlock()
	body := struct {
		Type      string       `json:"type"`
		Title     string       `json:"title"`
		Status    int          `json:"status"`
		Detail    string       `json:"detail"`
		Code      string       `json:"code"`
		Instance  string       `json:"instance"`
		RequestID string       `json:"requestId"`
		Timestamp string       `json:"timestamp"`
		Errors    []fieldError `json:"errors,omitempty"`
	}{"https://developer.hostup.se/errors/" + p.code, p.title, p.status, p.detail, p.code, r.URL.Path, reqID, isoTime(now), p.errors}
	for k, v := range p.header {
		w.Header().Set(k, v)
	}
	apitest.WriteJSON(w, p.status, "application/problem+json", body)
}

// zoneEntry is one element of GET /dns-zones. [DOC] D-V2-ZONES, lego
// fixtures/zones.json.
type zoneEntry struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ZoneStatus  string `json:"zoneStatus"`
	IsDNSOnly   bool   `json:"isDnsOnly"`
	Kind        string `json:"kind"`
	RecordCount int    `json:"recordCount"`
}

// listZones answers GET /dns-zones?name=&limit=&cursor=. [DOC] name is an
// exact match, limit 1..1000, cursor opaque. [UNKNOWN] strict: names are
// matched in lower case without trailing dot only; an unknown cursor is a
// 400.
func (s *Server) listZones(w http.ResponseWriter, r *http.Request) *problem {
	q := r.URL.Query()
	s.mu.Lock()
	limit := s.pageSize
	s.mu.Unlock()
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > 1000 {
			return invalid("/limit", "`limit` must be an integer from 1 to 1000.")
		}
		limit = n
	}
	offset := 0
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(c, "cur_"))
		n, err2 := strconv.Atoi(string(b))
		if !strings.HasPrefix(c, "cur_") || err != nil || err2 != nil || n < 0 {
			return invalid("/cursor", "`cursor` is not valid.")
		}
		offset = n
	}
	name, byName := q["name"]
	s.mu.Lock()
	var all []zoneEntry
	for _, z := range s.zones {
		if byName && z.name != name[0] {
			continue
		}
		all = append(all, zoneEntry{ID: z.id, Name: z.name, ZoneStatus: "active", Kind: "linked", RecordCount: len(z.records)})
	}
	s.mu.Unlock()
	page := all[min(offset, len(all)):min(offset+limit, len(all))]
	var next *string
	if offset+limit < len(all) {
		c := "cur_" + base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset+limit)))
		next = &c
	}
	if page == nil {
		page = []zoneEntry{}
	}
	apitest.WriteJSON(w, http.StatusOK, "application/json", struct {
		Data       []zoneEntry `json:"data"`
		HasMore    bool        `json:"hasMore"`
		NextCursor *string     `json:"nextCursor"`
	}{page, next != nil, next})
	return nil
}

// getZone answers GET /dns-zones/{id} (the D-V2-ZONE shape: zoneStatus,
// recordCount) and its alias /records (the newer D-V2-RECS shape: status,
// totalRecordCount, liveRecordLimit, exceedsLiveRecordLimit); clients must
// read both. Filters: type (a known type) and name ("@", relative, or the
// full name with or without trailing dot). [DOC]
func (s *Server) getZone(w http.ResponseWriter, r *http.Request, zoneID string, alias bool) *problem {
	q := r.URL.Query()
	typ := strings.ToUpper(q.Get("type"))
	if _, ok := q["type"]; ok && !allowedTypes[typ] {
		return invalid("/type", "`type` must be one of A, AAAA, CNAME, ALIAS, MX, TXT, SPF, NS, SRV, CAA, TLSA.")
	}
	if typ == "SPF" {
		typ = "TXT"
	}
	s.mu.Lock()
	z := s.zoneByID(zoneID)
	if z == nil {
		s.mu.Unlock()
		return notFound("The DNS zone")
	}
	nameFilter, byName := "", false
	if v, ok := q["name"]; ok {
		byName = true
		nameFilter = filterName(v[0], z.name)
	}
	now := s.now()
	quote := s.quoteTXT
	limit := s.recordLimit
	var recs []any
	for _, st := range z.records {
		v := st.view(now)
		if (typ != "" && v.Type != typ) || (byName && v.Name != nameFilter) {
			continue
		}
		recs = append(recs, s.encode(v, quote))
	}
	count, customer := len(z.records), z.customerCount()
	id, name := z.id, z.name
	s.mu.Unlock()
	if recs == nil {
		recs = []any{}
	}
	var zoneObj any
	if alias {
		zoneObj = struct {
			ID                     string `json:"id"`
			Name                   string `json:"name"`
			Status                 string `json:"status"`
			RecordCount            int    `json:"recordCount"`
			TotalRecordCount       int    `json:"totalRecordCount"`
			LiveRecordLimit        int    `json:"liveRecordLimit"`
			ExceedsLiveRecordLimit bool   `json:"exceedsLiveRecordLimit"`
		}{id, name, "active", customer, count, limit, customer > limit}
	} else {
		zoneObj = struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			ZoneStatus  string `json:"zoneStatus"`
			RecordCount int    `json:"recordCount"`
		}{id, name, "active", count}
	}
	apitest.WriteJSON(w, http.StatusOK, "application/json", struct {
		Zone    any   `json:"zone"`
		Records []any `json:"records"`
	}{zoneObj, recs})
	return nil
}

// filterName turns a name filter into the stored full name.
func filterName(v, zoneName string) string {
	v = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(v)), ".")
	switch {
	case v == "" || v == "@":
		return zoneName
	case v == zoneName || strings.HasSuffix(v, "."+zoneName):
		return v
	}
	return v + "." + zoneName
}

// encode returns a record as the API sends it. Callers hold s.mu.
func (s *Server) encode(r Record, quote bool) any {
	if quote && r.Type == "TXT" {
		r.Value = quoteTXT(r.Value)
	}
	var id any = r.ID
	if n, err := strconv.ParseInt(r.ID, 10, 64); err == nil {
		id = n // numeric ids go out as JSON numbers
	}
	return struct {
		ID       any    `json:"id"`
		Type     string `json:"type"`
		Name     string `json:"name"`
		Value    string `json:"value"`
		TTL      int    `json:"ttl"`
		Priority *int   `json:"priority"`
		Weight   *int   `json:"weight"`
		Port     *int   `json:"port"`
		Status   string `json:"status"`
	}{id, r.Type, r.Name, r.Value, r.TTL, r.Priority, r.Weight, r.Port, r.Status}
}

// quoteTXT wraps text in 255-byte quoted strings, escaping '"' and '\'.
func quoteTXT(v string) string {
	var parts []string
	for {
		n := min(len(v), 255)
		part := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v[:n])
		parts = append(parts, `"`+part+`"`)
		if v = v[n:]; v == "" {
			return strings.Join(parts, " ")
		}
	}
}

// createRecord answers POST /dns-zones/{id}/records with 201 and the flat
// record, status pending. [DOC] D-V2-CREATE, [CODE] lego record_create.json.
func (s *Server) createRecord(w http.ResponseWriter, r *http.Request, zoneID string) *problem {
	s.mu.Lock()
	z := s.zoneByID(zoneID)
	s.mu.Unlock()
	if z == nil {
		return notFound("The DNS zone")
	}
	rec, p := parseCreate(r, z.name)
	if p != nil {
		return p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if z = s.zoneByID(zoneID); z == nil {
		return notFound("The DNS zone")
	}
	if p := s.conflicts(z, rec); p != nil {
		return p
	}
	if rec.Type != "NS" && z.customerCount() >= s.recordLimit {
		// [DOC] the limit; [UNKNOWN] status and code: the fake uses a plain
		// invalid_request so clients cannot depend on either.
		return invalid("", "This zone already has %d customer-managed records, the maximum.", s.recordLimit)
	}
	rec.ID = s.newRecordID()
	rec.Status = "pending"
	z.records = append(z.records, &stored{Record: rec, activeAt: s.now().Add(s.pendingFor)})
	apitest.WriteJSON(w, http.StatusCreated, "application/json", s.encode(rec, s.quoteTXT))
	return nil
}

// conflicts applies the documented validations that need the zone: exact
// duplicates, duplicate MX priorities, CNAME conflicts. Callers hold s.mu.
func (s *Server) conflicts(z *zone, rec Record) *problem {
	for _, st := range z.records {
		o := st.Record
		if o.Name != rec.Name {
			continue
		}
		// [DOC] exact duplicates are rejected; [UNKNOWN] strict: the TTL
		// is not part of the comparison, names and non-TXT values compare
		// case-insensitively.
		if o.Type == rec.Type && sameValue(o, rec) && eqInt(o.Priority, rec.Priority) && eqInt(o.Weight, rec.Weight) && eqInt(o.Port, rec.Port) {
			p := invalid("/value", "An identical %s record already exists for this name.", rec.Type)
			p.status = s.dupStatus
			if p.status == http.StatusConflict {
				p.code, p.title = "conflict", "Conflict" // [UNKNOWN]
			}
			return p
		}
		if o.Type == "MX" && rec.Type == "MX" && eqInt(o.Priority, rec.Priority) {
			return invalid("/priority", "Another MX record of this name has priority %d.", deref(rec.Priority))
		}
		if o.Type == "CNAME" || rec.Type == "CNAME" {
			return invalid("/name", "A CNAME record cannot share its name with other records.")
		}
	}
	return nil
}

func sameValue(a, b Record) bool {
	if a.Type == "TXT" {
		return a.Value == b.Value
	}
	return strings.EqualFold(a.Value, b.Value)
}

func eqInt(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// deleteRecord answers DELETE /dns-zones/{id}/records/{recordId} with 204.
// [CODE] lego v2 test, cert-manager webhook. [UNKNOWN] ids are compared
// exactly as in the path.
func (s *Server) deleteRecord(w http.ResponseWriter, zoneID, recordID string) *problem {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zoneByID(zoneID)
	if z == nil {
		return notFound("The DNS zone")
	}
	i := slices.IndexFunc(z.records, func(st *stored) bool { return st.ID == recordID })
	if i < 0 {
		return notFound("The DNS record")
	}
	z.records = slices.Delete(z.records, i, i+1)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var (
	hostLabel = regexp.MustCompile(`^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$`)
	caaValue  = regexp.MustCompile(`^([0-9]{1,3}) ([a-zA-Z0-9]+) "[^"]*"$`)
	tlsaValue = regexp.MustCompile(`^[0-3] [01] [0-2] [0-9a-fA-F]+$`)
)

// parseCreate validates a create body. [DOC] D-V2-CREATE: type, name
// (relative, "@" or "" for the apex, not the FQDN), value (TXT unquoted),
// optional ttl, priority, weight, port. [UNKNOWN] strict throughout: the
// Content-Type must be application/json; unknown fields (including a "data"
// wrapper) and trailing data are refused; ttl is an integer from 60 to 86400
// (the range acme.sh's vendor hook enforces) and defaults to 3600 ([DOC]
// legacy); priority is required for MX and only allowed there and on SRV,
// which needs all three numbers; target names may not end in a dot.
func parseCreate(r *http.Request, zoneName string) (Record, *problem) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return Record{}, invalid("", "The request body must be JSON (Content-Type: application/json).")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return Record{}, invalid("", "The request body could not be read.")
	}
	var in struct {
		Type     *string          `json:"type"`
		Name     *string          `json:"name"`
		Value    *string          `json:"value"`
		TTL      *json.RawMessage `json:"ttl"`
		Priority *json.RawMessage `json:"priority"`
		Weight   *json.RawMessage `json:"weight"`
		Port     *json.RawMessage `json:"port"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Record{}, invalid("", "The request body is not a valid record: %s.", strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Record{}, invalid("", "The request body has data after the record.")
	}
	if in.Type == nil || in.Value == nil || in.Name == nil {
		return Record{}, invalid("", "`type`, `name` and `value` are required.")
	}
	rec := Record{Type: strings.ToUpper(*in.Type), Value: *in.Value, TTL: 3600}
	if !allowedTypes[rec.Type] {
		return Record{}, invalid("/type", "Record type %q is not supported.", *in.Type)
	}
	if rec.Type == "SPF" {
		rec.Type = "TXT"
	}
	if rec.Name, err = relativeName(*in.Name, zoneName); err != nil {
		return Record{}, invalid("/name", "%s", err)
	}
	num := func(ptr string, raw *json.RawMessage, lo, hi int) (*int, *problem) {
		if raw == nil || string(*raw) == "null" {
			return nil, nil
		}
		n, err := strconv.Atoi(string(*raw))
		if err != nil || n < lo || n > hi {
			return nil, invalid(ptr, "`%s` must be an integer from %d to %d.", ptr[1:], lo, hi)
		}
		return &n, nil
	}
	ttl, p := num("/ttl", in.TTL, 60, 86400)
	if p != nil {
		return Record{}, p
	}
	if ttl != nil {
		rec.TTL = *ttl
	}
	for _, f := range []struct {
		ptr string
		raw *json.RawMessage
		dst **int
	}{{"/priority", in.Priority, &rec.Priority}, {"/weight", in.Weight, &rec.Weight}, {"/port", in.Port, &rec.Port}} {
		if *f.dst, p = num(f.ptr, f.raw, 0, 65535); p != nil {
			return Record{}, p
		}
	}
	if p := checkValue(&rec, zoneName); p != nil {
		return Record{}, p
	}
	return rec, nil
}

// checkValue validates the value and numbers per type. [DOC] the list of
// rejected cases; the exact rules are [UNKNOWN] and strict.
func checkValue(rec *Record, zoneName string) *problem {
	v := rec.Value
	apex := rec.Name == zoneName
	numbers := map[string]bool{"MX": rec.Priority != nil, "SRV": rec.Priority != nil && rec.Weight != nil && rec.Port != nil}
	if want, special := numbers[rec.Type]; special && !want {
		return invalid("/priority", "%s records need %s.", rec.Type, map[string]string{"MX": "`priority`", "SRV": "`priority`, `weight` and `port`"}[rec.Type])
	}
	if rec.Type != "SRV" && (rec.Weight != nil || rec.Port != nil) || rec.Type != "SRV" && rec.Type != "MX" && rec.Priority != nil {
		return invalid("/priority", "%s records take no priority, weight or port.", rec.Type)
	}
	if v == "" {
		return invalid("/value", "`value` is required.")
	}
	switch rec.Type {
	case "A", "AAAA":
		ip, err := netip.ParseAddr(v)
		if err != nil || ip.Zone() != "" || (rec.Type == "A") != ip.Is4() {
			return invalid("/value", "%q is not a valid %s address.", v, map[string]string{"A": "IPv4", "AAAA": "IPv6"}[rec.Type])
		}
	case "CNAME", "ALIAS", "MX", "NS", "SRV":
		if _, err := netip.ParseAddr(v); err == nil {
			return invalid("/value", "A %s target must be a host name, not an IP address.", rec.Type)
		}
		if err := checkHost(v); err != nil && !(rec.Type == "SRV" && v == ".") {
			return invalid("/value", "%q is not a valid target: %s.", v, err)
		}
		if rec.Type == "CNAME" && apex {
			return invalid("/name", "A CNAME record cannot be created at the zone root; use ALIAS.")
		}
		if rec.Type == "NS" && apex {
			return invalid("/name", "The root NS records cannot be changed.")
		}
	case "TXT":
		if unbalancedQuotes(v) {
			return invalid("/value", "The TXT value has mismatched quotes.")
		}
	case "CAA":
		m := caaValue.FindStringSubmatch(v)
		if m == nil {
			return invalid("/value", "A CAA value must look like `0 issue \"ca.example.com\"`.")
		}
		if n, _ := strconv.Atoi(m[1]); n > 255 {
			return invalid("/value", "CAA flags must be 0 to 255.")
		}
	case "TLSA":
		if !tlsaValue.MatchString(v) {
			return invalid("/value", "A TLSA value must be `usage selector matching-type hex-data`.")
		}
	}
	return nil
}

// unbalancedQuotes reports an odd number of unescaped double quotes.
func unbalancedQuotes(v string) bool {
	n := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '"':
			n++
		}
	}
	return n%2 == 1
}

// relativeName turns a create body's name into the stored full name.
// [DOC] relative names, "@" or "" for the root, "do not send the full
// FQDN". [UNKNOWN] strict: a trailing dot, or a name ending in the zone's
// own name (the server might append the zone again), is refused.
func relativeName(name, zoneName string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" || n == "@" {
		return zoneName, nil
	}
	if strings.HasSuffix(n, ".") {
		return "", fmt.Errorf("%q ends in a dot: send the name relative to the zone", name)
	}
	if n == zoneName || strings.HasSuffix(n, "."+zoneName) {
		return "", fmt.Errorf("%q is a full name: send it relative to the zone %s (\"@\" for the root)", name, zoneName)
	}
	fqdn := n + "." + zoneName
	labels := strings.Split(n, ".")
	if labels[0] == "*" {
		labels = labels[1:]
	}
	if len(fqdn) > 253 {
		return "", fmt.Errorf("%q is too long", name)
	}
	for _, l := range labels {
		if !hostLabel.MatchString(l) {
			return "", fmt.Errorf("%q is not a valid record name", name)
		}
	}
	return fqdn, nil
}

// checkHost validates a target host name (no trailing dot: [UNKNOWN] strict).
func checkHost(h string) error {
	if strings.HasSuffix(h, ".") {
		return errors.New("send host names without a trailing dot")
	}
	if len(h) > 253 {
		return errors.New("too long")
	}
	for _, l := range strings.Split(strings.ToLower(h), ".") {
		if !hostLabel.MatchString(l) {
			return errors.New("not a host name")
		}
	}
	return nil
}

// --- helpers ---

// zone finds a zone by canonical name. Callers hold s.mu.
func (s *Server) zone(name string) *zone {
	for _, z := range s.zones {
		if z.name == name {
			return z
		}
	}
	return nil
}

// zoneByID finds a zone by id. Callers hold s.mu.
func (s *Server) zoneByID(id string) *zone {
	for _, z := range s.zones {
		if z.id == id {
			return z
		}
	}
	return nil
}

// customerCount counts the records the documented limit applies to: all
// but NS (the fake stores no SOA). Callers hold s.mu.
func (z *zone) customerCount() int {
	n := 0
	for _, r := range z.records {
		if r.Type != "NS" {
			n++
		}
	}
	return n
}

// newRecordID returns "drr_" and 26 base32 characters, or an integer in
// numeric mode. Callers hold s.mu.
func (s *Server) newRecordID() string {
	s.nextRecord++
	if s.numericIDs {
		return strconv.Itoa(32857600 + s.nextRecord)
	}
	return "drr_" + ulid(s.nextRecord)
}

func (st *stored) view(now time.Time) Record {
	r := st.Record
	r.Priority, r.Weight, r.Port = clone(r.Priority), clone(r.Weight), clone(r.Port)
	r.Status = "active"
	if !st.activeAt.IsZero() && now.Before(st.activeAt) {
		r.Status = "pending"
	}
	return r
}

func clone(p *int) *int {
	if p == nil {
		return nil
	}
	n := *p
	return &n
}

// ulid returns 26 lower-case Crockford base32 characters encoding n, in the
// shape of HostUp's ids ("01hx…").
func ulid(n int) string {
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	b := []byte("01hxa3b4c50000000000000000")
	for i := len(b) - 1; n > 0 && i >= 10; i-- {
		b[i] = alphabet[n%32]
		n /= 32
	}
	return string(b)
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func canonicalZone(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

// seedName accepts any name form for AddZone.
func seedName(name, zoneName string) (string, error) {
	n := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
	switch {
	case n == "" || n == "@":
		return zoneName, nil
	case n == zoneName || strings.HasSuffix(n, "."+zoneName):
		return n, nil
	case strings.HasSuffix(name, "."):
		return "", fmt.Errorf("record name %q is outside the zone", name)
	}
	return n + "." + zoneName, nil
}
