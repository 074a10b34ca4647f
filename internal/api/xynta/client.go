// Package xynta is a typed client for the DNS-zone calls of the xYnta API
// (https://api.xynta.com/). It knows nothing about ACME.
//
// Xynta documents its API only in part, and its DNS calls not at all in
// public: what this client sends is what the one known public client
// (mbchristoff/xynta-ddns) sends after its author fixed it "after testing
// against production API". The calls are therefore EXPERIMENTAL; see the
// project's reference notes (reference/xynta.md) for what is confirmed and
// what is not.
//
// Every call is a form-encoded POST to the one endpoint, carrying uid, hash,
// m=domains, a=<action> and empty t and test, plus the action's own fields:
//
//	a=list            the account's domains
//	a=show-dns-zone   Domain=<name without extension>&Tld=<extension>
//	a=edit-dns-zone   Domain, Tld and DNSZone={"records":[…]} (whole zone)
//
// The answer is JSON whose element "0" holds a status string and a results
// array; any status but "success" is an error that quotes the status.
//
// The hash is bound to one whitelisted IPv4 address, so the client connects
// over IPv4 only (see New). uid and hash travel in the form body; they are
// removed from every error text and log line.
//
// Where the API's behaviour is unknown, the client is tolerant in what it
// reads and conservative in what it sends; each such place says [UNKNOWN].
package xynta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/redact"
)

// DefaultURL is the production endpoint; every call goes to it.
const DefaultURL = "https://api.xynta.com/"

// Actions of the domains module this client uses.
const (
	ActionList     = "list"
	ActionShowZone = "show-dns-zone"
	ActionEditZone = "edit-dns-zone"
)

// StatusSuccess is the only status that is not an error.
const StatusSuccess = "success"

var (
	// ErrMissingCredentials is returned by New when uid or hash is empty.
	ErrMissingCredentials = errors.New("uid and hash are both required")
	// ErrNotAuthorized is in the chain of every error whose cause is that
	// Xynta refused the credentials (status "not-authorized", HTTP 401/403).
	ErrNotAuthorized = errors.New("not authorized")
	// ErrEmptyZone is returned by EditDNSZone for an empty record list, which
	// is never sent: what Xynta does with one is unknown (it may wipe the zone).
	ErrEmptyZone = errors.New("refusing to send an empty DNS zone (it could wipe the zone)")
)

// Domain is one domain of the account, in the split form the API addresses
// zones by.
type Domain struct {
	Name   string // the whole name, lower case, no trailing dot: "example.co.uk"
	Domain string // the name without its extension: "example"
	Tld    string // the extension without a leading dot: "co.uk"
}

// Record is the part of a DNS record this client understands. Value is
// Xynta's value text as read; TTL is 0 when the record has none.
type Record struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
	TTL   int    `json:"ttl"`
}

// RawRecord is a record as the API returned it: Raw holds its exact JSON
// bytes so that it can be sent back unchanged, unknown fields included.
type RawRecord struct {
	Record
	Raw json.RawMessage
}

// Options tune a Client; the zero value is production with default retries
// over an IPv4-only connection.
type Options struct {
	BaseURL string // default DefaultURL
	// HTTPClient sends the requests. nil, or a client whose Transport is nil,
	// gets an IPv4-only transport (the client's other settings, such as its
	// Timeout, are kept). A client with a Transport of its own is used as is:
	// the caller then answers for the address family.
	HTTPClient *http.Client
	Retry      api.Retry
	Logger     *slog.Logger
}

// Client calls the xYnta API with one uid and hash. Safe for concurrent use.
type Client struct {
	api        *api.Client
	path       string
	uid, hash  string
	ipv4Forced bool
}

// New returns a client for uid and hash. It fails only on a missing
// credential or an unusable base URL.
func New(uid, hash string, opts Options) (*Client, error) {
	uid, hash = strings.TrimSpace(uid), strings.TrimSpace(hash)
	if uid == "" || hash == "" {
		return nil, ErrMissingCredentials
	}
	base := opts.BaseURL
	if base == "" {
		base = DefaultURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("API URL %q is not an http(s) URL without query", base)
	}
	// The api package joins a request path to its base URL; keep the whole
	// path (trailing slash included) in the request path so errors show it.
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	origin := &url.URL{Scheme: u.Scheme, User: u.User, Host: u.Host}
	hc, forced := IPv4Client(opts.HTTPClient)
	return &Client{
		api: &api.Client{
			BaseURL:    origin,
			HTTPClient: hc,
			Retry:      opts.Retry,
			Secrets:    []string{uid, hash},
			Message:    message,
			Logger:     opts.Logger,
		},
		path:       path,
		uid:        uid,
		hash:       hash,
		ipv4Forced: forced,
	}, nil
}

// Endpoint identifies the API endpoint the client calls (see api.Endpoint).
func (c *Client) Endpoint() string {
	u := *c.api.BaseURL
	u.Path = c.path
	return api.Endpoint(&u)
}

// IPv4Client returns an HTTP client that connects over IPv4 only, and true;
// or, when hc has a Transport of its own, hc itself and false. A nil hc or
// one without Transport is copied with a transport cloned from
// http.DefaultTransport (proxy settings from the environment included; the
// standard settings if the program replaced it with another type) whose
// dialer uses "tcp4": a dual-stack host then never sends the request over
// IPv6, from an address Xynta has not whitelisted.
func IPv4Client(hc *http.Client) (*http.Client, bool) {
	if hc != nil && hc.Transport != nil {
		return hc, false
	}
	out := &http.Client{}
	if hc != nil {
		*out = *hc
	}
	t, ok := http.DefaultTransport.(*http.Transport)
	if ok {
		t = t.Clone()
	} else { // replaced by the program: start from the standard settings
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true, MaxIdleConns: 100,
			IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second, ExpectContinueTimeout: time.Second}
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if network != "tcp" && network != "tcp4" {
			return nil, fmt.Errorf("connecting to %s over %s: only IPv4 is allowed (the Xynta hash is bound to an IPv4 address)", addr, network)
		}
		conn, err := d.DialContext(ctx, "tcp4", addr)
		if err != nil {
			return nil, fmt.Errorf("connecting over IPv4 only (the Xynta hash is bound to an IPv4 address): %w", err)
		}
		return conn, nil
	}
	out.Transport = t
	return out, true
}

// Domains lists the account's domains (a=list).
//
// [UNKNOWN] The shape of the list is not documented. Each element of results
// may be a string holding the whole name, or an object with Domain and Tld
// fields (the split the other domain actions use), or with a field holding
// the whole name (domain, domainname, name or fqdn, any case); results may
// also be an object whose values are such elements. An element none of these
// fit is an error, never skipped silently.
func (c *Client) Domains(ctx context.Context) ([]Domain, error) {
	results, err := c.do(ctx, ActionList, nil)
	if err != nil {
		return nil, err
	}
	elems, err := elements(results)
	if err != nil {
		return nil, fmt.Errorf("a=list: %w", err)
	}
	out := make([]Domain, 0, len(elems))
	for i, el := range elems {
		d, err := listedDomain(el)
		if err != nil {
			return nil, fmt.Errorf("a=list: element %d: %w: %s", i, err, c.snippet(el))
		}
		out = append(out, d)
	}
	return out, nil
}

// ShowDNSZone returns every record of the domain's zone (a=show-dns-zone), in
// API order, each with its raw JSON.
//
// The records are read from results[0].dns_zone.records [CONFIRMED-CLIENT].
// [UNKNOWN] tolerated: results as a single object instead of an array, and
// dns_zone as a JSON string holding the object (DNSZone is sent that way).
// A missing records list is an error, never an empty zone.
func (c *Client) ShowDNSZone(ctx context.Context, d Domain) ([]RawRecord, error) {
	results, err := c.do(ctx, ActionShowZone, zoneFields(d))
	if err != nil {
		return nil, err
	}
	what := "a=" + ActionShowZone + " " + d.Name
	var first map[string]json.RawMessage
	if json.Unmarshal(results, &first) != nil || first["dns_zone"] == nil {
		elems, err := elements(results)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if len(elems) == 0 {
			return nil, fmt.Errorf("%s: the answer has no results", what)
		}
		first = nil
		if err := json.Unmarshal(elems[0], &first); err != nil || first == nil {
			return nil, fmt.Errorf("%s: results[0] is not an object: %s", what, c.snippet(elems[0]))
		}
	}
	dz, ok := first["dns_zone"]
	if !ok || isNull(dz) {
		return nil, fmt.Errorf("%s: results[0] has no dns_zone: %s", what, c.snippet(results))
	}
	var s string
	if json.Unmarshal(dz, &s) == nil {
		dz = json.RawMessage(s)
	}
	var zone struct {
		Records json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(dz, &zone); err != nil || len(zone.Records) == 0 || isNull(zone.Records) {
		return nil, fmt.Errorf("%s: dns_zone has no records list: %s", what, c.snippet(dz))
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(zone.Records, &raws); err != nil {
		return nil, fmt.Errorf("%s: dns_zone.records is not a list: %s", what, c.snippet(zone.Records))
	}
	out := make([]RawRecord, 0, len(raws))
	for i, raw := range raws {
		r, err := DecodeRecord(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: record %d: %w", what, i, err)
		}
		out = append(out, RawRecord{Record: r, Raw: raw})
	}
	return out, nil
}

// EditDNSZone replaces the domain's whole zone with records
// (a=edit-dns-zone). Every element is sent byte for byte as given, so
// records read with ShowDNSZone go back exactly as read. An empty list is
// never sent (ErrEmptyZone), and every element must be a JSON object.
func (c *Client) EditDNSZone(ctx context.Context, d Domain, records []json.RawMessage) error {
	what := "a=" + ActionEditZone + " " + d.Name
	if len(records) == 0 {
		return fmt.Errorf("%s: %w", what, ErrEmptyZone)
	}
	var b bytes.Buffer
	b.WriteString(`{"records":[`)
	for i, r := range records {
		r = bytes.TrimSpace(r)
		if len(r) == 0 || r[0] != '{' || !json.Valid(r) {
			return fmt.Errorf("%s: record %d is not a JSON object: %s", what, i, c.snippet(r))
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r)
	}
	b.WriteString(`]}`)
	f := zoneFields(d)
	f.Set("DNSZone", b.String())
	_, err := c.do(ctx, ActionEditZone, f)
	return err
}

// EncodeRecord returns the JSON for a new record: name, type, value and ttl,
// in that order. [INFERRED] The key set is that of the records the known
// client reads (name, type, value lower case [CONFIRMED-CLIENT]); ttl is only
// seen in that client's test fixtures. A server that refuses the ttl key
// answers with an error status; one that drops it is caught by reading back.
func EncodeRecord(r Record) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(r) // a struct of strings and an int always encodes
	return bytes.TrimSpace(b.Bytes())
}

// DecodeRecord reads the fields of one record tolerantly: keys are matched
// case-insensitively, type is upper-cased, value may be a JSON number and
// ttl a number or a numeric string or absent ([UNKNOWN] all). A record
// without a name or a type is an error.
func DecodeRecord(raw json.RawMessage) (Record, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return Record{}, fmt.Errorf("not a JSON object: %s", shorten(string(raw)))
	}
	get := func(key string) json.RawMessage {
		if v, ok := fields[key]; ok {
			return v
		}
		for k, v := range fields {
			if strings.EqualFold(k, key) {
				return v
			}
		}
		return nil
	}
	var r Record
	var err error
	if r.Name, err = scalar(get("name")); err != nil {
		return Record{}, fmt.Errorf("name: %w", err)
	}
	if r.Type, err = scalar(get("type")); err != nil {
		return Record{}, fmt.Errorf("type: %w", err)
	}
	if r.Value, err = scalar(get("value")); err != nil {
		return Record{}, fmt.Errorf("value: %w", err)
	}
	r.Type = strings.ToUpper(strings.TrimSpace(r.Type))
	if ttl, err := scalar(get("ttl")); err != nil {
		return Record{}, fmt.Errorf("ttl: %w", err)
	} else if ttl = strings.TrimSpace(ttl); ttl != "" {
		if r.TTL, err = strconv.Atoi(ttl); err != nil || r.TTL < 0 {
			return Record{}, fmt.Errorf("ttl %q is not a number of seconds", ttl)
		}
	}
	if strings.TrimSpace(r.Name) == "" || r.Type == "" {
		return Record{}, fmt.Errorf("record without name or type: %s", shorten(string(raw)))
	}
	return r, nil
}

// SplitDomain splits a registered domain name into the API's Domain (the
// first label) and Tld (the rest, which may have several labels: "co.uk").
// [INFERRED] Account domains are registered names, a label under an
// extension, so no public-suffix list is needed.
func SplitDomain(name string) (Domain, error) {
	n := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
	label, tld, ok := strings.Cut(n, ".")
	if !ok || label == "" || tld == "" || strings.HasPrefix(tld, ".") || strings.HasSuffix(tld, ".") || strings.Contains(tld, "..") {
		return Domain{}, fmt.Errorf("%q is not a domain name with an extension", name)
	}
	return Domain{Name: n, Domain: label, Tld: tld}, nil
}

// SplitName returns the account domain that holds name: the longest domain of
// account equal to name or a parent of it, so that for "_acme-challenge.
// www.example.co.uk" and an account with example.co.uk the answer is
// {Domain: "example", Tld: "co.uk"}. ok is false when no domain holds name.
func SplitName(name string, account []Domain) (d Domain, ok bool) {
	n := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
	for _, a := range account {
		if (n == a.Name || strings.HasSuffix(n, "."+a.Name)) && len(a.Name) > len(d.Name) {
			d, ok = a, true
		}
	}
	return d, ok
}

// StatusError is an answer whose status is not "success".
type StatusError struct {
	Action string // the a= value
	Domain string // the domain the call was about; "" for a=list
	Status string // the status as answered, e.g. "not-found-domain"
	HTTP   int    // the HTTP status of the answer
	Body   string // the answer, shortened, credentials removed
}

func (e *StatusError) Error() string {
	s := "a=" + e.Action
	if e.Domain != "" {
		s += " " + e.Domain
	}
	if e.Status == "" {
		return s + ": the answer has no status: " + e.Body
	}
	return fmt.Sprintf("%s: status %q: %s", s, e.Status, e.Body)
}

// authError is a refusal of the credentials; its text explains the IP
// binding.
type authError struct {
	cause      error
	ipv4Forced bool
}

func (e *authError) Error() string {
	how := "this client connects over IPv4 only"
	if !e.ipv4Forced {
		how = "this client uses a caller-supplied HTTP transport, which must connect over IPv4 (dial \"tcp4\")"
	}
	return e.cause.Error() + ": Xynta refused the uid and hash. The hash is bound to one whitelisted IP address, " +
		"and Xynta whitelists IPv4 addresses only; " + how + ". Check that this host's public IPv4 address is the one " +
		"whitelisted for this hash (Mijn Xynta: ACCOUNT > API > API Settings), that uid and hash belong together, " +
		"and that the account has API access enabled and an active service"
}

func (e *authError) Unwrap() []error { return []error{ErrNotAuthorized, e.cause} }

// do sends one action and returns the results of element "0" when its status
// is "success".
func (c *Client) do(ctx context.Context, action string, fields url.Values) (json.RawMessage, error) {
	form := url.Values{
		"uid":  {c.uid},
		"hash": {c.hash},
		"m":    {"domains"},
		"a":    {action},
		"t":    {""},
		"test": {""},
	}
	for k, v := range fields {
		form[k] = v
	}
	domain := fields.Get("Domain")
	if domain != "" {
		domain += "." + fields.Get("Tld")
	}
	// Reads change nothing, and an edit replaces the whole zone, so a retry
	// after a transport error cannot apply anything twice.
	//
	// [UNKNOWN] whether errors come as HTTP 200 with an error status or with
	// another HTTP status: both are read, and a refusal of the credentials is
	// recognised in either (status "not-authorized", HTTP 401 or 403).
	resp, err := c.api.Do(ctx, api.Request{Method: http.MethodPost, Path: c.path, Form: form, Idempotent: true})
	if err != nil {
		var ae *api.Error
		if errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden || notAuthorized(ae.Message)) {
			return nil, &authError{cause: fmt.Errorf("a=%s: %w", action, err), ipv4Forced: c.ipv4Forced}
		}
		return nil, fmt.Errorf("a=%s: %w", action, err)
	}
	status, results, ok := envelope(resp.Body)
	if !ok || !strings.EqualFold(strings.TrimSpace(status), StatusSuccess) {
		e := &StatusError{Action: action, Domain: domain, Status: redact.String(status, c.uid, c.hash), HTTP: resp.Status, Body: c.snippet(resp.Body)}
		if !ok {
			e.Status = ""
		}
		if notAuthorized(status) {
			return nil, &authError{cause: e, ipv4Forced: c.ipv4Forced}
		}
		return nil, e
	}
	return results, nil
}

// envelope reads {"0": {"status": …, "results": …}} [CONFIRMED-CLIENT].
// [UNKNOWN] tolerated: a top-level array (how PHP encodes a list) instead of
// the object, and a status that is not a string. ok is false when there is
// no status at all.
func envelope(body []byte) (status string, results json.RawMessage, ok bool) {
	var el json.RawMessage
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) == nil {
		el = top["0"]
	} else {
		var list []json.RawMessage
		if json.Unmarshal(body, &list) == nil && len(list) > 0 {
			el = list[0]
		}
	}
	var env struct {
		Status  json.RawMessage `json:"status"`
		Results json.RawMessage `json:"results"`
	}
	if len(el) == 0 || json.Unmarshal(el, &env) != nil || len(env.Status) == 0 || isNull(env.Status) {
		return "", nil, false
	}
	status, err := scalar(env.Status)
	if err != nil {
		status = string(env.Status)
	}
	return status, env.Results, true
}

// message gives the api package the status of a non-2xx answer, if it has one.
func message(_ int, body []byte) string {
	if status, _, ok := envelope(body); ok {
		return fmt.Sprintf("status %q", status)
	}
	return ""
}

// notAuthorized recognises the documented "not-authorized" status and
// [UNKNOWN] spellings close to it.
func notAuthorized(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "not-authori") || strings.Contains(s, "unauthori") || strings.Contains(s, "not authori")
}

// elements returns the elements of a results value: an array's elements, an
// object's values in document order, or nothing for null or absence.
func elements(results json.RawMessage) ([]json.RawMessage, error) {
	if len(bytes.TrimSpace(results)) == 0 || isNull(results) {
		return nil, nil
	}
	var list []json.RawMessage
	if json.Unmarshal(results, &list) == nil {
		return list, nil
	}
	dec := json.NewDecoder(bytes.NewReader(results))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("results is neither a list nor an object: %s", shorten(string(results)))
	}
	var out []json.RawMessage
	for dec.More() {
		if _, err := dec.Token(); err != nil { // the key
			return nil, fmt.Errorf("reading results: %w", err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("reading results: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// listedDomain reads one element of a=list (see Domains).
func listedDomain(el json.RawMessage) (Domain, error) {
	var s string
	if json.Unmarshal(el, &s) == nil {
		return SplitDomain(s)
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(el, &fields) != nil {
		return Domain{}, errors.New("neither a name nor an object")
	}
	get := func(key string) string {
		for k, v := range fields {
			if strings.EqualFold(k, key) {
				if s, err := scalar(v); err == nil {
					return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
				}
			}
		}
		return ""
	}
	if dom, tld := get("domain"), strings.TrimPrefix(get("tld"), "."); dom != "" && tld != "" {
		if dom == tld || strings.HasSuffix(dom, "."+tld) { // Domain already the whole name
			return SplitDomain(dom)
		}
		if strings.Contains(dom, ".") {
			return Domain{}, fmt.Errorf("Domain %q and Tld %q do not make a domain name", dom, tld)
		}
		return Domain{Name: dom + "." + tld, Domain: dom, Tld: tld}, nil
	}
	for _, k := range []string{"domain", "domainname", "domain_name", "name", "fqdn"} {
		if v := get(k); strings.Contains(v, ".") {
			return SplitDomain(v)
		}
	}
	return Domain{}, errors.New("no domain name in it")
}

func zoneFields(d Domain) url.Values {
	return url.Values{"Domain": {d.Domain}, "Tld": {d.Tld}}
}

// scalar returns a JSON string's text or a number's literal; "" for absent
// or null.
func scalar(v json.RawMessage) (string, error) {
	if len(v) == 0 || isNull(v) {
		return "", nil
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("%s is neither a string nor a number", shorten(string(v)))
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// snippet shortens an answer for an error text and removes the credentials.
func (c *Client) snippet(b []byte) string {
	return shorten(redact.String(string(b), c.uid, c.hash))
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	return s
}
