// Package mijnhosttest provides an in-process fake of the mijn.host API v2
// DNS endpoints, for tests that must never reach the real service.
//
// The fake follows the project's API reference (reference/mijnhost.md in the
// shared design notes): documented ([DOC]) and client-observed ([CODE])
// behaviour is reproduced exactly; where the real behaviour is unknown
// ([UNKNOWN]) the fake is strict, i.e. it rejects what a real server might
// reject, so that clients tested against it stay on the safe side. Every
// such choice is marked "[UNKNOWN]" in a comment.
//
// Served endpoints, relative to [Server.URL] (which ends in "/api/v2/"):
//
//	GET   domains                 list domains ("domains/" works too)
//	GET   domains/{domain}/dns    list the records of one domain
//	PUT   domains/{domain}/dns    replace the whole record set
//	PATCH domains/{domain}/dns    upsert one record keyed on (type, name)
//
// Requests must carry a valid "API-Key" header (see [Server.AddKey]).
// Fault injection ([Server.FailNext], [Server.SetLatency]) reproduces the
// unreliability reported by other clients.
package mijnhosttest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
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
	// EndpointListDomains counts GET /domains and GET /domains/.
	EndpointListDomains = "GET /domains"
	// EndpointGetRecords counts GET /domains/{domain}/dns for any domain.
	EndpointGetRecords = "GET /domains/{domain}/dns"
	// EndpointPutRecords counts PUT /domains/{domain}/dns for any domain.
	EndpointPutRecords = "PUT /domains/{domain}/dns"
	// EndpointPatchRecord counts PATCH /domains/{domain}/dns for any domain.
	EndpointPatchRecord = "PATCH /domains/{domain}/dns"
	// EndpointOther counts everything else: unknown paths and wrong methods.
	EndpointOther = "other"
)

// Status descriptions sent by the fake. Only those marked [DOC]/[CODE] are
// known to be the real server's text.
const (
	descOK             = "Request successful"                   // [DOC] D-CODES
	descUpdated        = "DNS successfully updated"             // [CODE] lego fixture
	descNoKey          = "No valid API key set"                 // [DOC] D-AUTH
	descWrongMethod    = "Wrong request method"                 // [CODE] lego fixture
	descNotManaged     = "DNS records not managed by mijn.host" // [CODE] acme.sh
	descNoAccess       = "You have no access to this resource"  // [DOC] D-CODES 400 example; use for unknown domains is [UNKNOWN]
	descNotFound       = "Not found"                            // [UNKNOWN]
	descTooManyReqs    = "Too many requests"                    // [UNKNOWN]
	descInternalError  = "Internal server error"                // [UNKNOWN]
	descBadGateway     = "Bad gateway"                          // [UNKNOWN]
	maxRequestBodySize = 1 << 20
)

// allowedTypes are the record types the fake accepts in PUT and PATCH
// (the set PS validates, minus PTR and SOA). [UNKNOWN] strict: the real
// server may accept more; type names must be upper case.
var allowedTypes = map[string]bool{
	"A": true, "AAAA": true, "CNAME": true, "MX": true,
	"TXT": true, "SRV": true, "NS": true, "CAA": true,
}

// Record is one record as the fake stores it: exactly the four JSON fields
// mijn.host returns. Name is a dotted FQDN once stored ("example.com." for
// the apex); MX priority lives inside Value ("10 mail.example.com.").
type Record struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
	TTL   int    `json:"ttl"`
}

// Fault is a failure the fake can inject in place of a normal response;
// see [Server.FailNext]. A request answered with a fault never changes
// state.
type Fault int

const (
	// FaultRateLimit answers 429 Too Many Requests without Retry-After
	// (the documentation describes no rate-limit headers).
	FaultRateLimit Fault = iota + 1
	// FaultRateLimitRetryAfter answers 429 with the header "Retry-After: 1".
	FaultRateLimitRetryAfter
	// FaultServerError answers 500 Internal Server Error.
	FaultServerError
	// FaultBadGateway answers 502 Bad Gateway with a JSON body.
	FaultBadGateway
	// FaultBadGatewayHTML answers 502 Bad Gateway with a text/html body, as
	// a reverse proxy in front of the API would. It is the only response of
	// the fake whose Content-Type is not application/json.
	FaultBadGatewayHTML
	// FaultSpuriousBadRequest answers 400 with status_description
	// "DNS records not managed by mijn.host", even for a managed domain
	// (seen by the acme.sh hook).
	FaultSpuriousBadRequest
	// FaultDropConnection hijacks the connection and closes it without
	// sending anything; the client sees a transport error. Note that Go's
	// http.Transport may transparently retry an idempotent request that
	// failed this way on a reused keep-alive connection.
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
	case FaultBadGatewayHTML:
		return "BadGatewayHTML"
	case FaultSpuriousBadRequest:
		return "SpuriousBadRequest"
	case FaultDropConnection:
		return "DropConnection"
	}
	return "Fault(" + strconv.Itoa(int(f)) + ")"
}

type domain struct {
	id      int
	name    string // lower case, no trailing dot
	records []Record
	// raws holds each record's JSON as the fake serves it: the bytes a PUT
	// sent, when storing changed nothing of the record, else the fake's own
	// encoding (apitest.HouseStyle). The API's answers hold these bytes.
	raws []json.RawMessage
}

// set stores recs, with raws[i] (if not nil) the bytes record i came in.
func (d *domain) set(recs []Record, raws []json.RawMessage) {
	d.records = recs
	d.raws = make([]json.RawMessage, len(recs))
	for i, r := range recs {
		if raws != nil && raws[i] != nil {
			d.raws[i] = raws[i]
		} else {
			d.raws[i] = apitest.HouseStyle(r)
		}
	}
}

// Server is a running fake of the mijn.host API. All methods are safe for
// concurrent use, also while requests are in flight. Create it with
// [NewServer] and release it with [Server.Close].
type Server struct {
	// URL is the API base URL, ending in "/api/v2/",
	// e.g. "http://127.0.0.1:PORT/api/v2/".
	URL string

	// Controls gives the fake Close, Requests, Count, ResetCounts,
	// SetLatency and FailNext (see [apitest.Server]): requests are counted
	// under the Endpoint* constants, and FailNext takes the Fault constants
	// and panics on any other value. Set by [NewServer].
	apitest.Controls[Fault]

	api *apitest.Server[Fault] // what Controls is, seen from the handler

	mu           sync.Mutex
	keys         map[string]bool
	domains      map[string]*domain
	nextID       int
	stringStatus bool
	rejectEmpty  bool
	rejectDups   bool
}

// NewServer starts a fake on a loopback address (127.0.0.1 unless only IPv6
// is available). It has no keys and no domains; the strictness switches are
// on, string status is off, there is no latency and no pending fault. The
// caller must call [Server.Close].
func NewServer() *Server {
	s := &Server{
		keys:        make(map[string]bool),
		domains:     make(map[string]*domain),
		nextID:      1000,
		rejectEmpty: true,
		rejectDups:  true,
	}
	s.api = apitest.New(http.HandlerFunc(s.serve), apitest.Options[Fault]{
		Known: func(f Fault) bool { return f >= FaultRateLimit && f <= FaultDropConnection },
	})
	s.Controls = s.api
	s.api.Serve()
	s.URL = s.api.URL + "/api/v2/"
	return s
}

// AddKey makes key a valid value of the API-Key header.
func (s *Server) AddKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = true
}

// AddDomain adds domain (case-insensitive; a trailing dot is removed) to the
// account with the given records, or replaces the records of a domain that
// is already there (keeping its id). Domain ids are assigned from 1000 up in
// the order domains are first added.
//
// Record names are normalised to dotted FQDNs under the same rules as the
// API: "@", relative names ("_acme-challenge", "foo.bar") and dotted FQDNs
// inside the domain are accepted. Types, values and TTLs are stored as given
// without validation, so tests can seed data the API would refuse. It
// panics on an empty domain or a name the API would reject.
func (s *Server) AddDomain(domainName string, records ...Record) {
	name := canonicalDomain(domainName)
	if name == "" {
		panic("mijnhosttest: AddDomain: empty domain")
	}
	recs := mustNormalise("AddDomain", name, records)
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.domains[name]; ok {
		d.set(recs, nil)
		return
	}
	d := &domain{id: s.nextID, name: name}
	d.set(recs, nil)
	s.domains[name] = d
	s.nextID++
}

// Records returns a copy of the records of domain (case-insensitive) in
// stored order, or nil if the domain is not in the account.
func (s *Server) Records(domainName string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.domains[canonicalDomain(domainName)]
	if !ok {
		return nil
	}
	return slices.Clone(d.records)
}

// SetRecords replaces the records of an existing domain directly, bypassing
// the API's validation like [Server.AddDomain] does (names are still
// normalised). It panics if the domain is not in the account.
func (s *Server) SetRecords(domainName string, records ...Record) {
	name := canonicalDomain(domainName)
	recs := mustNormalise("SetRecords", name, records)
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.domains[name]
	if !ok {
		panic(fmt.Sprintf("mijnhosttest: SetRecords: domain %q not added", domainName))
	}
	d.set(recs, nil)
}

// Zones returns a snapshot of every domain, keyed by its dotted name
// ("example.com."), with records converted to libdns.RR: names relative to
// the domain ("@" for the apex), TTL in whole seconds as a time.Duration and
// Data equal to the stored value (already zone-file syntax for MX and the
// like; TXT data is the unquoted text). Records keep their stored order.
func (s *Server) Zones() map[string][]libdns.RR {
	s.mu.Lock()
	defer s.mu.Unlock()
	zones := make(map[string][]libdns.RR, len(s.domains))
	for name, d := range s.domains {
		rrs := make([]libdns.RR, 0, len(d.records))
		for _, r := range d.records {
			rrs = append(rrs, libdns.RR{
				Name: relativeName(r.Name, name),
				TTL:  time.Duration(r.TTL) * time.Second,
				Type: r.Type,
				Data: r.Value,
			})
		}
		zones[name+"."] = rrs
	}
	return zones
}

// SetStringStatus switches error bodies between the numeric form
// {"status":401,...} (default, [DOC] D-AUTH) and the string form
// {"status":"error",...} shown on the documentation's response-codes page.
// Successful responses always carry the numeric status 200.
func (s *Server) SetStringStatus(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stringStatus = on
}

// SetRejectEmptyPut controls whether a PUT with zero records is rejected
// with 400 (default true: a third party claims the real API does so, which
// is unverified). When off, an empty PUT empties the zone.
func (s *Server) SetRejectEmptyPut(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectEmpty = on
}

// SetRejectDuplicates controls whether a write that would store two records
// with the same (type, name, value) is rejected with 400 (default true; the
// real behaviour is only weakly inferred). When off, duplicates are stored
// as sent. Records sharing (type, name) with different values are always
// accepted.
func (s *Server) SetRejectDuplicates(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectDups = on
}

// --- request handling ---

type routeKind int

const (
	routeUnknown routeKind = iota
	routeList
	routeDNS
)

// route classifies a request path (decoded) into an endpoint.
func route(path string) (routeKind, string) {
	rest, ok := strings.CutPrefix(path, "/api/v2/")
	if !ok {
		return routeUnknown, ""
	}
	if rest == "domains" || rest == "domains/" {
		return routeList, ""
	}
	parts := strings.Split(rest, "/")
	if len(parts) == 3 && parts[0] == "domains" && parts[2] == "dns" {
		return routeDNS, parts[1]
	}
	// Includes GET /domains/{domain}, which exists on the real API but is
	// not needed for DNS-01 and not faked, and ".../dns/" with a trailing
	// slash ([UNKNOWN] strict).
	return routeUnknown, ""
}

func endpointKey(kind routeKind, method string) string {
	switch {
	case kind == routeList && method == http.MethodGet:
		return EndpointListDomains
	case kind == routeDNS && method == http.MethodGet:
		return EndpointGetRecords
	case kind == routeDNS && method == http.MethodPut:
		return EndpointPutRecords
	case kind == routeDNS && method == http.MethodPatch:
		return EndpointPatchRecord
	}
	return EndpointOther
}

// apiError is a non-200 answer of the API.
type apiError struct {
	code int
	desc string
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{code: http.StatusBadRequest, desc: fmt.Sprintf(format, args...)}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	kind, dom := route(r.URL.Path)
	if fault := s.api.Receive(r, endpointKey(kind, r.Method)); fault != 0 {
		s.serveFault(w, r, fault)
		return
	}
	s.mu.Lock()
	validKey := s.keys[r.Header.Get("API-Key")]
	s.mu.Unlock()
	// Authentication comes before routing: a bad key gets 401 on any path.
	if !validKey {
		s.writeError(w, &apiError{code: http.StatusUnauthorized, desc: descNoKey + s.api.EchoText(r)})
		return
	}

	switch kind {
	case routeList:
		if r.Method != http.MethodGet {
			s.writeWrongMethod(w)
			return
		}
		s.listDomains(w)
	case routeDNS:
		var err *apiError
		switch r.Method {
		case http.MethodGet:
			err = s.getRecords(w, dom)
		case http.MethodPut:
			err = s.putRecords(w, r, dom)
		case http.MethodPatch:
			err = s.patchRecord(w, r, dom)
		default:
			s.writeWrongMethod(w)
			return
		}
		if err != nil {
			s.writeError(w, err)
		}
	default:
		s.writeError(w, &apiError{code: http.StatusNotFound, desc: descNotFound})
	}
}

func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f Fault) {
	echo := s.api.EchoText(r)
	switch f {
	case FaultRateLimit:
		s.writeError(w, &apiError{code: http.StatusTooManyRequests, desc: descTooManyReqs + echo})
	case FaultRateLimitRetryAfter:
		w.Header().Set("Retry-After", "1")
		s.writeError(w, &apiError{code: http.StatusTooManyRequests, desc: descTooManyReqs + echo})
	case FaultServerError:
		s.writeError(w, &apiError{code: http.StatusInternalServerError, desc: descInternalError + echo})
	case FaultBadGateway:
		s.writeError(w, &apiError{code: http.StatusBadGateway, desc: descBadGateway + echo})
	case FaultBadGatewayHTML:
		apitest.WriteHTML(w, http.StatusBadGateway, "iso-8859-1", apitest.ApacheProxyError)
	case FaultSpuriousBadRequest:
		s.writeError(w, &apiError{code: http.StatusBadRequest, desc: descNotManaged + echo})
	case FaultDropConnection:
		apitest.Drop(w)
	}
}

func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	s.mu.Lock()
	stringStatus := s.stringStatus
	s.mu.Unlock()
	var status any = e.code
	if stringStatus {
		status = "error"
	}
	apitest.WriteJSON(w, e.code, "application/json", struct {
		Status      any    `json:"status"`
		Description string `json:"status_description"`
	}{status, e.desc})
}

// writeWrongMethod answers a known path used with a wrong method. The text
// is lego's fixture; that fixture pairs it with "status":400, but the docs
// list 405 Method Not Allowed, which the fake sends. [UNKNOWN]
func (s *Server) writeWrongMethod(w http.ResponseWriter) {
	s.writeError(w, &apiError{code: http.StatusMethodNotAllowed, desc: descWrongMethod})
}

func (s *Server) writeOK(w http.ResponseWriter, desc string, data any) {
	apitest.WriteJSON(w, http.StatusOK, "application/json", struct {
		Status      int    `json:"status"`
		Description string `json:"status_description"`
		Data        any    `json:"data,omitempty"`
	}{http.StatusOK, desc, data})
}

type domainEntry struct {
	ID          int      `json:"id"`
	Domain      string   `json:"domain"`
	RenewalDate string   `json:"renewal_date"`
	Status      string   `json:"status"`
	StatusID    int      `json:"status_id"`
	Tags        []string `json:"tags"`
}

func (s *Server) listDomains(w http.ResponseWriter) {
	s.mu.Lock()
	list := make([]domainEntry, 0, len(s.domains))
	for _, d := range s.domains {
		list = append(list, domainEntry{
			ID: d.id, Domain: d.name, RenewalDate: "2030-01-01",
			Status: "Active", StatusID: 1, Tags: []string{},
		})
	}
	s.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].Domain < list[j].Domain })
	s.writeOK(w, descOK, struct {
		Domains []domainEntry `json:"domains"`
	}{list})
}

// lookup finds the domain named in a request path. Callers hold s.mu.
//
// A domain that is not in the account, including a parent or sub-domain of
// one that is, gets HTTP 400 ([VENDOR-CODE] certbot plugin); the body text
// is [UNKNOWN], the fake reuses the documented 400 example. A trailing dot
// in the path is treated the same way ([UNKNOWN] strict: clients must strip
// it). The comparison is case-insensitive.
func (s *Server) lookup(pathDomain string) (*domain, *apiError) {
	if pathDomain == "" || strings.HasSuffix(pathDomain, ".") {
		return nil, badRequest("%s", descNoAccess)
	}
	d, ok := s.domains[strings.ToLower(pathDomain)]
	if !ok {
		return nil, badRequest("%s", descNoAccess)
	}
	return d, nil
}

func (s *Server) getRecords(w http.ResponseWriter, pathDomain string) *apiError {
	s.mu.Lock()
	d, err := s.lookup(pathDomain)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	name := d.name
	raws := slices.Clone(d.raws)
	s.mu.Unlock()
	// The records go out as stored, byte for byte.
	apitest.WriteJSONWithArray(w, http.StatusOK, "application/json", struct {
		Status      int    `json:"status"`
		Description string `json:"status_description"`
		Data        any    `json:"data"`
	}{http.StatusOK, descOK, struct {
		Domain  string          `json:"domain"`
		Records json.RawMessage `json:"records"`
	}{name, nil}}, "records", raws)
	return nil
}

func (s *Server) putRecords(w http.ResponseWriter, r *http.Request, pathDomain string) *apiError {
	s.mu.Lock()
	d, err := s.lookup(pathDomain)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	top, err := readBody(w, r, "records")
	if err != nil {
		return err
	}
	var raws []json.RawMessage
	if string(top["records"]) == "null" || json.Unmarshal(top["records"], &raws) != nil {
		return badRequest("records must be an array of records")
	}
	recs := make([]Record, 0, len(raws))
	kept := make([]json.RawMessage, len(raws))
	for i, raw := range raws {
		rec, err := parseRecord(raw, d.name)
		if err != nil {
			return badRequest("record %d: %s", i, err.desc)
		}
		recs = append(recs, rec)
		// Kept byte for byte unless storing changed it (a relative name
		// stored as a dotted FQDN).
		var sent Record
		if json.Unmarshal(raw, &sent) == nil && sent == rec {
			kept[i] = slices.Clone(raw)
		}
	}

	if err := s.replace(pathDomain, recs, kept); err != nil {
		return err
	}
	s.writeOK(w, descUpdated, nil)
	return nil
}

// replace stores recs as the whole record set of the domain, atomically.
func (s *Server) replace(pathDomain string, recs []Record, raws []json.RawMessage) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	// [UNKNOWN] strict: a third party claims the API refuses an empty set.
	if len(recs) == 0 && s.rejectEmpty {
		return badRequest("No DNS records given")
	}
	// [UNKNOWN] strict: exact duplicates are rejected (weak inference from
	// the libdns test suite); text unknown.
	if s.rejectDups {
		seen := make(map[Record]bool, len(recs))
		for _, rec := range recs {
			k := identity(rec)
			if seen[k] {
				return badRequest("Duplicate DNS record: %s %s %q", rec.Type, rec.Name, rec.Value)
			}
			seen[k] = true
		}
	}
	// The domain may have been re-added meanwhile; write to the current one.
	d, err := s.lookup(pathDomain)
	if err != nil {
		return err
	}
	d.set(recs, raws)
	return nil
}

// patchRecord upserts one record keyed on (type, name): the first stored
// record with that type and name gets the new value and TTL; if there is
// none, the record is appended. [CLAIM x3] for the semantics; which record
// changes when several share (type, name) is [UNKNOWN] (the fake: the
// first). The success text is [UNKNOWN]; the fake reuses the PUT text.
func (s *Server) patchRecord(w http.ResponseWriter, r *http.Request, pathDomain string) *apiError {
	s.mu.Lock()
	d, err := s.lookup(pathDomain)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	top, err := readBody(w, r, "record")
	if err != nil {
		return err
	}
	rec, err := parseRecord(top["record"], d.name)
	if err != nil {
		return badRequest("record: %s", err.desc)
	}

	if err := s.upsert(pathDomain, rec); err != nil {
		return err
	}
	s.writeOK(w, descUpdated, nil)
	return nil
}

// upsert applies a PATCH atomically.
func (s *Server) upsert(pathDomain string, rec Record) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.lookup(pathDomain)
	if err != nil {
		return err
	}
	idx := slices.IndexFunc(d.records, func(x Record) bool {
		return x.Type == rec.Type && x.Name == rec.Name
	})
	// [UNKNOWN] strict: when several records share (type, name), updating
	// the first could make it equal to another one; that is refused like a
	// duplicate in a PUT.
	if s.rejectDups {
		for i, x := range d.records {
			if i != idx && identity(x) == identity(rec) {
				return badRequest("Duplicate DNS record: %s %s %q", rec.Type, rec.Name, rec.Value)
			}
		}
	}
	if idx >= 0 {
		d.records[idx].Value = rec.Value
		d.records[idx].TTL = rec.TTL
		d.raws[idx] = apitest.HouseStyle(d.records[idx])
	} else {
		d.records = append(d.records, rec)
		d.raws = append(d.raws, apitest.HouseStyle(rec))
	}
	return nil
}

func identity(r Record) Record {
	r.TTL = 0
	return r
}

// readBody checks the Content-Type and decodes a JSON object whose only key
// must be key. [UNKNOWN] strict: a missing or different Content-Type,
// unknown or differently-cased keys, and trailing data are all rejected.
func readBody(w http.ResponseWriter, r *http.Request, key string) (map[string]json.RawMessage, *apiError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, badRequest("Content-Type must be application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBodySize))
	if err != nil {
		return nil, badRequest("Could not read request body")
	}
	var top map[string]json.RawMessage
	if err := apitest.DecodeStrict(body, &top); err != nil || top == nil {
		return nil, badRequest("Request body must be a JSON object")
	}
	for k := range top {
		if k != key {
			return nil, badRequest("Unknown field %q", k)
		}
	}
	if _, ok := top[key]; !ok {
		return nil, badRequest("Missing field %q", key)
	}
	return top, nil
}

// parseRecord validates one record object of a PUT or PATCH body and returns
// it with its name normalised to a dotted FQDN inside domainName.
//
// [UNKNOWN] strict throughout: all four fields are required with their exact
// lower-case keys and JSON types; no other field is allowed; ttl must be a
// JSON integer in 1..86400 (lego omits ttl 0 entirely); A and AAAA values
// must be IPv4 and IPv6 addresses.
func parseRecord(raw json.RawMessage, domainName string) (Record, *apiError) {
	var fields map[string]json.RawMessage
	if string(raw) == "null" || json.Unmarshal(raw, &fields) != nil {
		return Record{}, badRequest("a record must be a JSON object")
	}
	for k := range fields {
		switch k {
		case "type", "name", "value", "ttl":
		default:
			return Record{}, badRequest("unknown field %q", k)
		}
	}
	var rec Record
	for _, f := range []struct {
		key string
		dst *string
	}{{"type", &rec.Type}, {"name", &rec.Name}, {"value", &rec.Value}} {
		v, ok := fields[f.key]
		if !ok || string(v) == "null" {
			return Record{}, badRequest("missing field %q", f.key)
		}
		if json.Unmarshal(v, f.dst) != nil {
			return Record{}, badRequest("field %q must be a string", f.key)
		}
	}
	ttlRaw, ok := fields["ttl"]
	if !ok || string(ttlRaw) == "null" {
		return Record{}, badRequest("missing field \"ttl\"")
	}
	ttl, err := strconv.Atoi(string(ttlRaw))
	if err != nil {
		return Record{}, badRequest("ttl must be an integer, got %s", ttlRaw)
	}
	if ttl < 1 || ttl > 86400 {
		return Record{}, badRequest("ttl %d out of range 1..86400", ttl)
	}
	rec.TTL = ttl

	if !allowedTypes[rec.Type] {
		return Record{}, badRequest("invalid record type %q", rec.Type)
	}
	if rec.Value == "" {
		return Record{}, badRequest("empty value")
	}
	switch rec.Type {
	case "A", "AAAA":
		ip, err := netip.ParseAddr(rec.Value)
		if err != nil || ip.Zone() != "" || (rec.Type == "A") != ip.Is4() {
			return Record{}, badRequest("invalid %s value %q", rec.Type, rec.Value)
		}
	}
	name, nerr := normaliseName(rec.Name, domainName)
	if nerr != nil {
		return Record{}, badRequest("%s", nerr)
	}
	rec.Name = name
	return rec, nil
}

// normaliseName turns a record name as sent by a client into the stored
// dotted FQDN (lower case) inside domainName (lower case, no trailing dot).
//
//   - "@" is the apex.
//   - A name with a trailing dot is an FQDN and must be the domain or lie
//     under it ([CODE]: clients send these and GET returns them).
//   - Any other name is relative to the domain ([CODE] lego sends
//     "_acme-challenge"); storing it as FQDN is [UNKNOWN].
//   - [UNKNOWN] strict: a name without trailing dot that already ends in the
//     domain ("_acme-challenge.example.com") might be doubled by the real
//     server, so it is refused; so are empty names and labels, characters
//     other than letters, digits, '-', '_' and a leading "*" label, labels
//     over 63 and names over 253 octets. Names are stored in lower case
//     ([UNKNOWN]; DNS names compare case-insensitively).
func normaliseName(name, domainName string) (string, error) {
	if name == "" {
		return "", errors.New("empty record name")
	}
	if name == "@" {
		return domainName + ".", nil
	}
	lower := strings.ToLower(name)
	var fqdn string
	if strings.HasSuffix(lower, ".") {
		if lower != domainName+"." && !strings.HasSuffix(lower, "."+domainName+".") {
			return "", fmt.Errorf("record name %q is outside domain %q", name, domainName)
		}
		fqdn = lower
	} else {
		if lower == domainName || strings.HasSuffix(lower, "."+domainName) {
			return "", fmt.Errorf("record name %q is a fully qualified name without trailing dot; "+
				"how the real server treats it is unknown (it may append the domain again): "+
				"send %q or a relative name", name, name+".")
		}
		fqdn = lower + "." + domainName + "."
	}
	if err := checkHostname(strings.TrimSuffix(fqdn, ".")); err != nil {
		return "", fmt.Errorf("record name %q: %v", name, err)
	}
	return fqdn, nil
}

func checkHostname(h string) error {
	if len(h) > 253 {
		return errors.New("name longer than 253 octets")
	}
	for i, label := range strings.Split(h, ".") {
		if label == "" {
			return errors.New("empty label")
		}
		if len(label) > 63 {
			return errors.New("label longer than 63 octets")
		}
		if label == "*" && i == 0 {
			continue
		}
		for _, c := range label {
			ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return fmt.Errorf("invalid character %q", c)
			}
		}
	}
	return nil
}

// canonicalDomain lower-cases a domain and strips one trailing dot.
func canonicalDomain(d string) string {
	return strings.TrimSuffix(strings.ToLower(d), ".")
}

func mustNormalise(fn, domainName string, records []Record) []Record {
	out := make([]Record, 0, len(records))
	for _, r := range records {
		name, err := normaliseName(r.Name, domainName)
		if err != nil {
			panic(fmt.Sprintf("mijnhosttest: %s(%q): %v", fn, domainName, err))
		}
		r.Name = name
		out = append(out, r)
	}
	return out
}

// relativeName converts a stored FQDN to a name relative to domainName.
func relativeName(fqdn, domainName string) string {
	if fqdn == domainName+"." {
		return "@"
	}
	return strings.TrimSuffix(fqdn, "."+domainName+".")
}
