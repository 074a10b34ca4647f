// Package xyntatest provides an in-process fake of the xYnta API calls a
// DNS-01 solver needs (m=domains with a=list, a=show-dns-zone and
// a=edit-dns-zone), for tests that must never reach the real service.
//
// The fake follows the project's API reference (reference/xynta.md in the
// shared design notes). What Xynta's help centre documents ([CONFIRMED-DOC])
// and what the one public client tested against production does
// ([CONFIRMED-CLIENT]) is reproduced exactly: one endpoint, a form-encoded
// POST with uid, hash, m, a, t and test, Domain and Tld split at the
// extension, DNSZone as a JSON string in a form field that replaces the whole
// zone, and answers of the form {"0": {"status": …, "results": […]}}.
// Almost everything else is unknown ([UNKNOWN]); there the fake is strict,
// refusing whatever a real server might refuse or mishandle, so that clients
// tested against it stay on the safe side. Every such choice is marked
// "[UNKNOWN]" in a comment. In particular the fake refuses an empty DNSZone,
// anything but form encoding, fields in the query string, unknown fields,
// non-empty t and test, fully qualified record names, and record keys it
// never served.
//
// Requests must carry a uid and hash pair added with [Server.AddCredentials]
// and, like a hash whose whitelist can only hold IPv4 addresses, come from an
// IPv4 address (see [Server.SetIPv4Only]). Fault injection
// ([Server.FailNext], [Server.SetLatency], [Server.DropOnWrite]) and request
// counters ([Server.Count]) serve the tests of clients.
package xyntatest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
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
// outcome (faulted, refused or successful): under its action when the body is
// a form whose single "a" field names one of the three actions, else under
// EndpointOther.
const (
	EndpointList     = "list"
	EndpointShowZone = "show-dns-zone"
	EndpointEditZone = "edit-dns-zone"
	EndpointOther    = "other"
)

// Statuses the fake answers with. Only "success" and "not-authorized" are
// documented status values ([CONFIRMED-DOC] S2 lists both for other
// actions); using "not-authorized" for a wrong uid, hash or source address is
// [INFERRED]. The other texts, and answering them with HTTP 200 (or 400 for
// a malformed request), are [UNKNOWN].
const (
	StatusSuccess        = "success"
	StatusNotAuthorized  = "not-authorized"
	StatusInvalidRequest = "invalid-request"
	StatusInvalidModule  = "invalid-module"
	StatusInvalidAction  = "invalid-action"
	StatusNotFoundDomain = "not-found-domain"
	StatusInvalidZone    = "invalid-dns-zone"
	StatusError          = "error"
)

const maxBodySize = 1 << 20

// allowedTypes are the record types edit-dns-zone accepts, upper case.
// [UNKNOWN] strict: the known client only ever touches A and AAAA.
var allowedTypes = map[string]bool{
	"A": true, "AAAA": true, "CNAME": true, "MX": true,
	"TXT": true, "SRV": true, "NS": true, "CAA": true,
}

// knownKeys are the record keys every client may send. [CONFIRMED-CLIENT]
// name, type and value (lower case); ttl appears in the known client's test
// fixtures only, and the fake requires it ([UNKNOWN] strict).
var knownKeys = []string{"name", "type", "value", "ttl"}

// Record is the known part of a stored record. Stored records may carry
// further keys; the fake keeps each record's JSON exactly as written.
type Record struct {
	Name  string `json:"name"` // "@" for the apex, else relative: "www", "_acme-challenge.sub"
	Type  string `json:"type"`
	Value string `json:"value"` // TXT text unquoted; MX "10 mail.example.nl." [UNKNOWN]
	TTL   int    `json:"ttl"`
}

// JSON returns the record's JSON object with its keys in the order the
// reference shows them (name, type, value, ttl), without HTML escaping.
func (r Record) JSON() json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(r) // a struct of strings and an int always encodes
	return bytes.TrimSpace(b.Bytes())
}

// Parse returns the known fields of a record's JSON, zero values for those
// that are absent or of another type.
func Parse(raw json.RawMessage) Record {
	var r struct {
		Name  string          `json:"name"`
		Type  string          `json:"type"`
		Value string          `json:"value"`
		TTL   json.RawMessage `json:"ttl"`
	}
	json.Unmarshal(raw, &r)
	ttl, _ := strconv.Atoi(string(r.TTL))
	return Record{Name: r.Name, Type: r.Type, Value: r.Value, TTL: ttl}
}

// Fault is a failure the fake can inject in place of a normal response;
// see [Server.FailNext]. A request answered with a fault never changes
// state.
type Fault int

const (
	// FaultRateLimit answers 429 Too Many Requests without Retry-After.
	// [UNKNOWN] whether Xynta rate-limits at all.
	FaultRateLimit Fault = iota + 1
	// FaultRateLimitRetryAfter answers 429 with "Retry-After: 1".
	FaultRateLimitRetryAfter
	// FaultServerError answers 500 with the envelope and status "error".
	FaultServerError
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
	case FaultBadGatewayHTML:
		return "BadGatewayHTML"
	case FaultDropConnection:
		return "DropConnection"
	}
	return "Fault(" + strconv.Itoa(int(f)) + ")"
}

type domain struct {
	name, label, tld string // "example.co.uk", "example", "co.uk"
	records          []json.RawMessage
}

// Server is a running fake of the xYnta API. All methods are safe for
// concurrent use, also while requests are in flight. Create it with
// [NewServer] and release it with [Server.Close].
type Server struct {
	// URL is the API endpoint, ending in "/", e.g. "http://127.0.0.1:PORT/".
	URL string

	// Controls gives the fake Close, Requests, Count, ResetCounts,
	// SetLatency and FailNext (see [apitest.Server]): requests are counted
	// under the Endpoint* constants, and FailNext takes the Fault constants
	// and panics on any other value. Set by [NewServer].
	apitest.Controls[Fault]

	api *apitest.Server[Fault] // what Controls is, seen from the handler

	mu       sync.Mutex
	creds    map[string]string // uid -> hash
	domains  map[string]*domain
	drops    int
	ipv4Only bool
}

// NewServer starts a fake on a loopback address (127.0.0.1 unless only IPv6
// is available). It has no credentials and no domains, accepts requests from
// IPv4 addresses only (unless it had to listen on IPv6), and has no latency
// and no pending fault. The caller must call [Server.Close].
func NewServer() *Server {
	s := &Server{
		creds:    make(map[string]string),
		domains:  make(map[string]*domain),
		ipv4Only: true,
	}
	s.api = apitest.New(s, apitest.Options[Fault]{
		Known: func(f Fault) bool { return f >= FaultRateLimit && f <= FaultDropConnection },
	})
	s.Controls = s.api
	s.api.Serve()
	s.URL = s.api.URL + "/"
	if ap, err := netip.ParseAddrPort(strings.TrimPrefix(s.api.URL, "http://")); err == nil && !ap.Addr().Unmap().Is4() {
		s.ipv4Only = false // an IPv6-only host: IPv4 clients could not reach the fake at all
	}
	return s
}

// AddCredentials makes the pair uid and hash valid; a uid has one hash.
func (s *Server) AddCredentials(uid, hash string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[uid] = hash
}

// SetIPv4Only controls whether requests from an IPv6 address are answered
// "not-authorized" (default true: [CONFIRMED-DOC] only IPv4 addresses can be
// whitelisted, and the hash is valid from its whitelisted address only).
// Addresses are not compared otherwise: every test runs on loopback.
func (s *Server) SetIPv4Only(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ipv4Only = on
}

// AddDomain adds name (case-insensitive; a trailing dot is removed) to the
// account with the given records, or replaces the records of a domain that
// is already there. The domain is split at its first dot into the API's
// Domain and Tld ("example.co.uk" is Domain "example", Tld "co.uk"). Each
// record is stored as the JSON given, compacted; it must be an object valid
// for edit-dns-zone, except that it may carry keys of its own, which the
// fake then serves and accepts back. It panics on invalid input.
func (s *Server) AddDomain(name string, records ...json.RawMessage) {
	n := canonical(name)
	label, tld, ok := strings.Cut(n, ".")
	if !ok || label == "" || tld == "" || checkHostname(n) != nil {
		panic(fmt.Sprintf("xyntatest: AddDomain: %q is not a domain name with an extension", name))
	}
	recs, err := validate(records, nil)
	if err != "" {
		panic("xyntatest: AddDomain(" + n + "): " + err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.domains[n]; ok {
		d.records = recs
		return
	}
	s.domains[n] = &domain{name: n, label: label, tld: tld, records: recs}
}

// Records returns a copy of the stored records of domain (case-insensitive)
// in stored order, each exactly as stored, or nil if the domain is not in
// the account.
func (s *Server) Records(name string) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.domains[canonical(name)]
	if !ok {
		return nil
	}
	out := make([]json.RawMessage, len(d.records))
	for i, r := range d.records {
		out[i] = slices.Clone(r)
	}
	return out
}

// Zones returns a snapshot of every domain, keyed by its dotted name
// ("example.nl."), as libdns records: names as stored ("@" for the apex,
// else relative), TTL in whole seconds, Data equal to the stored value.
// Records keep their stored order.
func (s *Server) Zones() map[string][]libdns.RR {
	s.mu.Lock()
	defer s.mu.Unlock()
	zones := make(map[string][]libdns.RR, len(s.domains))
	for name, d := range s.domains {
		rrs := make([]libdns.RR, 0, len(d.records))
		for _, raw := range d.records {
			r := Parse(raw)
			rrs = append(rrs, libdns.RR{Name: r.Name, TTL: time.Duration(r.TTL) * time.Second, Type: r.Type, Data: r.Value})
		}
		zones[name+"."] = rrs
	}
	return zones
}

// DropOnWrite makes the next n accepted edit-dns-zone calls silently store
// every record but the last one sent, while still answering "success": an
// API that loses data without saying so, which only reading the zone back
// reveals. n <= 0 cancels pending drops.
func (s *Server) DropOnWrite(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops = max(n, 0)
}

// --- request handling ---

// apiError is an answer whose status is not "success".
type apiError struct {
	code   int // HTTP status
	status string
	msg    string // for the fake's own "message" key; [UNKNOWN] whether Xynta sends one
}

func refuse(status, format string, args ...any) *apiError {
	return &apiError{code: http.StatusOK, status: status, msg: fmt.Sprintf(format, args...)}
}

func malformed(format string, args ...any) *apiError {
	return &apiError{code: http.StatusBadRequest, status: StatusInvalidRequest, msg: fmt.Sprintf(format, args...)}
}

// ServeHTTP handles one request; the fake's own listener uses it, and tests
// may serve it on further listeners (an IPv6 one, say).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	form, ferr := readForm(w, r)
	key := EndpointOther
	if ferr == nil && len(form["a"]) == 1 {
		switch a := form["a"][0]; a {
		case EndpointList, EndpointShowZone, EndpointEditZone:
			key = a
		}
	}
	if fault := s.api.Receive(r, key); fault != 0 {
		s.serveFault(w, s.api.EchoText(r, form.Get("uid"), form.Get("hash")), fault)
		return
	}

	if ferr != nil {
		writeError(w, ferr)
		return
	}
	results, err := s.handle(r, form)
	if err != nil {
		writeError(w, err)
		return
	}
	if zr, ok := results.([]zoneResult); ok && len(zr) == 1 {
		// The records go out as stored, byte for byte.
		raws := zr[0].DNSZone.Records
		zr[0].DNSZone.Records = nil
		writeJSONWith(w, http.StatusOK, envelope{StatusSuccess, zr, ""}, raws)
		return
	}
	writeJSON(w, http.StatusOK, envelope{StatusSuccess, results, ""})
}

// readForm checks everything about a request short of its fields' meaning.
// [CONFIRMED-CLIENT] POST with an application/x-www-form-urlencoded body to
// the one endpoint. [UNKNOWN] strict: other paths and methods, a JSON body,
// fields in the query string and fields given twice are all refused.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *apiError) {
	if r.URL.Path != "/" {
		return nil, &apiError{code: http.StatusNotFound, status: StatusInvalidRequest, msg: "not found: " + r.URL.Path}
	}
	if r.Method != http.MethodPost {
		return nil, &apiError{code: http.StatusMethodNotAllowed, status: StatusInvalidRequest, msg: "use POST"}
	}
	if r.URL.RawQuery != "" {
		return nil, malformed("fields in the query string are not read: send them in the form body")
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, malformed("Content-Type must be application/x-www-form-urlencoded, got %q", r.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodySize))
	if err != nil {
		return nil, malformed("could not read the request body")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, malformed("the body is not form-encoded: %v", err)
	}
	for k, v := range form {
		if len(v) != 1 {
			return nil, malformed("field %q given %d times", k, len(v))
		}
	}
	return form, nil
}

// fieldsOf lists the fields each action takes besides uid, hash, m, a, t and
// test. [CONFIRMED-CLIENT] for the zone actions, [CONFIRMED-DOC] list takes
// none. [UNKNOWN] strict: any other field is refused.
var fieldsOf = map[string][]string{
	EndpointList:     nil,
	EndpointShowZone: {"Domain", "Tld"},
	EndpointEditZone: {"Domain", "Tld", "DNSZone"},
}

func (s *Server) handle(r *http.Request, form url.Values) (any, *apiError) {
	if err := s.authorize(r, form); err != nil {
		return nil, err
	}
	if m := form.Get("m"); m != "domains" {
		return nil, refuse(StatusInvalidModule, "unknown module %q", m)
	}
	// [UNKNOWN] strict: the known client sends t and test empty; what a
	// value means (test is probably a dry-run flag) is unknown.
	for _, k := range []string{"t", "test"} {
		if v, ok := form[k]; !ok || v[0] != "" {
			return nil, malformed("field %q must be sent, empty", k)
		}
	}
	action := form.Get("a")
	extra, ok := fieldsOf[action]
	if !ok {
		return nil, refuse(StatusInvalidAction, "unknown action %q", action)
	}
	for k := range form {
		if !slices.Contains([]string{"uid", "hash", "m", "a", "t", "test"}, k) && !slices.Contains(extra, k) {
			return nil, malformed("unknown field %q for a=%s", k, action)
		}
	}
	switch action {
	case EndpointList:
		return s.list(), nil
	case EndpointShowZone:
		return s.show(form)
	default:
		return s.edit(form)
	}
}

// authorize checks the uid and hash pair and the source address family.
func (s *Server) authorize(r *http.Request, form url.Values) *apiError {
	s.mu.Lock()
	hash, known := s.creds[form.Get("uid")]
	ipv4Only := s.ipv4Only
	s.mu.Unlock()
	if !known || form.Get("hash") == "" || form.Get("hash") != hash {
		return refuse(StatusNotAuthorized, "unknown uid or hash%s", s.api.EchoText(r, form.Get("uid"), form.Get("hash")))
	}
	if ipv4Only {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !ap.Addr().Unmap().Is4() {
			return refuse(StatusNotAuthorized, "the hash is not valid from %s", r.RemoteAddr)
		}
	}
	return nil
}

type listEntry struct {
	Domain string `json:"Domain"`
	Tld    string `json:"Tld"`
}

// list answers a=list. [UNKNOWN] the shape of an entry; the fake uses the
// Domain/Tld split of the documented order action.
func (s *Server) list() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]listEntry, 0, len(s.domains))
	for _, d := range s.domains {
		out = append(out, listEntry{Domain: d.label, Tld: d.tld})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Domain+"."+out[i].Tld < out[j].Domain+"."+out[j].Tld })
	return out
}

// lookup finds the domain a request names. Callers hold s.mu. [UNKNOWN]
// strict: Domain and Tld must be the stored split exactly, in lower case, so
// "example.co" + "uk" does not find example.co.uk.
func (s *Server) lookup(form url.Values) (*domain, *apiError) {
	label, tld := form.Get("Domain"), form.Get("Tld")
	if label == "" || tld == "" {
		return nil, malformed("Domain and Tld are required")
	}
	d, ok := s.domains[label+"."+tld]
	if !ok || d.label != label || d.tld != tld {
		return nil, refuse(StatusNotFoundDomain, "domain %q with extension %q is not in this account", label, tld)
	}
	return d, nil
}

type zoneResult struct {
	DNSZone struct {
		Records []json.RawMessage `json:"records"`
	} `json:"dns_zone"`
}

// show answers a=show-dns-zone: results[0].dns_zone.records [CONFIRMED-CLIENT].
func (s *Server) show(form url.Values) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.lookup(form)
	if err != nil {
		return nil, err
	}
	var res zoneResult
	res.DNSZone.Records = slices.Clone(d.records)
	if res.DNSZone.Records == nil {
		res.DNSZone.Records = []json.RawMessage{}
	}
	return []zoneResult{res}, nil
}

// edit answers a=edit-dns-zone: DNSZone replaces the whole zone
// [CONFIRMED-CLIENT]. [UNKNOWN] strict: DNSZone must be a JSON object with
// exactly the key "records" holding at least one record (the known client
// may send it empty; what the server then does is unknown).
func (s *Server) edit(form url.Values) (any, *apiError) {
	s.mu.Lock()
	_, err := s.lookup(form)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	raw := form.Get("DNSZone")
	if strings.TrimSpace(raw) == "" {
		return nil, refuse(StatusInvalidZone, "DNSZone is empty")
	}
	var top map[string]json.RawMessage
	if apitest.DecodeStrict([]byte(raw), &top) != nil || top == nil {
		return nil, refuse(StatusInvalidZone, "DNSZone is not a JSON object")
	}
	for k := range top {
		if k != "records" {
			return nil, refuse(StatusInvalidZone, "DNSZone has an unknown key %q", k)
		}
	}
	var recs []json.RawMessage
	if rr, ok := top["records"]; !ok || json.Unmarshal(rr, &recs) != nil || recs == nil {
		return nil, refuse(StatusInvalidZone, "DNSZone.records must be a list of records")
	}
	if len(recs) == 0 {
		return nil, refuse(StatusInvalidZone, "DNSZone.records is empty")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.lookup(form) // it may have been replaced meanwhile
	if err != nil {
		return nil, err
	}
	allowed := map[string]bool{}
	for _, r := range d.records {
		var fields map[string]json.RawMessage
		json.Unmarshal(r, &fields)
		for k := range fields {
			allowed[k] = true
		}
	}
	stored, msg := validate(recs, allowed)
	if msg != "" {
		return nil, refuse(StatusInvalidZone, "%s", msg)
	}
	if s.drops > 0 {
		s.drops--
		stored = stored[:len(stored)-1]
	}
	d.records = stored
	return []any{}, nil
}

// validate checks records for edit-dns-zone and returns them compacted.
// allowed are the keys, besides name, type, value and ttl, a record may
// carry; nil allows any (for seeding).
//
// [UNKNOWN] strict throughout: name, type and value are required JSON
// strings and ttl a JSON integer from 1 to 86400; a key the fake never
// served is refused; types are those of allowedTypes, upper case; A and AAAA
// values must be addresses of their family; names are "@" or relative in
// lower case ([CONFIRMED-CLIENT] "@" and "www"), since whether the server
// takes FQDNs, or would append the domain to one, is unknown; exact
// duplicates (name, type, value) are refused.
func validate(records []json.RawMessage, allowed map[string]bool) ([]json.RawMessage, string) {
	out := make([]json.RawMessage, 0, len(records))
	seen := map[Record]bool{}
	for i, raw := range records {
		var fields map[string]json.RawMessage
		if apitest.DecodeStrict(raw, &fields) != nil || fields == nil {
			return nil, fmt.Sprintf("record %d is not a JSON object", i)
		}
		for k := range fields {
			if !slices.Contains(knownKeys, k) && allowed != nil && !allowed[k] {
				return nil, fmt.Sprintf("record %d has an unknown key %q", i, k)
			}
		}
		var r Record
		for _, f := range []struct {
			key string
			dst *string
		}{{"name", &r.Name}, {"type", &r.Type}, {"value", &r.Value}} {
			v, ok := fields[f.key]
			if !ok || json.Unmarshal(v, f.dst) != nil || string(v) == "null" {
				return nil, fmt.Sprintf("record %d: %q must be a string", i, f.key)
			}
		}
		ttl, ok := fields["ttl"]
		if !ok {
			return nil, fmt.Sprintf("record %d: \"ttl\" is missing", i)
		}
		n, err := strconv.Atoi(string(ttl))
		if err != nil || n < 1 || n > 86400 {
			return nil, fmt.Sprintf("record %d: ttl %s is not an integer from 1 to 86400", i, ttl)
		}
		r.TTL = n
		if !allowedTypes[r.Type] {
			return nil, fmt.Sprintf("record %d: invalid type %q", i, r.Type)
		}
		if r.Value == "" {
			return nil, fmt.Sprintf("record %d: empty value", i)
		}
		if r.Type == "A" || r.Type == "AAAA" {
			ip, err := netip.ParseAddr(r.Value)
			if err != nil || ip.Zone() != "" || (r.Type == "A") != ip.Is4() {
				return nil, fmt.Sprintf("record %d: invalid %s value %q", i, r.Type, r.Value)
			}
		}
		if err := checkName(r.Name); err != nil {
			return nil, fmt.Sprintf("record %d: %v", i, err)
		}
		k := r
		k.TTL = 0
		if seen[k] {
			return nil, fmt.Sprintf("record %d duplicates %s %s %q", i, r.Name, r.Type, r.Value)
		}
		seen[k] = true
		out = append(out, slices.Clone(raw)) // stored as sent, byte for byte
	}
	return out, ""
}

// checkName accepts "@" and relative lower-case names (see validate).
func checkName(name string) error {
	switch {
	case name == "@":
		return nil
	case name == "":
		return errors.New("empty name (use \"@\" for the apex)")
	case strings.HasSuffix(name, "."):
		return fmt.Errorf("name %q is fully qualified: send it relative to the domain", name)
	case name != strings.ToLower(name):
		return fmt.Errorf("name %q is not lower case", name)
	}
	return checkHostname(name)
}

func checkHostname(h string) error {
	if len(h) > 253 {
		return errors.New("name longer than 253 octets")
	}
	for i, label := range strings.Split(h, ".") {
		if label == "" {
			return fmt.Errorf("name %q has an empty label", h)
		}
		if len(label) > 63 {
			return fmt.Errorf("name %q has a label longer than 63 octets", h)
		}
		if label == "*" && i == 0 {
			continue
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("name %q has an invalid character %q", h, c)
			}
		}
	}
	return nil
}

func (s *Server) serveFault(w http.ResponseWriter, echo string, f Fault) {
	switch f {
	case FaultRateLimit:
		writeError(w, &apiError{code: http.StatusTooManyRequests, status: StatusError, msg: "too many requests" + echo})
	case FaultRateLimitRetryAfter:
		w.Header().Set("Retry-After", "1")
		writeError(w, &apiError{code: http.StatusTooManyRequests, status: StatusError, msg: "too many requests" + echo})
	case FaultServerError:
		writeError(w, &apiError{code: http.StatusInternalServerError, status: StatusError, msg: "internal error" + echo})
	case FaultBadGatewayHTML:
		apitest.WriteHTML(w, http.StatusBadGateway, "iso-8859-1", apitest.ApacheProxyError)
	case FaultDropConnection:
		apitest.Drop(w)
	}
}

// envelope is element "0" of every answer [CONFIRMED-CLIENT]. Message is
// the fake's own explanation on errors ([UNKNOWN] whether Xynta has one).
type envelope struct {
	Status  string `json:"status"`
	Results any    `json:"results"`
	Message string `json:"message,omitempty"`
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.code, envelope{e.status, []any{}, e.msg})
}

// writeJSON sends {"0": env} without HTML escaping.
func writeJSON(w http.ResponseWriter, code int, env envelope) {
	writeJSONWith(w, code, env, nil)
}

// writeJSONWith is writeJSON with the field "records":null in env replaced
// by records, each exactly as stored (nil: no replacement).
func writeJSONWith(w http.ResponseWriter, code int, env envelope, records []json.RawMessage) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]envelope{"0": env}); err != nil {
		panic(err) // only fake-internal types are encoded
	}
	out := b.Bytes()
	if records != nil {
		out = apitest.SpliceArray(bytes.TrimSpace(out), "records", records)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(out)
}

// canonical lower-cases a domain and strips one trailing dot.
func canonical(d string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
}
