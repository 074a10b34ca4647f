// Package realtimeregistertest provides an in-process fake of the DNS parts
// of the Realtime Register REST API v2, for tests that must never reach the
// real service.
//
// The fake follows the project's API reference (reference/realtimeregister.md
// in the shared design notes): behaviour confirmed by Realtime Register's
// documentation or by code used against the real API is reproduced exactly;
// where the real behaviour is unknown the fake is strict, i.e. it rejects
// what a real server might reject, so that clients tested against it stay on
// the safe side. Every such choice is marked "[UNKNOWN]" in a comment.
//
// Served endpoints, relative to [Server.URL] (which ends in "/v2/"):
//
//	GET    dns/zones                 list zones: filters, paging, fields ("dns/zones/" too)
//	POST   dns/zones                 create a zone ("dns/zones/" too)
//	GET    dns/zones/{id}            get a zone
//	DELETE dns/zones/{id}            delete an unmanaged zone
//	POST   dns/zones/{id}/update     update a zone (records replace the whole set)
//	GET    domains/{domain}          get a domain (its nameservers and zone link)
//	GET    domains/{domain}/zone     get a domain's managed zone
//	POST   domains/{domain}/zone/update  update a domain's managed zone
//	POST   session                   open a session (Basic credentials)
//
// Templates, statistics, key rollover and retrieval from a hidden master are
// not faked (404).
//
// Every request must authenticate with "ApiKey <key>" ([Server.AddAPIKey]),
// HTTP Basic "customer/login:password" ([Server.AddUser]) or
// "Session <key>" from POST session; a session expires [SessionIdle] after
// its last use on the fake's clock ([Server.SetClock]). Requests other than
// GET must carry "Content-Type: application/json" or get 415. Errors have
// the documented body {"type": …, "message": …, …}. Fault injection
// ([Server.FailNext], [Server.SetLatency]) and request counters
// ([Server.Count]) serve tests of clients' resilience and efficiency.
package realtimeregistertest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
)

// Endpoint keys used by [Server.Requests] and [Server.Count]. Every request
// the fake receives is counted under exactly one of them, whatever its
// outcome (faulted, unauthorised, rejected or successful).
const (
	EndpointListZones        = "GET /v2/dns/zones"
	EndpointCreateZone       = "POST /v2/dns/zones"
	EndpointGetZone          = "GET /v2/dns/zones/{id}"
	EndpointDeleteZone       = "DELETE /v2/dns/zones/{id}"
	EndpointUpdateZone       = "POST /v2/dns/zones/{id}/update"
	EndpointGetDomain        = "GET /v2/domains/{domain}"
	EndpointGetDomainZone    = "GET /v2/domains/{domain}/zone"
	EndpointUpdateDomainZone = "POST /v2/domains/{domain}/zone/update"
	EndpointCreateSession    = "POST /v2/session"
	// EndpointOther counts everything else: unknown paths and wrong methods.
	EndpointOther = "other"
)

// SessionIdle is how long a session stays valid after its last use
// (RTR's general API documentation: 30 minutes).
const SessionIdle = 30 * time.Minute

// Service values of a zone.
const (
	Basic   = "BASIC"
	Premium = "PREMIUM"
)

// DefaultNS are the nameservers of BASIC zones ([C-doc] KB "DNS-zones").
var DefaultNS = []string{"ns1.yoursrs.com", "ns2.yoursrs.com"}

// Permission is an API user permission; see [Server.AddAPIKey].
type Permission string

// Permissions the DNS endpoints check (the set RTR's dnscontrol
// documentation asks a dedicated API user to have). Which endpoint needs
// which is [UNKNOWN]; the fake's mapping is in the endpoint table.
const (
	ViewDNSZone   Permission = "VIEW_DNS_ZONE"
	CreateDNSZone Permission = "CREATE_DNS_ZONE"
	UpdateDNSZone Permission = "UPDATE_DNS_ZONE"
	ViewDomain    Permission = "VIEW_DOMAIN"
	UpdateDomain  Permission = "UPDATE_DOMAIN"
)

// recordTypes are the record types of the API ([C-code]: identical lists in
// the official TypeScript and PHP clients).
var recordTypes = map[string]bool{
	"A": true, "AAAA": true, "ALIAS": true, "CAA": true, "CERT": true, "CNAME": true, "DNSKEY": true,
	"DS": true, "HINFO": true, "LOC": true, "MBOXFW": true, "MX": true, "NAPTR": true, "NS": true,
	"SOA": true, "SRV": true, "SSHFP": true, "TLSA": true, "TXT": true, "URI": true, "URL": true,
}

// Record is one record as the fake stores and returns it: the fields of the
// API's record object in the order the fake sends them. Name is the full
// name without trailing dot; Prio is present only for MX and SRV.
type Record struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Content string `json:"content"`
	TTL     int    `json:"ttl"`
	Prio    *int   `json:"prio,omitempty"`
}

// Prio returns a pointer to p, for Record literals.
func Prio(p int) *int { return &p }

// Zone is a zone to add with [Server.AddZone]. Zero values get the API's
// defaults: service BASIC, TTL/refresh/retry 3600, expire 1209600,
// hostMaster "hostmaster@<name>", customer "acme", nameservers DefaultNS.
type Zone struct {
	Name       string
	Service    string
	Managed    bool
	Customer   string
	Template   string
	Master     string
	NS         []string
	HostMaster string
	Refresh    int
	Retry      int
	Expire     int
	TTL        int
	DNSSEC     bool
	// Records are stored as given (TTL 0 becomes the zone TTL), without
	// validation, so tests can seed data the API would refuse.
	Records []Record
}

// Domain is a domain registered in the account; see [Server.AddDomain].
type Domain struct {
	Name string
	NS   []string // default: the linked zone's nameservers, else DefaultNS
	// ZoneID links the domain's managed zone (0: none). The zone is marked
	// managed.
	ZoneID int64
}

// Fault is a failure the fake can inject in place of a normal response;
// see [Server.FailNext]. A request answered with a fault never changes
// state.
type Fault int

const (
	// FaultRateLimit answers 429 {"type":"TooManyRequests"} without
	// Retry-After (no evidence of the header either way).
	FaultRateLimit Fault = iota + 1
	// FaultRateLimitRetryAfter answers 429 with "Retry-After: 1".
	FaultRateLimitRetryAfter
	// FaultServerError answers 500 {"type":"InternalSRSError"}.
	FaultServerError
	// FaultBadGateway answers 502 {"type":"ProviderConnectionError"}.
	FaultBadGateway
	// FaultUnavailable answers 503 {"type":"ProviderUnavailable"}.
	FaultUnavailable
	// FaultBadGatewayHTML answers 502 with a text/html body, as a reverse
	// proxy in front of the API would.
	FaultBadGatewayHTML
	// FaultDropConnection closes the connection without answering; the
	// client sees a transport error.
	FaultDropConnection
)

// String returns the constant's name without the "Fault" prefix.
func (f Fault) String() string {
	switch f {
	case FaultRateLimit:
		return "RateLimit"
	case FaultRateLimitRetryAfter:
		return "RateLimitRetryAfter"
	case FaultServerError:
		return "ServerError"
	case FaultBadGateway:
		return "BadGateway"
	case FaultUnavailable:
		return "Unavailable"
	case FaultBadGatewayHTML:
		return "BadGatewayHTML"
	case FaultDropConnection:
		return "DropConnection"
	}
	return "Fault(" + strconv.Itoa(int(f)) + ")"
}

type zone struct {
	Zone
	id      int64
	created time.Time
	updated time.Time
	serial  int
	// raws holds each record's JSON as the fake serves it: the bytes an
	// update sent, when storing changed nothing of the record, else the
	// fake's own encoding (apitest.HouseStyle).
	raws []json.RawMessage
}

// setRecords stores recs, with raws[i] (if not nil) the bytes record i came
// in. Callers hold s.mu.
func (z *zone) setRecords(recs []Record, raws []json.RawMessage) {
	z.Records = recs
	z.raws = make([]json.RawMessage, len(recs))
	for i, r := range recs {
		if raws != nil && raws[i] != nil {
			z.raws[i] = raws[i]
		} else {
			z.raws[i] = apitest.HouseStyle(r)
		}
	}
}

type domain struct {
	name   string
	ns     []string
	zoneID int64
}

// Server is a running fake of the Realtime Register API. All methods are
// safe for concurrent use, also while requests are in flight. Create it
// with [NewServer] and release it with [Server.Close].
type Server struct {
	// URL is the API base URL, "http://127.0.0.1:PORT/v2/".
	URL string

	// Controls gives the fake Close, Requests, Count, ResetCounts,
	// SetLatency and FailNext (see [apitest.Server]): requests are counted
	// under the Endpoint* constants, and FailNext takes the Fault constants
	// and panics on any other value. Set by [NewServer].
	apitest.Controls[Fault]
	// StatusCounter gives the fake CountStatus: every answer is counted
	// under its HTTP status, injected faults included, and a connection
	// closed without an answer under 0. Set by [NewServer].
	apitest.StatusCounter

	api *apitest.Server[Fault] // what the two above are, seen from the handler

	mu          sync.Mutex
	keys        map[string]map[Permission]bool // nil map: every permission
	users       map[string]string              // "customer/login" -> password
	sessions    map[string]time.Time           // key -> last use
	nextSession int
	now         func() time.Time
	zones       map[int64]*zone
	domains     map[string]*domain
	nextID      int64
	nextProcess int
	listErrors  bool
	processID   bool
	pageCap     int
	omitTotal   bool
}

// NewServer starts a fake on a loopback address with no credentials, no
// zones, the real clock, no latency and no pending fault. The caller must
// call [Server.Close].
func NewServer() *Server {
	s := &Server{
		keys:     map[string]map[Permission]bool{},
		users:    map[string]string{},
		sessions: map[string]time.Time{},
		now:      time.Now,
		zones:    map[int64]*zone{},
		domains:  map[string]*domain{},
		nextID:   1000,
	}
	s.api = apitest.New(http.HandlerFunc(s.serve), apitest.Options[Fault]{
		Known: func(f Fault) bool { return f >= FaultRateLimit && f <= FaultDropConnection },
	})
	s.Controls, s.StatusCounter = s.api, s.api
	s.api.Serve()
	s.URL = s.api.URL + "/v2/"
	return s
}

// AddAPIKey makes key valid for "Authorization: ApiKey <key>". With no
// permissions the key may do everything; otherwise only what perms allow
// (others get 403 AuthorizationError).
func (s *Server) AddAPIKey(key string, perms ...Permission) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var set map[Permission]bool
	if len(perms) > 0 {
		set = map[Permission]bool{}
		for _, p := range perms {
			set[p] = true
		}
	}
	s.keys[key] = set
}

// AddUser makes username ("customer/login") and password valid for HTTP
// Basic authentication and for opening sessions. Users may do everything.
func (s *Server) AddUser(username, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[username] = password
}

// SetClock replaces the clock that ages sessions and stamps dates; nil
// restores time.Now.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	s.now = now
}

// ExpireSessions ends every open session, as the server would after
// SessionIdle without use (or on a restart).
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

// Sessions returns how many sessions are open (expired ones included until
// they are next presented).
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// AddZone adds a zone and returns its id (ids count up from 1000). It
// panics on an empty name, an unknown service, or a second zone of the same
// name and service.
func (s *Server) AddZone(z Zone) int64 {
	z.Name = strings.TrimSuffix(strings.ToLower(z.Name), ".")
	if z.Service == "" {
		z.Service = Basic
	}
	if z.Name == "" || (z.Service != Basic && z.Service != Premium) {
		panic(fmt.Sprintf("realtimeregistertest: AddZone: bad zone %q service %q", z.Name, z.Service))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.findZone(z.Name, z.Service) != nil {
		panic(fmt.Sprintf("realtimeregistertest: AddZone: %s zone %s exists", z.Service, z.Name))
	}
	return s.insertZone(z).id
}

// insertZone stores a zone with defaults filled in. Callers hold s.mu.
func (s *Server) insertZone(z Zone) *zone {
	if z.Customer == "" {
		z.Customer = "acme"
	}
	if z.HostMaster == "" {
		z.HostMaster = "hostmaster@" + z.Name
	}
	for _, p := range []*int{&z.TTL, &z.Refresh, &z.Retry} {
		if *p == 0 {
			*p = 3600
		}
	}
	if z.Expire == 0 {
		z.Expire = 1209600
	}
	if len(z.NS) == 0 {
		z.NS = slices.Clone(DefaultNS)
	}
	zn := &zone{Zone: z, id: s.nextID, created: s.now().UTC(), serial: 1}
	zn.setRecords(s.withTTL(slices.Clone(z.Records), z.TTL), nil)
	s.nextID++
	s.zones[zn.id] = zn
	return zn
}

func (s *Server) withTTL(recs []Record, ttl int) []Record {
	for i := range recs {
		if recs[i].TTL == 0 {
			recs[i].TTL = ttl
		}
	}
	return recs
}

// AddDomain registers a domain in the account, optionally linked to its
// managed zone. It panics if ZoneID is not a zone of the fake.
func (s *Server) AddDomain(d Domain) {
	name := strings.TrimSuffix(strings.ToLower(d.Name), ".")
	s.mu.Lock()
	defer s.mu.Unlock()
	dom := &domain{name: name, ns: slices.Clone(d.NS), zoneID: d.ZoneID}
	if d.ZoneID != 0 {
		z, ok := s.zones[d.ZoneID]
		if !ok {
			panic(fmt.Sprintf("realtimeregistertest: AddDomain: no zone %d", d.ZoneID))
		}
		z.Managed = true
		if len(dom.ns) == 0 {
			dom.ns = slices.Clone(z.NS)
		}
	}
	if len(dom.ns) == 0 {
		dom.ns = slices.Clone(DefaultNS)
	}
	s.domains[name] = dom
}

// ZoneID returns the id of the zone name of service (empty: either, BASIC
// first), or 0.
func (s *Server) ZoneID(name, service string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	for _, svc := range []string{Basic, Premium} {
		if service == "" || service == svc {
			if z := s.findZone(name, svc); z != nil {
				return z.id
			}
		}
	}
	return 0
}

// Records returns a copy of the zone's records in stored order, or nil for
// an unknown id.
func (s *Server) Records(id int64) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	z, ok := s.zones[id]
	if !ok {
		return nil
	}
	return cloneRecords(z.Records)
}

// SetRecords replaces the zone's records directly, bypassing validation
// like [Server.AddZone]. It panics for an unknown id.
func (s *Server) SetRecords(id int64, records ...Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z, ok := s.zones[id]
	if !ok {
		panic(fmt.Sprintf("realtimeregistertest: SetRecords: no zone %d", id))
	}
	z.setRecords(s.withTTL(cloneRecords(records), z.TTL), nil)
}

func cloneRecords(recs []Record) []Record {
	out := make([]Record, len(recs))
	for i, r := range recs {
		if r.Prio != nil {
			r.Prio = Prio(*r.Prio)
		}
		out[i] = r
	}
	return out
}

// Zones returns what a DNS server would serve, keyed by zone name with a
// trailing dot: for every name the zone its domain links to, else the
// BASIC zone, else the PREMIUM one. Records are converted to libdns form
// (names relative to the zone, MX preference and SRV priority in front,
// absolute host names with a trailing dot, TXT unescaped); the system's SOA
// and NS records are left out, so a test DNS server uses its own.
func (s *Server) Zones() map[string][]libdns.RR {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]libdns.RR{}
	for _, z := range s.servingZones() {
		rrs := make([]libdns.RR, 0, len(z.Records))
		for _, r := range z.Records {
			rrs = append(rrs, libdns.RR{
				Name: libdns.RelativeName(r.Name+".", z.Name+"."),
				TTL:  time.Duration(r.TTL) * time.Second,
				Type: r.Type,
				Data: zoneFileData(r),
			})
		}
		out[z.Name+"."] = rrs
	}
	return out
}

// servingZones picks one zone per name. Callers hold s.mu.
func (s *Server) servingZones() map[string]*zone {
	out := map[string]*zone{}
	for _, id := range s.zoneIDs() {
		z := s.zones[id]
		cur, ok := out[z.Name]
		if !ok || (cur.Service == Premium && z.Service == Basic) {
			out[z.Name] = z
		}
	}
	for _, d := range s.domains {
		if z, ok := s.zones[d.zoneID]; ok {
			out[z.Name] = z
		}
	}
	return out
}

func (s *Server) zoneIDs() []int64 {
	ids := slices.Collect(maps.Keys(s.zones))
	slices.Sort(ids)
	return ids
}

// zoneFileData converts stored content to zone-file data, independently of
// the client package (a second opinion on the record model).
func zoneFileData(r Record) string {
	dot := func(h string) string {
		if h == "." || strings.HasSuffix(h, ".") {
			return h
		}
		return h + "."
	}
	prio := 0
	if r.Prio != nil {
		prio = *r.Prio
	}
	switch r.Type {
	case "TXT":
		return unescapeTXT(r.Content)
	case "CNAME", "ALIAS", "NS":
		return dot(r.Content)
	case "MX":
		return fmt.Sprintf("%d %s", prio, dot(r.Content))
	case "SRV":
		f := strings.Fields(r.Content)
		if len(f) == 3 {
			return fmt.Sprintf("%d %s %s %s", prio, f[0], f[1], dot(f[2]))
		}
	}
	return r.Content
}

func unescapeTXT(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// SetListErrors switches the inner values of DnsConfigurationException's
// "errors" from the documented strings to lists of strings, the form RTR's
// own WHMCS template reads.
func (s *Server) SetListErrors(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listErrors = on
}

// SetProcessID makes zone create, update and delete answers carry an
// X-Process-Id header, which the official TypeScript client reads when
// present. [UNKNOWN] whether the API sends it; off by default.
func (s *Server) SetProcessID(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.processID = on
}

// SetPageCap makes listings return at most n entities per page whatever
// limit was asked for, reporting n as pagination.limit, as a server with a
// lower maximum page size might. 0 (the default) turns it off.
func (s *Server) SetPageCap(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageCap = n
}

// SetOmitTotal makes listings leave out pagination.total, as they do when
// asked with total=false.
func (s *Server) SetOmitTotal(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.omitTotal = on
}

// --- request handling ---

// problem is an error answer: an HTTP status and the documented body.
type problem struct {
	status int
	body   map[string]any // nil: no body
}

func newProblem(status int, typ, msg string, extra ...any) *problem {
	body := map[string]any{"type": typ, "message": msg}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	return &problem{status: status, body: body}
}

func validation(format string, args ...any) *problem {
	return newProblem(http.StatusBadRequest, "ValidationError", fmt.Sprintf(format, args...))
}

// Messages of the fake. Only those marked are known to be the real text.
const (
	msgAuthFailed    = "Authentication failed"                          // [2nd] skills spec
	msgDNSErrors     = "The DNS records contain errors"                 // [C-doc]
	msgNoObject      = "A referenced object does not exist"             // [C-doc] example
	msgConstraints   = "The request parameters did not meet validation" // [C-doc]
	msgForbidden     = "Not allowed"                                    // [UNKNOWN]
	msgMediaType     = "Unsupported Media Type"                         // [UNKNOWN]
	msgTooMany       = "Too many requests"                              // [C-code] TS client
	maxRequestBody   = 1 << 20
	maxListLimit     = 250 // [2nd] skills spec, "docs-reconciled"
	defaultListLimit = 10  // [C-doc]
)

// route is the endpoint of a request.
type route struct {
	endpoint string
	id       int64  // zone id in the path
	domain   string // domain in the path
	perm     Permission
}

// parseRoute classifies method and path. Unknown paths, malformed ids and
// wrong methods give EndpointOther with a status (404 or 405).
func parseRoute(method, path string) (route, int) {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return route{endpoint: EndpointOther}, http.StatusNotFound
	}
	parts := strings.Split(rest, "/")
	is := func(m string, r route) (route, int) {
		if method != m {
			return route{endpoint: EndpointOther}, http.StatusMethodNotAllowed
		}
		return r, 0
	}
	switch {
	case rest == "session":
		return is(http.MethodPost, route{endpoint: EndpointCreateSession})
	// The official TypeScript client uses a trailing slash here ([C-code]).
	case rest == "dns/zones" || rest == "dns/zones/":
		if method == http.MethodPost {
			return route{endpoint: EndpointCreateZone, perm: CreateDNSZone}, 0
		}
		return is(http.MethodGet, route{endpoint: EndpointListZones, perm: ViewDNSZone})
	case len(parts) >= 3 && len(parts) <= 4 && parts[0] == "dns" && parts[1] == "zones":
		// [UNKNOWN] strict: a zone id must be a plain positive integer.
		id, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil || id <= 0 || strconv.FormatInt(id, 10) != parts[2] {
			return route{endpoint: EndpointOther}, http.StatusNotFound
		}
		if len(parts) == 4 {
			if parts[3] != "update" {
				return route{endpoint: EndpointOther}, http.StatusNotFound
			}
			return is(http.MethodPost, route{endpoint: EndpointUpdateZone, id: id, perm: UpdateDNSZone})
		}
		if method == http.MethodDelete {
			return route{endpoint: EndpointDeleteZone, id: id, perm: UpdateDNSZone}, 0
		}
		return is(http.MethodGet, route{endpoint: EndpointGetZone, id: id, perm: ViewDNSZone})
	case len(parts) >= 2 && len(parts) <= 4 && parts[0] == "domains" && parts[1] != "":
		d := parts[1]
		switch {
		case len(parts) == 2:
			return is(http.MethodGet, route{endpoint: EndpointGetDomain, domain: d, perm: ViewDomain})
		case len(parts) == 3 && parts[2] == "zone":
			return is(http.MethodGet, route{endpoint: EndpointGetDomainZone, domain: d, perm: ViewDNSZone})
		case len(parts) == 4 && parts[2] == "zone" && parts[3] == "update":
			return is(http.MethodPost, route{endpoint: EndpointUpdateDomainZone, domain: d, perm: UpdateDNSZone})
		}
	}
	return route{endpoint: EndpointOther}, http.StatusNotFound
}

// statusWriter records the status of the answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) serve(rw http.ResponseWriter, r *http.Request) {
	rt, routeStatus := parseRoute(r.Method, r.URL.Path)
	fault := s.api.Receive(r, rt.endpoint)
	if fault == FaultDropConnection {
		apitest.Drop(rw) // no answer, no status counted
		return
	}

	w := &statusWriter{ResponseWriter: rw}
	defer func() { s.api.AddStatus(w.status) }()
	if fault != 0 {
		s.serveFault(w, r, fault)
		return
	}
	if p := s.handle(w, r, rt, routeStatus); p != nil {
		s.writeProblem(w, p)
	}
}

// handle authenticates and dispatches a request. A returned problem is
// written by the caller.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, rt route, routeStatus int) *problem {
	// Authentication comes before routing: bad credentials get 401 on any
	// path ([UNKNOWN]).
	who, perms, p := s.authenticate(r, rt.endpoint == EndpointCreateSession)
	if p != nil {
		return p
	}
	if routeStatus != 0 {
		// [UNKNOWN] whether a 404 has a body; the fake sends none, so
		// clients cannot depend on one.
		return &problem{status: routeStatus}
	}
	if perms != nil && rt.perm != "" && !perms[rt.perm] {
		return newProblem(http.StatusForbidden, "AuthorizationError", msgForbidden+": "+string(rt.perm)+" is required")
	}
	var body []byte
	if r.Method != http.MethodGet {
		// Missing content type → 415 (RTR's general API documentation).
		// [UNKNOWN] strict: also for DELETE and for bodies of other types.
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return newProblem(http.StatusUnsupportedMediaType, "UnsupportedMediaType", msgMediaType)
		}
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
		if err != nil {
			return newProblem(http.StatusRequestEntityTooLarge, "InvalidMessage", "Request body too large")
		}
	}
	switch rt.endpoint {
	case EndpointCreateSession:
		return s.createSession(w, body, who)
	case EndpointListZones:
		return s.listZones(w, r)
	case EndpointCreateZone:
		return s.createZone(w, body)
	case EndpointGetZone:
		return s.getZone(w, rt.id)
	case EndpointDeleteZone:
		return s.deleteZone(w, rt.id)
	case EndpointUpdateZone:
		return s.updateZone(w, rt.id, body)
	case EndpointGetDomain:
		return s.getDomain(w, rt.domain)
	case EndpointGetDomainZone, EndpointUpdateDomainZone:
		s.mu.Lock()
		id, p := s.domainZone(rt.domain)
		s.mu.Unlock()
		if p != nil {
			return p
		}
		if rt.endpoint == EndpointGetDomainZone {
			return s.getZone(w, id)
		}
		return s.updateZone(w, id, body)
	}
	return &problem{status: http.StatusNotFound}
}

// authenticate checks the Authorization header and returns the Basic user
// (for opening a session) and the permissions (nil: all).
//
// [UNKNOWN] strict: scheme names are matched exactly ("ApiKey", "Basic",
// "Session"); a session can only be opened with Basic credentials (the
// session call is documented as "only used in combination with password
// based authentication").
func (s *Server) authenticate(r *http.Request, opening bool) (string, map[Permission]bool, *problem) {
	fail := newProblem(http.StatusUnauthorized, "AuthenticationError", msgAuthFailed+s.api.EchoText(r))
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch scheme {
	case "ApiKey":
		perms, ok := s.keys[cred]
		if !ok || opening {
			return "", nil, fail
		}
		return "", perms, nil
	case "Basic":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return "", nil, fail
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if want, known := s.users[user]; !ok || !known || want != pass {
			return "", nil, fail
		}
		return user, nil, nil
	case "Session":
		last, ok := s.sessions[cred]
		now := s.now()
		if !ok || opening {
			return "", nil, fail
		}
		if now.Sub(last) >= SessionIdle {
			delete(s.sessions, cred)
			return "", nil, fail
		}
		s.sessions[cred] = now
		return "", nil, nil
	}
	return "", nil, fail
}

func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f Fault) {
	echo := s.api.EchoText(r)
	switch f {
	case FaultRateLimit:
		s.writeProblem(w, newProblem(http.StatusTooManyRequests, "TooManyRequests", msgTooMany+echo))
	case FaultRateLimitRetryAfter:
		w.Header().Set("Retry-After", "1")
		s.writeProblem(w, newProblem(http.StatusTooManyRequests, "TooManyRequests", msgTooMany+echo))
	case FaultServerError:
		s.writeProblem(w, newProblem(http.StatusInternalServerError, "InternalSRSError", "Internal error"+echo))
	case FaultBadGateway:
		s.writeProblem(w, newProblem(http.StatusBadGateway, "ProviderConnectionError", "Could not connect to the provider"+echo))
	case FaultUnavailable:
		s.writeProblem(w, newProblem(http.StatusServiceUnavailable, "ProviderUnavailable", "The provider is unavailable"+echo))
	case FaultBadGatewayHTML:
		apitest.WriteHTML(w, http.StatusBadGateway, "iso-8859-1",
			"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>\n")
	}
}

func (s *Server) writeProblem(w http.ResponseWriter, p *problem) {
	if p.body == nil {
		w.WriteHeader(p.status)
		return
	}
	apitest.WriteJSON(w, p.status, "application/json", p.body)
}

// writeDone answers a successful change: 200 with an empty body ([C-code]:
// the update answer has nothing to parse), and an X-Process-Id when enabled.
func (s *Server) writeDone(w http.ResponseWriter, code int, body any) {
	s.mu.Lock()
	if s.processID {
		s.nextProcess++
		w.Header().Set("X-Process-Id", strconv.Itoa(5000+s.nextProcess))
	}
	s.mu.Unlock()
	if body == nil {
		w.WriteHeader(code)
		return
	}
	apitest.WriteJSON(w, code, "application/json", body)
}

// decodeObject decodes a JSON object body, refusing trailing data.
// Unparsable JSON → 400 InvalidMessage ([UNKNOWN] type choice).
func decodeObject(body []byte) (map[string]json.RawMessage, *problem) {
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&top); err != nil || top == nil {
		return nil, newProblem(http.StatusBadRequest, "InvalidMessage", "The request body is not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, newProblem(http.StatusBadRequest, "InvalidMessage", "Trailing data after the JSON object")
	}
	return top, nil
}

// onlyKeys refuses unknown properties with UnrecognizedPropertyException
// ([C-doc] type; [UNKNOWN] that every unknown field triggers it).
func onlyKeys(obj map[string]json.RawMessage, prefix string, allowed ...string) *problem {
	keys := slices.Sorted(maps.Keys(obj))
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return newProblem(http.StatusBadRequest, "UnrecognizedPropertyException",
				fmt.Sprintf("Unrecognized field %q", prefix+k), "property", prefix+k)
		}
	}
	return nil
}

// createSession answers 201 {"key": …} ([C-doc] DOC-SES). [UNKNOWN] strict:
// the body must be empty or an empty JSON object.
func (s *Server) createSession(w http.ResponseWriter, body []byte, user string) *problem {
	if user == "" {
		return newProblem(http.StatusUnauthorized, "AuthenticationError", msgAuthFailed)
	}
	if len(bytes.TrimSpace(body)) > 0 {
		obj, p := decodeObject(body)
		if p != nil {
			return p
		}
		if p := onlyKeys(obj, ""); p != nil {
			return p
		}
	}
	s.mu.Lock()
	s.nextSession++
	key := fmt.Sprintf("sess-%04d-%x", s.nextSession, s.now().UnixNano()&0xffffff)
	s.sessions[key] = s.now()
	s.mu.Unlock()
	apitest.WriteJSON(w, http.StatusCreated, "application/json", map[string]string{"key": key})
	return nil
}

// --- zones ---

// zoneJSON is a zone as GET returns it ([C-doc] DOC-ZG field list).
type zoneJSON struct {
	ID             int64    `json:"id"`
	Name           string   `json:"name"`
	Customer       string   `json:"customer"`
	CreatedDate    string   `json:"createdDate"`
	UpdatedDate    string   `json:"updatedDate,omitempty"`
	Managed        bool     `json:"managed"`
	Service        string   `json:"service"`
	Template       string   `json:"template,omitempty"`
	Master         string   `json:"master,omitempty"`
	NS             []string `json:"ns,omitempty"`
	HostMaster     string   `json:"hostMaster"`
	Refresh        int      `json:"refresh"`
	Retry          int      `json:"retry"`
	Expire         int      `json:"expire"`
	TTL            int      `json:"ttl"`
	DNSSEC         bool     `json:"dnssec"`
	DefaultRecords []Record `json:"defaultRecords"`
	Records        []Record `json:"records"`
}

const dateFormat = "2006-01-02T15:04:05Z"

// view renders a zone. Callers hold s.mu.
func (z *zone) view() zoneJSON {
	v := zoneJSON{
		ID: z.id, Name: z.Name, Customer: z.Customer, CreatedDate: z.created.Format(dateFormat),
		Managed: z.Managed, Service: z.Service, Template: z.Template, Master: z.Master, NS: slices.Clone(z.NS),
		HostMaster: z.HostMaster, Refresh: z.Refresh, Retry: z.Retry, Expire: z.Expire, TTL: z.TTL, DNSSEC: z.DNSSEC,
		Records: cloneRecords(z.Records),
	}
	if !z.updated.IsZero() {
		v.UpdatedDate = z.updated.Format(dateFormat)
	}
	// The SOA content format comes only from SDK fixtures ([2nd]).
	soa := fmt.Sprintf("%s %s %s%02d %d %d %d %d", z.NS[0], z.HostMaster, z.created.Format("20060102"), z.serial%100,
		z.Refresh, z.Retry, z.Expire, z.TTL)
	v.DefaultRecords = []Record{{Name: z.Name, Type: "SOA", Content: soa, TTL: z.TTL}}
	for _, ns := range z.NS {
		v.DefaultRecords = append(v.DefaultRecords, Record{Name: z.Name, Type: "NS", Content: ns, TTL: z.TTL})
	}
	return v
}

// findZone returns the zone name of service. Callers hold s.mu.
func (s *Server) findZone(name, service string) *zone {
	for _, z := range s.zones {
		if z.Name == name && z.Service == service {
			return z
		}
	}
	return nil
}

// getZone answers a zone. An unknown id is a 404 without body ([I]).
func (s *Server) getZone(w http.ResponseWriter, id int64) *problem {
	s.mu.Lock()
	z, ok := s.zones[id]
	var v zoneJSON
	var raws []json.RawMessage
	if ok {
		v = z.view()
		raws = slices.Clone(z.raws)
	}
	s.mu.Unlock()
	if !ok {
		return &problem{status: http.StatusNotFound}
	}
	// The records go out as stored, byte for byte.
	v.Records = nil
	apitest.WriteJSONWithArray(w, http.StatusOK, "application/json", v, "records", raws)
	return nil
}

// zoneFields are the fields a listing may filter, order and project on.
var zoneFields = []string{"id", "name", "customer", "createdDate", "updatedDate", "deletionDate", "managed", "service",
	"template", "master", "ns", "hostMaster", "refresh", "retry", "expire", "ttl", "dnssec", "defaultRecords", "records",
	"content", "publicKey", "keyData"}

// filterable are the fields of the zone listing's filters ([C-doc] DOC-ZL).
var filterable = []string{"id", "name", "createdDate", "updatedDate", "deletionDate", "service", "template", "master",
	"ns", "dnssec", "managed", "content", "publicKey"}

var operators = []string{"ne", "like", "not_like", "gt", "lt", "gte", "lte", "null", "not_null", "in", "not_in"}

// listZones serves the listing ([C-doc] DOC-LST, DOC-ZL): limit (default
// 10, 0 = count only), offset, order (repeatable, "-" descending), total,
// q, fields, export, and filters field=value or field:op=value.
//
// [UNKNOWN] strict: unknown parameters, unknown fields, a limit above 250
// and export together with limit or offset are 400 ValidationError; the
// default order is by id.
func (s *Server) listZones(w http.ResponseWriter, r *http.Request) *problem {
	q := r.URL.Query()
	limit, offset := defaultListLimit, 0
	total, export := true, false
	var order, fields []string
	var filters []func(zoneJSON) bool
	for key, vals := range q {
		if len(vals) > 1 && key != "order" {
			return validation("Parameter %q given more than once", key)
		}
		v := vals[0]
		switch key {
		case "limit", "offset":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || (key == "limit" && n > maxListLimit) {
				return newProblem(http.StatusBadRequest, "ConstraintViolationException", msgConstraints,
					"violations", []map[string]any{{"field": key, "message": "must be a number from 0 to " + strconv.Itoa(maxListLimit), "value": v}})
			}
			if key == "limit" {
				limit = n
			} else {
				offset = n
			}
		case "total", "export":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return validation("Parameter %q must be true or false", key)
			}
			if key == "total" {
				total = b
			} else {
				export = b
			}
		case "order":
			for _, o := range vals {
				for _, f := range strings.Split(o, ",") {
					if !slices.Contains(zoneFields, strings.TrimPrefix(f, "-")) {
						return validation("Cannot order by %q", f)
					}
					order = append(order, f)
				}
			}
		case "fields":
			for _, f := range strings.Split(v, ",") {
				if !slices.Contains(zoneFields, f) {
					return validation("Unknown field %q", f)
				}
				fields = append(fields, f)
			}
		case "q":
			needle := strings.ToLower(v)
			filters = append(filters, func(z zoneJSON) bool { return strings.Contains(z.Name, needle) })
		default:
			field, op, _ := strings.Cut(key, ":")
			if !slices.Contains(filterable, field) || (op != "" && !slices.Contains(operators, op)) {
				return validation("Unknown parameter %q", key)
			}
			f, p := zoneFilter(field, op, v)
			if p != nil {
				return p
			}
			filters = append(filters, f)
		}
	}
	if export && (q.Has("limit") || q.Has("offset")) {
		return validation("export cannot be combined with limit or offset")
	}

	s.mu.Lock()
	var all []zoneJSON
	for _, id := range s.zoneIDs() {
		all = append(all, s.zones[id].view())
	}
	pageCap, omitTotal := s.pageCap, s.omitTotal
	s.mu.Unlock()

	matched := all[:0]
	for _, z := range all {
		if !slices.ContainsFunc(filters, func(f func(zoneJSON) bool) bool { return !f(z) }) {
			matched = append(matched, z)
		}
	}
	sortZones(matched, order)
	pagination := map[string]any{}
	var page []zoneJSON
	if export {
		page = matched
	} else {
		if pageCap > 0 && limit > pageCap {
			limit = pageCap
		}
		pagination["limit"], pagination["offset"] = limit, offset
		if offset < len(matched) {
			page = matched[offset:min(len(matched), offset+limit)]
		}
	}
	if total && !omitTotal {
		pagination["total"] = len(matched)
	}
	out := map[string]any{"pagination": pagination}
	if export || limit > 0 {
		entities := make([]any, 0, len(page))
		for _, z := range page {
			entities = append(entities, project(z, fields, export))
		}
		out["entities"] = entities
	}
	apitest.WriteJSON(w, http.StatusOK, "application/json", out)
	return nil
}

// zoneFilter builds one listing filter. [UNKNOWN]: values compare as text,
// except id (a number) and managed/dnssec (true/false); "like" uses % as
// the wildcard; content matches any record content.
func zoneFilter(field, op, v string) (func(zoneJSON) bool, *problem) {
	get := func(z zoneJSON) []string {
		switch field {
		case "id":
			return []string{strconv.FormatInt(z.ID, 10)}
		case "name":
			return []string{z.Name}
		case "createdDate":
			return []string{z.CreatedDate}
		case "updatedDate":
			return []string{z.UpdatedDate}
		case "service":
			return []string{z.Service}
		case "template":
			return []string{z.Template}
		case "master":
			return []string{z.Master}
		case "ns":
			return z.NS
		case "dnssec":
			return []string{strconv.FormatBool(z.DNSSEC)}
		case "managed":
			return []string{strconv.FormatBool(z.Managed)}
		case "content":
			var out []string
			for _, r := range z.Records {
				out = append(out, r.Content)
			}
			return out
		}
		return []string{""}
	}
	switch field {
	case "service":
		if op == "" && v != Basic && v != Premium {
			return nil, newProblem(http.StatusBadRequest, "ConstraintViolationException", msgConstraints,
				"violations", []map[string]any{{"field": "service", "message": "must be BASIC or PREMIUM", "value": v}})
		}
	case "id":
		if op == "" {
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return nil, validation("Parameter id must be a number")
			}
		}
	case "managed", "dnssec":
		if _, err := strconv.ParseBool(v); err != nil && op == "" {
			return nil, validation("Parameter %s must be true or false", field)
		} else if err == nil {
			b, _ := strconv.ParseBool(v)
			v = strconv.FormatBool(b)
		}
	}
	cmp := func(a, b string) int {
		if field == "id" {
			x, _ := strconv.ParseInt(a, 10, 64)
			y, _ := strconv.ParseInt(b, 10, 64)
			return int(x - y)
		}
		return strings.Compare(a, b)
	}
	like := func(val string) bool {
		pat := "^" + strings.ReplaceAll(regexp.QuoteMeta(strings.ToLower(v)), "%", ".*") + "$"
		ok, _ := regexp.MatchString(pat, strings.ToLower(val))
		return ok
	}
	one := func(val string) bool {
		switch op {
		case "":
			return strings.EqualFold(val, v)
		case "ne":
			return !strings.EqualFold(val, v)
		case "like":
			return like(val)
		case "not_like":
			return !like(val)
		case "gt":
			return cmp(val, v) > 0
		case "lt":
			return cmp(val, v) < 0
		case "gte":
			return cmp(val, v) >= 0
		case "lte":
			return cmp(val, v) <= 0
		case "null":
			return val == ""
		case "not_null":
			return val != ""
		case "in":
			return slices.ContainsFunc(strings.Split(v, ","), func(x string) bool { return strings.EqualFold(x, val) })
		case "not_in":
			return !slices.ContainsFunc(strings.Split(v, ","), func(x string) bool { return strings.EqualFold(x, val) })
		}
		return false
	}
	return func(z zoneJSON) bool {
		vals := get(z)
		if len(vals) == 0 {
			vals = []string{""}
		}
		if strings.HasPrefix(op, "n") && op != "null" { // ne, not_like, not_in: every value
			return !slices.ContainsFunc(vals, func(x string) bool { return !one(x) })
		}
		return slices.ContainsFunc(vals, one)
	}, nil
}

func sortZones(zs []zoneJSON, order []string) {
	if len(order) == 0 {
		order = []string{"id"}
	}
	fields := make([]map[string]string, len(zs))
	for i, z := range zs {
		b, _ := json.Marshal(z)
		var m map[string]json.RawMessage
		json.Unmarshal(b, &m)
		fields[i] = map[string]string{"id": fmt.Sprintf("%020d", z.ID)}
		for _, o := range order {
			if f := strings.TrimPrefix(o, "-"); f != "id" {
				fields[i][f] = string(m[f])
			}
		}
	}
	idx := make([]int, len(zs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool {
		for _, o := range order {
			f, desc := strings.TrimPrefix(o, "-"), strings.HasPrefix(o, "-")
			a, b := fields[idx[i]][f], fields[idx[j]][f]
			if a != b {
				return (a < b) != desc
			}
		}
		return false
	})
	sorted := make([]zoneJSON, len(zs))
	for i, k := range idx {
		sorted[i] = zs[k]
	}
	copy(zs, sorted)
}

// project returns the zone with only the asked fields, the identifying id
// always included ([C-doc]). An export without fields returns the
// identifying fields only ([C-doc]: id and name for zones, [UNKNOWN]).
func project(z zoneJSON, fields []string, export bool) any {
	if len(fields) == 0 && !export {
		return z
	}
	if len(fields) == 0 {
		fields = []string{"name"}
	}
	b, _ := json.Marshal(z)
	var m map[string]json.RawMessage
	json.Unmarshal(b, &m)
	out := map[string]json.RawMessage{"id": m["id"]}
	for _, f := range fields {
		if v, ok := m[f]; ok {
			out[f] = v
		}
	}
	return out
}

// createZone serves POST dns/zones: 201 {"id": N} with a Location header
// ([C-code] PHP reads "id"; [UNKNOWN] 201 vs 200 — 201 per RTR's general
// documentation for creations). One zone per name and service (400
// ObjectExists).
func (s *Server) createZone(w http.ResponseWriter, body []byte) *problem {
	obj, p := decodeObject(body)
	if p != nil {
		return p
	}
	if p := onlyKeys(obj, "", "name", "service", "template", "link", "master", "ns", "dnssec", "hostMaster",
		"refresh", "retry", "expire", "ttl", "records"); p != nil {
		return p
	}
	var z Zone
	if err := json.Unmarshal(obj["name"], &z.Name); err != nil || !hostnameRE.MatchString(z.Name) || len(z.Name) < 3 {
		return newProblem(http.StatusBadRequest, "ConstraintViolationException", msgConstraints,
			"violations", []map[string]any{{"field": "name", "message": "must be a lower-case host name"}})
	}
	z.Service = Basic
	if raw, ok := obj["service"]; ok {
		if json.Unmarshal(raw, &z.Service) != nil || (z.Service != Basic && z.Service != Premium) {
			return newProblem(http.StatusBadRequest, "ConstraintViolationException", msgConstraints,
				"violations", []map[string]any{{"field": "service", "message": "must be BASIC or PREMIUM"}})
		}
	}
	settings, p := zoneSettings(obj, false)
	if p != nil {
		return p
	}
	s.mu.Lock()
	if s.findZone(z.Name, z.Service) != nil {
		s.mu.Unlock()
		return newProblem(http.StatusBadRequest, "ObjectExists", "The object already exists",
			"objectType", "Zone", "identifier", z.Name)
	}
	zn := s.insertZone(z)
	if p := s.applySettings(zn, settings); p != nil {
		delete(s.zones, zn.id)
		s.mu.Unlock()
		return p
	}
	id := zn.id
	s.mu.Unlock()
	w.Header().Set("Location", "/v2/dns/zones/"+strconv.FormatInt(id, 10))
	s.writeDone(w, http.StatusCreated, map[string]int64{"id": id})
	return nil
}

// deleteZone serves DELETE dns/zones/{id}: 200 without body ([C-doc]);
// managed zones cannot be deleted (400 ObjectStatusProhibitsOperation,
// [UNKNOWN] type).
func (s *Server) deleteZone(w http.ResponseWriter, id int64) *problem {
	s.mu.Lock()
	z, ok := s.zones[id]
	switch {
	case !ok:
		s.mu.Unlock()
		return &problem{status: http.StatusNotFound}
	case z.Managed:
		s.mu.Unlock()
		return newProblem(http.StatusBadRequest, "ObjectStatusProhibitsOperation",
			"A managed zone can only be removed through its domain")
	}
	delete(s.zones, id)
	s.mu.Unlock()
	s.writeDone(w, http.StatusOK, nil)
	return nil
}

// updateZone serves POST dns/zones/{id}/update: "records", when present,
// replaces the whole record set; other settings are stored. 200 with an
// empty body ([C-code] dnscontrol requires 200; PHP parses nothing).
func (s *Server) updateZone(w http.ResponseWriter, id int64, body []byte) *problem {
	obj, p := decodeObject(body)
	if p != nil {
		return p
	}
	if p := onlyKeys(obj, "", "template", "link", "master", "ns", "dnssec", "hostMaster",
		"refresh", "retry", "expire", "ttl", "records"); p != nil {
		return p
	}
	settings, p := zoneSettings(obj, true)
	if p != nil {
		return p
	}
	s.mu.Lock()
	z, ok := s.zones[id]
	if !ok {
		s.mu.Unlock()
		return &problem{status: http.StatusNotFound}
	}
	p = s.applySettings(z, settings)
	s.mu.Unlock()
	if p != nil {
		return p
	}
	s.writeDone(w, http.StatusOK, nil)
	return nil
}

// settings are the decoded, validated fields of a create or update body.
type settings struct {
	obj     map[string]json.RawMessage
	records []json.RawMessage
	hasRecs bool
	ints    map[string]int
}

// zoneSettings validates the zone-level fields ([C-doc] limits): ttl
// 60..2419200, retry >= 1, expire 86400..4838400, refresh >= 1 ([UNKNOWN]),
// ns at most 10 host names.
func zoneSettings(obj map[string]json.RawMessage, update bool) (*settings, *problem) {
	st := &settings{obj: obj, ints: map[string]int{}}
	var violations []map[string]any
	bad := func(field, msg string) {
		violations = append(violations, map[string]any{"field": field, "message": msg})
	}
	limits := map[string][2]int{"ttl": {60, 2419200}, "retry": {1, 1 << 30}, "expire": {86400, 4838400}, "refresh": {1, 1 << 30}}
	for _, k := range slices.Sorted(maps.Keys(limits)) {
		raw, ok := obj[k]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(string(raw))
		if err != nil || n < limits[k][0] || n > limits[k][1] {
			bad(k, fmt.Sprintf("must be a number from %d to %d", limits[k][0], limits[k][1]))
			continue
		}
		st.ints[k] = n
	}
	if raw, ok := obj["ns"]; ok {
		var ns []string
		if json.Unmarshal(raw, &ns) != nil || len(ns) > 10 || slices.ContainsFunc(ns, func(h string) bool { return !hostnameRE.MatchString(h) }) {
			bad("ns", "must be at most 10 host names")
		}
	}
	for _, k := range []string{"dnssec", "link"} {
		if raw, ok := obj[k]; ok {
			var b bool
			if json.Unmarshal(raw, &b) != nil {
				bad(k, "must be true or false")
			}
		}
	}
	for _, k := range []string{"template", "master", "hostMaster"} {
		if raw, ok := obj[k]; ok {
			var v string
			if json.Unmarshal(raw, &v) != nil {
				bad(k, "must be a string")
			}
		}
	}
	if raw, ok := obj["records"]; ok {
		if string(raw) == "null" || json.Unmarshal(raw, &st.records) != nil {
			bad("records", "must be a list of records")
		}
		st.hasRecs = true
	}
	if len(violations) > 0 {
		return nil, newProblem(http.StatusBadRequest, "ConstraintViolationException", msgConstraints, "violations", violations)
	}
	return st, nil
}

// applySettings validates records against the zone and stores everything,
// or nothing. Callers hold s.mu.
func (s *Server) applySettings(z *zone, st *settings) *problem {
	if z.Managed {
		// [C-doc] nameservers and DNSSEC of a managed zone change only
		// through a domain update; [UNKNOWN] the error type. Sending the
		// unchanged dnssec value is accepted ([C-code] dnscontrol does).
		if _, ok := st.obj["ns"]; ok {
			return validation("The nameservers of a managed zone can only be changed through a domain update")
		}
		if raw, ok := st.obj["dnssec"]; ok {
			var b bool
			json.Unmarshal(raw, &b)
			if b != z.DNSSEC {
				return validation("DNSSEC of a managed zone can only be changed through a domain update")
			}
		}
	}
	ttl := z.TTL
	if n, ok := st.ints["ttl"]; ok {
		ttl = n
	}
	var recs []Record
	if st.hasRecs {
		var p *problem
		if recs, p = s.checkRecords(z, st.records, ttl); p != nil {
			return p
		}
	}
	for k, n := range st.ints {
		switch k {
		case "ttl":
			z.TTL = n
		case "refresh":
			z.Refresh = n
		case "retry":
			z.Retry = n
		case "expire":
			z.Expire = n
		}
	}
	str := func(k string, dst *string) {
		if raw, ok := st.obj[k]; ok {
			json.Unmarshal(raw, dst)
		}
	}
	str("template", &z.Template)
	str("master", &z.Master)
	str("hostMaster", &z.HostMaster)
	if raw, ok := st.obj["ns"]; ok {
		json.Unmarshal(raw, &z.NS)
		if len(z.NS) == 0 {
			z.NS = slices.Clone(DefaultNS)
		}
	}
	if raw, ok := st.obj["dnssec"]; ok {
		json.Unmarshal(raw, &z.DNSSEC)
	}
	if st.hasRecs {
		// Kept byte for byte unless storing changed the record (a TTL
		// filled in from the zone).
		kept := make([]json.RawMessage, len(recs))
		for i, raw := range st.records {
			var sent Record
			if json.Unmarshal(raw, &sent) == nil && reflect.DeepEqual(sent, recs[i]) {
				kept[i] = slices.Clone(raw)
			}
		}
		z.setRecords(recs, kept)
	}
	z.updated = s.now().UTC()
	z.serial++
	return nil
}

var (
	hostnameRE = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z][a-z0-9-]{0,61}[a-z0-9])$`) // [C-doc] ns
	labelRE    = regexp.MustCompile(`^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$`)
	caaRE      = regexp.MustCompile(`^\d{1,3} [a-zA-Z0-9]+ "(?:[^"\\]|\\.)*"$`)
)

// checkRecords validates the records of a write. Field errors and conflicts
// come back as 400 DnsConfigurationException keyed by the record's index in
// the request ([C-doc]).
//
// [UNKNOWN] strict throughout: only the keys name, type, content, ttl and
// prio, with exact JSON types; names are lower-case, without trailing dot,
// and the zone or below it; ttl 60..2419200 when given (the zone minimum);
// prio 0..65535, mandatory for MX and SRV ([C-doc]) and refused for other
// types; SOA records and copies of the system's apex NS records are refused
// (they live in defaultRecords); TXT content must be escaped (\\ and \")
// with no other backslash, no bare quote and no trailing white space;
// CNAME, ALIAS, NS and MX targets are host names without trailing dot; two
// identical records, and a CNAME next to other data at one name, are
// conflicts.
func (s *Server) checkRecords(z *zone, raws []json.RawMessage, zoneTTL int) ([]Record, *problem) {
	errs := map[string]map[string]string{}
	fail := func(i int, field, msg string) {
		k := strconv.Itoa(i)
		if errs[k] == nil {
			errs[k] = map[string]string{}
		}
		if _, dup := errs[k][field]; !dup {
			errs[k][field] = msg
		}
	}
	recs := make([]Record, len(raws))
	for i, raw := range raws {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil || obj == nil {
			fail(i, "name", "A record must be an object")
			continue
		}
		if p := onlyKeys(obj, fmt.Sprintf("records[%d].", i), "name", "type", "content", "ttl", "prio"); p != nil {
			return nil, p
		}
		r := &recs[i]
		for _, f := range []struct {
			key string
			dst *string
		}{{"name", &r.Name}, {"type", &r.Type}, {"content", &r.Content}} {
			v, ok := obj[f.key]
			if !ok || json.Unmarshal(v, f.dst) != nil {
				fail(i, f.key, "This field is required and must be a string")
			}
		}
		r.TTL = zoneTTL
		if v, ok := obj["ttl"]; ok {
			n, err := strconv.Atoi(string(v))
			if err != nil || n < 60 || n > 2419200 {
				fail(i, "ttl", "Must be a number from 60 to 2419200")
			}
			r.TTL = n
		}
		if v, ok := obj["prio"]; ok {
			n, err := strconv.Atoi(string(v))
			if err != nil || n < 0 || n > 65535 {
				fail(i, "prio", "Must be a number from 0 to 65535")
			}
			r.Prio = Prio(n)
		}
		s.checkRecord(z, r, func(field, msg string) { fail(i, field, msg) })
	}
	conflicts := map[string][]int{}
	for j := range recs {
		for i := 0; i < j; i++ {
			a, b := recs[i], recs[j]
			same := a.Name == b.Name && a.Type == b.Type && a.Content == b.Content && eqPrio(a.Prio, b.Prio)
			cname := a.Name == b.Name && (a.Type == "CNAME") != (b.Type == "CNAME")
			if same || cname {
				k := strconv.Itoa(j)
				conflicts[k] = append(conflicts[k], i)
			}
		}
	}
	if len(errs) == 0 && len(conflicts) == 0 {
		return recs, nil
	}
	body := map[string]any{"type": "DnsConfigurationException", "message": msgDNSErrors}
	if len(errs) > 0 {
		if s.listErrors {
			lists := map[string]map[string][]string{}
			for k, fields := range errs {
				lists[k] = map[string][]string{}
				for f, m := range fields {
					lists[k][f] = []string{m}
				}
			}
			body["errors"] = lists
		} else {
			body["errors"] = errs
		}
	}
	if len(conflicts) > 0 {
		body["conflicts"] = conflicts
	}
	return nil, &problem{status: http.StatusBadRequest, body: body}
}

func eqPrio(a, b *int) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// checkRecord validates one record's name, type, content and prio.
func (s *Server) checkRecord(z *zone, r *Record, fail func(field, msg string)) {
	if r.Name != "" {
		labels := strings.Split(r.Name, ".")
		okName := r.Name == z.Name || strings.HasSuffix(r.Name, "."+z.Name)
		for i, l := range labels {
			okName = okName && (labelRE.MatchString(l) || (i == 0 && l == "*"))
		}
		if !okName || len(r.Name) > 253 {
			fail("name", fmt.Sprintf("Must be the full lower-case name of a record in zone %s, without trailing dot", z.Name))
		}
	}
	if r.Type == "" {
		return
	}
	switch {
	case !recordTypes[r.Type]:
		fail("type", "Unknown record type")
		return
	case r.Type == "SOA":
		fail("type", "SOA records are managed by the system")
		return
	case r.Type == "MX" || r.Type == "SRV":
		if r.Prio == nil {
			fail("prio", "This field is required for MX and SRV records")
		}
	case r.Prio != nil:
		fail("prio", "Only MX and SRV records have a priority")
	}
	c := r.Content
	if c == "" {
		fail("content", "This field is required")
		return
	}
	host := func(h string) bool { return hostnameRE.MatchString(h) || labelRE.MatchString(h) }
	switch r.Type {
	case "A", "AAAA":
		ip, err := netip.ParseAddr(c)
		if err != nil || ip.Zone() != "" || (r.Type == "A") != ip.Is4() {
			fail("content", "Invalid IPv"+map[bool]string{true: "4", false: "6"}[r.Type == "A"]+" address")
		}
	case "CNAME", "ALIAS", "NS":
		if !host(c) {
			fail("content", "Must be a host name without trailing dot")
		}
		if r.Type == "NS" && r.Name == z.Name && slices.Contains(z.NS, c) {
			fail("content", "The zone's own nameservers are managed by the system")
		}
	case "MX":
		if c != "." && !host(c) {
			fail("content", "Must be a host name without trailing dot")
		}
	case "SRV":
		f := strings.Fields(c)
		okSRV := len(f) == 3 && strings.Join(f, " ") == c && (f[2] == "." || host(f[2]))
		for _, n := range f[:min(2, len(f))] {
			v, err := strconv.Atoi(n)
			okSRV = okSRV && err == nil && v >= 0 && v <= 65535
		}
		if !okSRV {
			fail("content", `Must be "weight port target" with the target a host name without trailing dot`)
		}
	case "CAA":
		if !caaRE.MatchString(c) {
			fail("content", `Must be "flags tag \"value\""`)
		}
	case "TXT":
		if msg := checkTXT(c); msg != "" {
			fail("content", msg)
		}
	}
}

// checkTXT checks TXT content: escaped, no trailing white space ([C-code]
// dnscontrol's audit), at most 4096 bytes ([UNKNOWN]).
func checkTXT(c string) string {
	if strings.TrimRight(c, " \t") != c {
		return "Must not end in white space"
	}
	if len(c) > 4096 {
		return "Too long"
	}
	for i := 0; i < len(c); i++ {
		switch c[i] {
		case '"':
			return `Quotes must be escaped as \"`
		case '\\':
			if i+1 == len(c) || (c[i+1] != '\\' && c[i+1] != '"') {
				return `A backslash must be escaped as \\`
			}
			i++
		}
	}
	return ""
}

// --- domains ---

// getDomain serves GET domains/{domain}: the domain's name, nameservers and
// zone link ([C-doc] DOC-DG). [UNKNOWN] an unknown domain: the fake answers
// 400 ObjectDoesNotExist (a client must also expect 404).
func (s *Server) getDomain(w http.ResponseWriter, name string) *problem {
	s.mu.Lock()
	d, ok := s.domains[name]
	var out map[string]any
	if ok {
		out = map[string]any{"domainName": d.name, "customer": "acme", "ns": slices.Clone(d.ns), "status": []string{"OK"}}
		if z, ok := s.zones[d.zoneID]; ok {
			out["zone"] = map[string]any{"id": z.id, "service": z.Service, "dnssec": z.DNSSEC}
		}
	}
	s.mu.Unlock()
	if !ok {
		return newProblem(http.StatusBadRequest, "ObjectDoesNotExist", msgNoObject, "objectType", "Domain", "identifier", name)
	}
	apitest.WriteJSON(w, http.StatusOK, "application/json", out)
	return nil
}

// domainZone finds the managed zone of a domain. [UNKNOWN]: a domain that
// is not in the account, or has no managed zone, gives 400
// ObjectDoesNotExist. Callers hold s.mu.
func (s *Server) domainZone(name string) (int64, *problem) {
	d, ok := s.domains[name]
	if !ok {
		return 0, newProblem(http.StatusBadRequest, "ObjectDoesNotExist", msgNoObject, "objectType", "Domain", "identifier", name)
	}
	if _, ok := s.zones[d.zoneID]; !ok {
		return 0, newProblem(http.StatusBadRequest, "ObjectDoesNotExist", msgNoObject, "objectType", "Zone", "identifier", name)
	}
	return d.zoneID, nil
}
