package hostuptest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/hostup/hostuptest"
)

const testKey = "fake-test-key-3b9c1d"

func ptr(n int) *int { return &n }

func newFake(t *testing.T) (*hostuptest.Server, string) {
	t.Helper()
	s := hostuptest.NewServer()
	t.Cleanup(s.Close)
	s.AddKey(testKey)
	s.SetPendingFor(0)
	zid := s.AddZone("example.com",
		hostuptest.Record{Type: "A", Name: "@", Value: "192.0.2.1", TTL: 3600},
		hostuptest.Record{Type: "MX", Name: "@", Value: "mail.example.com.", TTL: 3600, Priority: ptr(10)},
		hostuptest.Record{Type: "CNAME", Name: "www", Value: "example.com", TTL: 3600},
		hostuptest.Record{Type: "TXT", Name: "_dmarc.example.com", Value: "v=DMARC1; p=none", TTL: 3600},
	)
	return s, zid
}

type req struct {
	method string
	path   string // relative to Server.URL
	auth   string // Authorization header; "-" sends none
	ctype  string
	body   string
}

func get(path string) req { return req{method: http.MethodGet, path: path} }

func post(path, body string) req {
	return req{method: http.MethodPost, path: path, ctype: "application/json", body: body}
}

func del(path string) req { return req{method: http.MethodDelete, path: path} }

func do(t *testing.T, s *hostuptest.Server, r req) (*http.Response, []byte) {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, s.URL+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	switch r.auth {
	case "":
		hr.Header.Set("Authorization", "Bearer "+testKey)
	case "-":
	default:
		hr.Header.Set("Authorization", r.auth)
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

type problem struct {
	Type, Title, Detail, Code, Instance, RequestID, Timestamp string
	Status                                                    int
	Errors                                                    []struct{ Pointer, Detail, Code string }
}

// mustProblem checks an RFC 7807 answer and returns it.
func mustProblem(t *testing.T, resp *http.Response, body []byte, status int, code string) problem {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	var p problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	if p.Code != code || p.Status != status || p.Type != "https://developer.hostup.se/errors/"+code ||
		!regexp.MustCompile(`^req_[0-9a-z]{26}$`).MatchString(p.RequestID) ||
		!regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(p.Timestamp) || p.Instance == "" || p.Title == "" {
		t.Errorf("problem %s, want code %s", body, code)
	}
	return p
}

// shape reduces JSON to its keys and value kinds (first array element only;
// null matches anything), to compare the fake's answers with the documented
// examples in testdata.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = shape(e)
		}
		return out
	case []any:
		if len(x) == 0 {
			return []any{}
		}
		return []any{shape(x[0])}
	case nil:
		return nil
	}
	return fmt.Sprintf("%T", v)
}

func sameShape(a, b any) bool {
	if a == nil || b == nil {
		return true
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if _, ok := y[k]; !ok || !sameShape(x[k], y[k]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		return ok && (len(x) == 0 || len(y) == 0 || sameShape(x[0], y[0]))
	}
	return reflect.DeepEqual(a, b)
}

func checkShape(t *testing.T, got []byte, fixture string) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join("testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if json.Unmarshal(got, &g) != nil || json.Unmarshal(want, &w) != nil {
		t.Fatalf("bad JSON: %s", got)
	}
	if !sameShape(shape(g), shape(w)) {
		t.Errorf("answer %s\ndoes not have the documented shape of %s:\n%s", got, fixture, want)
	}
}

func TestDocumentedShapes(t *testing.T) {
	s, zid := newFake(t)
	tests := []struct {
		r       req
		status  int
		fixture string
	}{
		{get("dns-zones?name=example.com"), 200, "zones.json"},
		{get("dns-zones/" + zid + "?type=TXT"), 200, "zone.json"},
		{get("dns-zones/" + zid + "/records?type=TXT"), 200, "records.json"},
		{post("dns-zones/"+zid+"/records", `{"type":"TXT","name":"_acme-challenge","value":"ADw2sEd82DUgXcQ9hNBZThJs7zVJkR5v9JeSbAb9mZY","ttl":120}`), 201, "record_create.json"},
		{post("dns-zones/"+zid+"/records", `{"type":"TXT"}`), 400, "error.json"},
	}
	for _, tt := range tests {
		resp, body := do(t, s, tt.r)
		if resp.StatusCode != tt.status {
			t.Fatalf("%s %s: %d %s", tt.r.method, tt.r.path, resp.StatusCode, body)
		}
		checkShape(t, body, tt.fixture)
	}
	s.FailNext(1, hostuptest.FaultRateLimit)
	_, body := do(t, s, get("dns-zones"))
	checkShape(t, body, "error-rate-limited.json")
}

func TestAuthAndScopes(t *testing.T) {
	s, zid := newFake(t)
	s.AddKeyWithScopes("read-only", "read:dns")
	s.AddKeyWithScopes("no-scopes")
	tests := []struct {
		name   string
		r      req
		status int
		code   string
	}{
		{"no header", req{method: "GET", path: "dns-zones", auth: "-"}, 401, "unauthorized"},
		{"unknown key", req{method: "GET", path: "dns-zones", auth: "Bearer nope"}, 401, "unauthorized"},
		{"legacy X-API-Key is not accepted on v2", req{method: "GET", path: "dns-zones", auth: "X-API-Key " + testKey}, 401, "unauthorized"},
		{"other scheme", req{method: "GET", path: "dns-zones", auth: "Basic " + testKey}, 401, "unauthorized"},
		{"bad key on an unknown path is still 401", req{method: "GET", path: "nope", auth: "Bearer nope"}, 401, "unauthorized"},
		{"list zones needs read:domains too", req{method: "GET", path: "dns-zones", auth: "Bearer read-only"}, 403, "forbidden"},
		{"records need read:dns", req{method: "GET", path: "dns-zones/" + zid + "/records", auth: "Bearer no-scopes"}, 403, "forbidden"},
		{"create needs write:dns", req{method: "POST", path: "dns-zones/" + zid + "/records", auth: "Bearer read-only", ctype: "application/json", body: `{}`}, 403, "forbidden"},
		{"delete needs write:dns", req{method: "DELETE", path: "dns-zones/" + zid + "/records/drr_x", auth: "Bearer read-only"}, 403, "forbidden"},
		{"read-only key reads records", req{method: "GET", path: "dns-zones/" + zid + "/records", auth: "Bearer read-only"}, 200, ""},
		{"full key lists zones", req{method: "GET", path: "dns-zones"}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, s, tt.r)
			if tt.code == "" {
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				return
			}
			p := mustProblem(t, resp, body, tt.status, tt.code)
			if tt.status == 401 && p.Detail != "Authentication required." {
				t.Errorf("detail %q", p.Detail)
			}
			if tt.status == 403 && !strings.Contains(p.Detail, ":dns") && !strings.Contains(p.Detail, ":domains") {
				t.Errorf("403 detail %q names no scope", p.Detail)
			}
		})
	}
	if n := len(s.Records("example.com")); n != 4 {
		t.Errorf("%d records: a refused request changed the zone", n)
	}
}

func TestListZones(t *testing.T) {
	s, zid := newFake(t)
	for i := range 25 {
		s.AddZone(fmt.Sprintf("z%02d.example", i))
	}
	type page struct {
		Data []struct {
			ID, Name, ZoneStatus, Kind string
			RecordCount                int
		}
		HasMore    bool
		NextCursor *string
	}
	list := func(query string) (page, *http.Response, []byte) {
		resp, body := do(t, s, get("dns-zones"+query))
		var p page
		json.Unmarshal(body, &p)
		return p, resp, body
	}
	p, _, _ := list("?name=example.com")
	if len(p.Data) != 1 || p.Data[0].ID != zid || p.Data[0].RecordCount != 4 || p.Data[0].ZoneStatus != "active" || p.HasMore || p.NextCursor != nil {
		t.Errorf("by name: %+v", p)
	}
	for _, q := range []string{"?name=EXAMPLE.COM", "?name=example.com.", "?name=www.example.com", "?name=example"} {
		if p, _, _ := list(q); len(p.Data) != 0 {
			t.Errorf("%s matched %+v: names match exactly", q, p.Data)
		}
	}
	// Default page size 20, then the cursor.
	p, _, _ = list("")
	if len(p.Data) != 20 || !p.HasMore || p.NextCursor == nil {
		t.Fatalf("first page: %d zones, hasMore %v", len(p.Data), p.HasMore)
	}
	p2, _, _ := list("?cursor=" + *p.NextCursor)
	if len(p2.Data) != 6 || p2.HasMore || p2.NextCursor != nil || p2.Data[5].Name != "z24.example" {
		t.Fatalf("second page: %+v", p2)
	}
	p, _, _ = list("?limit=1000")
	if len(p.Data) != 26 || p.HasMore {
		t.Errorf("limit 1000: %d zones", len(p.Data))
	}
	for _, q := range []string{"?limit=0", "?limit=1001", "?limit=x", "?cursor=bogus", "?cursor=cur_!!"} {
		_, resp, body := list(q)
		pr := mustProblem(t, resp, body, 400, "invalid_request")
		if len(pr.Errors) != 1 || pr.Errors[0].Pointer == "" {
			t.Errorf("%s: errors %+v", q, pr.Errors)
		}
	}
}

func TestRecordsAndFilters(t *testing.T) {
	s, zid := newFake(t)
	type answer struct {
		Zone    map[string]any
		Records []struct {
			ID, Type, Name, Value, Status string
			TTL                           int
			Priority, Weight, Port        *int
		}
	}
	tests := []struct {
		query string
		want  []string // "type name value"
	}{
		{"", []string{"A example.com 192.0.2.1", "MX example.com mail.example.com", "CNAME www.example.com example.com", "TXT _dmarc.example.com v=DMARC1; p=none"}},
		{"?type=mx", []string{"MX example.com mail.example.com"}},
		{"?name=@", []string{"A example.com 192.0.2.1", "MX example.com mail.example.com"}},
		{"?name=www", []string{"CNAME www.example.com example.com"}},
		{"?name=WWW.example.com.", []string{"CNAME www.example.com example.com"}},
		{"?type=TXT&name=_dmarc", []string{"TXT _dmarc.example.com v=DMARC1; p=none"}},
		{"?type=SPF&name=_dmarc", []string{"TXT _dmarc.example.com v=DMARC1; p=none"}},
		{"?type=A&name=www", nil},
	}
	for _, alias := range []string{"", "/records"} {
		for _, tt := range tests {
			resp, body := do(t, s, get("dns-zones/"+zid+alias+tt.query))
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%s: %d %s", tt.query, resp.StatusCode, body)
			}
			var a answer
			json.Unmarshal(body, &a)
			var got []string
			for _, r := range a.Records {
				got = append(got, r.Type+" "+r.Name+" "+r.Value)
				if !strings.HasPrefix(r.ID, "drr_") || r.Status != "active" {
					t.Errorf("record %+v", r)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s%s: %q, want %q", alias, tt.query, got, tt.want)
			}
			if a.Zone["id"] != zid || a.Zone["name"] != "example.com" {
				t.Errorf("zone %v", a.Zone)
			}
		}
	}
	resp, body := do(t, s, get("dns-zones/"+zid+"/records?type=PTR"))
	mustProblem(t, resp, body, 400, "invalid_request")
	resp, body = do(t, s, get("dns-zones/zone_nope/records"))
	mustProblem(t, resp, body, 404, "not_found")
}

func TestCreate(t *testing.T) {
	s, zid := newFake(t)
	path := "dns-zones/" + zid + "/records"
	resp, body := do(t, s, post(path, `{"type":"TXT","name":"_acme-challenge","value":"token","ttl":120}`))
	if resp.StatusCode != 201 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var rec map[string]any
	json.Unmarshal(body, &rec)
	if !regexp.MustCompile(`^drr_[0-9a-z]{26}$`).MatchString(rec["id"].(string)) || rec["name"] != "_acme-challenge.example.com" ||
		rec["value"] != "token" || rec["ttl"] != 120.0 || rec["status"] != "pending" || rec["priority"] != nil {
		t.Errorf("created %s", body)
	}
	// Seen as pending by a read right away when records take a while.
	s.SetPendingFor(time.Hour)
	do(t, s, post(path, `{"type":"TXT","name":"_acme-challenge","value":"second"}`))
	recs := s.Records("example.com")
	if last := recs[len(recs)-1]; last.Status != "pending" || last.TTL != 3600 {
		t.Errorf("second record %+v: want pending with the default TTL 3600", last)
	}
	if rrs := s.Zones()["example.com."]; slices.ContainsFunc(rrs, func(rr libdns.RR) bool { return rr.Data == "second" }) {
		t.Errorf("a pending record is served by DNS")
	}
	if rrs := s.Zones()["example.com."]; !slices.ContainsFunc(rrs, func(rr libdns.RR) bool { return rr.Data == "token" }) {
		t.Errorf("an active record is not served by DNS")
	}
}

func TestCreateValidation(t *testing.T) {
	tests := []struct {
		name    string
		r       req
		pointer string
		status  int
	}{
		{"wrong content type", req{method: "POST", ctype: "text/plain", body: `{"type":"TXT","name":"a","value":"v"}`}, "", 400},
		{"no body", req{method: "POST", ctype: "application/json"}, "", 400},
		{"wrapped in data", post("", `{"data":{"type":"TXT","name":"a","value":"v"}}`), "", 400},
		{"unknown field", post("", `{"type":"TXT","name":"a","value":"v","proxied":true}`), "", 400},
		{"trailing data", post("", `{"type":"TXT","name":"a","value":"v"} {}`), "", 400},
		{"missing value", post("", `{"type":"TXT","name":"a"}`), "", 400},
		{"unknown type", post("", `{"type":"PTR","name":"a","value":"v"}`), "/type", 400},
		{"ttl too low", post("", `{"type":"TXT","name":"a","value":"v","ttl":59}`), "/ttl", 400},
		{"ttl too high", post("", `{"type":"TXT","name":"a","value":"v","ttl":86401}`), "/ttl", 400},
		{"ttl as a string", post("", `{"type":"TXT","name":"a","value":"v","ttl":"120"}`), "/ttl", 400},
		{"full name", post("", `{"type":"TXT","name":"a.example.com","value":"v"}`), "/name", 400},
		{"dotted name", post("", `{"type":"TXT","name":"a.example.com.","value":"v"}`), "/name", 400},
		{"bad label", post("", `{"type":"TXT","name":"a b","value":"v"}`), "/name", 400},
		{"invalid A", post("", `{"type":"A","name":"a","value":"2001:db8::1"}`), "/value", 400},
		{"invalid AAAA", post("", `{"type":"AAAA","name":"a","value":"192.0.2.1"}`), "/value", 400},
		{"IP as CNAME target", post("", `{"type":"CNAME","name":"a","value":"192.0.2.1"}`), "/value", 400},
		{"IP as MX target", post("", `{"type":"MX","name":"a","value":"192.0.2.1","priority":5}`), "/value", 400},
		{"dotted target", post("", `{"type":"CNAME","name":"a","value":"example.net."}`), "/value", 400},
		{"CNAME at the root", post("", `{"type":"CNAME","name":"@","value":"example.net"}`), "/name", 400},
		{"CNAME next to other records", post("", `{"type":"CNAME","name":"_dmarc","value":"example.net"}`), "/name", 400},
		{"record next to a CNAME", post("", `{"type":"TXT","name":"www","value":"v"}`), "/name", 400},
		{"root NS", post("", `{"type":"NS","name":"@","value":"ns1.example.net"}`), "/name", 400},
		{"MX without priority", post("", `{"type":"MX","name":"a","value":"mx.example.com"}`), "/priority", 400},
		{"duplicate MX priority", post("", `{"type":"MX","name":"@","value":"mx2.example.com","priority":10}`), "/priority", 400},
		{"SRV without port", post("", `{"type":"SRV","name":"_sip._tcp","value":"sip.example.com","priority":1,"weight":1}`), "/priority", 400},
		{"priority on TXT", post("", `{"type":"TXT","name":"a","value":"v","priority":1}`), "/priority", 400},
		{"priority out of range", post("", `{"type":"MX","name":"a","value":"mx.example.com","priority":65536}`), "/priority", 400},
		{"mismatched TXT quotes", post("", `{"type":"TXT","name":"a","value":"say \"hi"}`), "/value", 400},
		{"CAA without quotes", post("", `{"type":"CAA","name":"@","value":"0 issue letsencrypt.org"}`), "/value", 400},
		{"CAA flags out of range", post("", `{"type":"CAA","name":"@","value":"256 issue \"letsencrypt.org\""}`), "/value", 400},
		{"TLSA malformed", post("", `{"type":"TLSA","name":"_443._tcp","value":"3 1 1 xyz"}`), "/value", 400},
		{"exact duplicate", post("", `{"type":"TXT","name":"_dmarc","value":"v=DMARC1; p=none","ttl":60}`), "/value", 400},
		{"exact duplicate, name and target in other case", post("", `{"type":"CNAME","name":"WWW","value":"Example.com"}`), "/value", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, zid := newFake(t)
			tt.r.path = "dns-zones/" + zid + "/records"
			resp, body := do(t, s, tt.r)
			p := mustProblem(t, resp, body, tt.status, "invalid_request")
			if len(p.Errors) != 1 || p.Errors[0].Pointer != tt.pointer || p.Errors[0].Code != "invalid_request" {
				t.Errorf("errors %+v, want pointer %q", p.Errors, tt.pointer)
			}
			if n := len(s.Records("example.com")); n != 4 {
				t.Errorf("%d records: the refused create was stored", n)
			}
		})
	}
}

func TestCreateAccepts(t *testing.T) {
	tests := []struct {
		body string
		want hostuptest.Record // ID and Status ignored
	}{
		{`{"type":"TXT","name":"@","value":"v=spf1 -all"}`, hostuptest.Record{Type: "TXT", Name: "example.com", Value: "v=spf1 -all", TTL: 3600}},
		{`{"type":"TXT","name":"","value":"empty name is the root"}`, hostuptest.Record{Type: "TXT", Name: "example.com", Value: "empty name is the root", TTL: 3600}},
		{`{"type":"spf","name":"mail","value":"v=spf1 mx -all","ttl":60}`, hostuptest.Record{Type: "TXT", Name: "mail.example.com", Value: "v=spf1 mx -all", TTL: 60}},
		{`{"type":"TXT","name":"q","value":"rua=mailto:\"x\"@example.com \\\"ok"}`, hostuptest.Record{Type: "TXT", Name: "q.example.com", Value: `rua=mailto:"x"@example.com \"ok`, TTL: 3600}},
		{`{"type":"TXT","name":"_dmarc","value":"v=DMARC1; p=reject"}`, hostuptest.Record{Type: "TXT", Name: "_dmarc.example.com", Value: "v=DMARC1; p=reject", TTL: 3600}},
		{`{"type":"MX","name":"@","value":"mx2.example.com","ttl":300,"priority":20}`, hostuptest.Record{Type: "MX", Name: "example.com", Value: "mx2.example.com", TTL: 300, Priority: ptr(20)}},
		{`{"type":"SRV","name":"_sip._tcp","value":"sip.example.com","priority":10,"weight":60,"port":5060,"ttl":300}`, hostuptest.Record{Type: "SRV", Name: "_sip._tcp.example.com", Value: "sip.example.com", TTL: 300, Priority: ptr(10), Weight: ptr(60), Port: ptr(5060)}},
		{`{"type":"CAA","name":"@","value":"128 issue \"letsencrypt.org\""}`, hostuptest.Record{Type: "CAA", Name: "example.com", Value: `128 issue "letsencrypt.org"`, TTL: 3600}},
		{`{"type":"NS","name":"sub","value":"ns1.example.net"}`, hostuptest.Record{Type: "NS", Name: "sub.example.com", Value: "ns1.example.net", TTL: 3600}},
		{`{"type":"ALIAS","name":"@","value":"lb.example.net"}`, hostuptest.Record{Type: "ALIAS", Name: "example.com", Value: "lb.example.net", TTL: 3600}},
		{`{"type":"A","name":"*.dev","value":"192.0.2.7","priority":null}`, hostuptest.Record{Type: "A", Name: "*.dev.example.com", Value: "192.0.2.7", TTL: 3600}},
		{`{"type":"TLSA","name":"_443._tcp","value":"3 1 1 0123abcd"}`, hostuptest.Record{Type: "TLSA", Name: "_443._tcp.example.com", Value: "3 1 1 0123abcd", TTL: 3600}},
	}
	for _, tt := range tests {
		s, zid := newFake(t)
		resp, body := do(t, s, post("dns-zones/"+zid+"/records", tt.body))
		if resp.StatusCode != 201 {
			t.Errorf("%s: %d %s", tt.body, resp.StatusCode, body)
			continue
		}
		recs := s.Records("example.com")
		got := recs[len(recs)-1]
		got.ID, got.Status = "", ""
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s stored as %+v, want %+v", tt.body, got, tt.want)
		}
	}
}

func TestRecordLimit(t *testing.T) {
	s, zid := newFake(t)
	path := "dns-zones/" + zid + "/records"
	for i := 4; i < hostuptest.DefaultRecordLimit; i++ {
		if resp, body := do(t, s, post(path, fmt.Sprintf(`{"type":"TXT","name":"r%d","value":"v"}`, i))); resp.StatusCode != 201 {
			t.Fatalf("record %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := do(t, s, post(path, `{"type":"TXT","name":"one-too-many","value":"v"}`))
	if p := mustProblem(t, resp, body, 400, "invalid_request"); !strings.Contains(p.Errors[0].Detail, "200 customer-managed records") {
		t.Errorf("detail %q", p.Errors[0].Detail)
	}
	// NS records do not count against the limit.
	if resp, body := do(t, s, post(path, `{"type":"NS","name":"sub","value":"ns1.example.net"}`)); resp.StatusCode != 201 {
		t.Errorf("NS at the limit: %d %s", resp.StatusCode, body)
	}
	var a struct{ Zone map[string]any }
	_, body = do(t, s, get(path))
	json.Unmarshal(body, &a)
	if a.Zone["recordCount"] != 200.0 || a.Zone["totalRecordCount"] != 201.0 || a.Zone["liveRecordLimit"] != 200.0 || a.Zone["exceedsLiveRecordLimit"] != false {
		t.Errorf("zone %v", a.Zone)
	}
}

func TestDuplicateStatus(t *testing.T) {
	s, zid := newFake(t)
	s.SetDuplicateStatus(http.StatusConflict)
	resp, body := do(t, s, post("dns-zones/"+zid+"/records", `{"type":"A","name":"@","value":"192.0.2.1"}`))
	mustProblem(t, resp, body, 409, "conflict")
}

func TestDelete(t *testing.T) {
	s, zid := newFake(t)
	id := s.Records("example.com")[2].ID
	resp, body := do(t, s, del("dns-zones/"+zid+"/records/"+id))
	if resp.StatusCode != 204 || len(body) != 0 {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	recs := s.Records("example.com")
	if len(recs) != 3 || slices.ContainsFunc(recs, func(r hostuptest.Record) bool { return r.ID == id }) {
		t.Fatalf("after delete: %+v", recs)
	}
	resp, body = do(t, s, del("dns-zones/"+zid+"/records/"+id))
	mustProblem(t, resp, body, 404, "not_found")
	resp, body = do(t, s, del("dns-zones/zone_nope/records/"+recs[0].ID))
	mustProblem(t, resp, body, 404, "not_found")
}

func TestNumericIDsAndQuotedTXT(t *testing.T) {
	s, zid := newFake(t)
	s.SetNumericIDs(true)
	s.SetQuoteTXT(true)
	long := strings.Repeat("x", 300)
	_, body := do(t, s, post("dns-zones/"+zid+"/records", `{"type":"TXT","name":"long","value":"`+long+`"}`))
	var rec struct {
		ID    json.Number
		Value string
	}
	if err := json.Unmarshal(body, &rec); err != nil {
		t.Fatal(err)
	}
	if _, err := strconv.Atoi(rec.ID.String()); err != nil || !strings.Contains(string(body), `"id":`+rec.ID.String()+`,`) {
		t.Errorf("id %s is not a JSON number: %s", rec.ID, body)
	}
	if want := `"` + long[:255] + `" "` + long[255:] + `"`; rec.Value != want {
		t.Errorf("value %q, want %q", rec.Value, want)
	}
	resp, _ := do(t, s, del("dns-zones/"+zid+"/records/"+rec.ID.String()))
	if resp.StatusCode != 204 {
		t.Errorf("delete by numeric id: %d", resp.StatusCode)
	}
}

func TestMethodsAndPaths(t *testing.T) {
	s, zid := newFake(t)
	tests := []struct {
		r      req
		status int
		code   string
	}{
		{req{method: "PUT", path: "dns-zones"}, 405, "method_not_allowed"},
		{req{method: "DELETE", path: "dns-zones/" + zid}, 405, "method_not_allowed"},
		{req{method: "PATCH", path: "dns-zones/" + zid + "/records/drr_x"}, 405, "method_not_allowed"},
		{get("dns-zones/"), 404, "not_found"},
		{get("dns-zones/" + zid + "/records/"), 404, "not_found"},
		{get("domains"), 404, "not_found"},
		{get("../dns/zones"), 404, "not_found"},
	}
	for _, tt := range tests {
		resp, body := do(t, s, tt.r)
		mustProblem(t, resp, body, tt.status, tt.code)
	}
	if n := s.Count(hostuptest.EndpointOther); n != len(tests) {
		t.Errorf("%d requests counted as other, want %d", n, len(tests))
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		fault  hostuptest.Fault
		status int // 0: connection closed
		code   string
		stored bool // the create took effect
	}{
		{hostuptest.FaultRateLimit, 429, "rate_limited", false},
		{hostuptest.FaultServerError, 500, "internal_error", false},
		{hostuptest.FaultBadGateway, 502, "", false},
		{hostuptest.FaultDropConnection, 0, "", false},
		{hostuptest.FaultDropResponse, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			s, zid := newFake(t)
			s.FailNext(1, tt.fault)
			r := post("dns-zones/"+zid+"/records", `{"type":"TXT","name":"f","value":"v"}`)
			hr, _ := http.NewRequest(r.method, s.URL+r.path, strings.NewReader(r.body))
			hr.Header.Set("Authorization", "Bearer "+testKey)
			hr.Header.Set("Content-Type", r.ctype)
			resp, err := http.DefaultClient.Do(hr)
			if tt.status == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got an answer (%d), want a closed connection", resp.StatusCode)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if tt.code != "" {
					mustProblem(t, resp, body, tt.status, tt.code)
				} else if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
					t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
				}
			}
			if got := len(s.Records("example.com")) == 5; got != tt.stored {
				t.Errorf("stored = %v, want %v", got, tt.stored)
			}
			if n := s.CountStatus(tt.status); n != 1 {
				t.Errorf("CountStatus(%d) = %d", tt.status, n)
			}
			// The next request is handled normally.
			if resp, body := do(t, s, get("dns-zones")); resp.StatusCode != 200 {
				t.Errorf("after the fault: %d %s", resp.StatusCode, body)
			}
		})
	}
}

func TestRateLimitHeaders(t *testing.T) {
	s, _ := newFake(t)
	s.FailNext(1, hostuptest.FaultRateLimit)
	resp, body := do(t, s, get("dns-zones"))
	mustProblem(t, resp, body, 429, "rate_limited")
	checkRateHeaders(t, resp.Header, "1", "60", "0")

	s.SetRateLimit(2, 2*time.Second)
	for i, want := range []string{"1", "0"} {
		resp, _ := do(t, s, get("dns-zones"))
		if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Remaining") != want || resp.Header.Get("Retry-After") != "" {
			t.Errorf("request %d: %d remaining %q", i, resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
		}
	}
	resp, body = do(t, s, get("dns-zones"))
	p := mustProblem(t, resp, body, 429, "rate_limited")
	if p.Detail != "Rate limit exceeded. Please try again later." {
		t.Errorf("detail %q", p.Detail)
	}
	checkRateHeaders(t, resp.Header, "2", "2", "0")
	s.SetRateLimit(0, 0)
	if resp, _ := do(t, s, get("dns-zones")); resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Limit") != "" {
		t.Errorf("limit off: %d %v", resp.StatusCode, resp.Header)
	}
}

func checkRateHeaders(t *testing.T, h http.Header, retryAfter, limit, remaining string) {
	t.Helper()
	if h.Get("Retry-After") != retryAfter || h.Get("X-RateLimit-Limit") != limit || h.Get("X-RateLimit-Remaining") != remaining {
		t.Errorf("headers %v", h)
	}
	reset, err := time.Parse(time.RFC3339Nano, h.Get("X-RateLimit-Reset"))
	if err != nil || !strings.HasSuffix(h.Get("X-RateLimit-Reset"), "Z") {
		t.Fatalf("X-RateLimit-Reset %q is not an ISO time: %v", h.Get("X-RateLimit-Reset"), err)
	}
	if d := time.Until(reset); d <= 0 || d > 2*time.Second {
		t.Errorf("X-RateLimit-Reset is %v away", d)
	}
}

func TestCountsAndLatency(t *testing.T) {
	s, zid := newFake(t)
	reqs := []req{
		get("dns-zones"), get("dns-zones"), get("dns-zones/" + zid), get("dns-zones/" + zid + "/records"),
		post("dns-zones/"+zid+"/records", `{"type":"TXT","name":"c","value":"v"}`),
		del("dns-zones/" + zid + "/records/drr_nope"), get("nope"),
		{method: "GET", path: "dns-zones", auth: "-"},
	}
	for _, r := range reqs {
		do(t, s, r)
	}
	want := map[string]int{
		hostuptest.EndpointListZones: 3, hostuptest.EndpointGetZone: 1, hostuptest.EndpointListRecords: 1,
		hostuptest.EndpointCreateRecord: 1, hostuptest.EndpointDeleteRecord: 1, hostuptest.EndpointOther: 1,
	}
	if got := s.Requests(); !reflect.DeepEqual(got, want) {
		t.Errorf("Requests() = %v, want %v", got, want)
	}
	if s.CountStatus(200) != 4 || s.CountStatus(201) != 1 || s.CountStatus(404) != 2 || s.CountStatus(401) != 1 {
		t.Errorf("statuses 200:%d 201:%d 404:%d 401:%d", s.CountStatus(200), s.CountStatus(201), s.CountStatus(404), s.CountStatus(401))
	}
	s.ResetCounts()
	if len(s.Requests()) != 0 || s.CountStatus(200) != 0 {
		t.Errorf("not reset")
	}

	// With an hour of latency no answer comes before the client gives
	// up, and the client that gives up is not kept waiting (the test
	// would hang): nothing is timed.
	s.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	hr, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"dns-zones", nil)
	if resp, err := http.DefaultClient.Do(hr); err == nil {
		resp.Body.Close()
		t.Errorf("answered (HTTP %d) despite the latency", resp.StatusCode)
	}
}

func TestConcurrentCreates(t *testing.T) {
	s, zid := newFake(t)
	s.SetLatency(5 * time.Millisecond)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			// Every value twice: exactly one of each pair is stored.
			do(t, s, post("dns-zones/"+zid+"/records", fmt.Sprintf(`{"type":"TXT","name":"_acme-challenge","value":"v%d"}`, i/2)))
		})
	}
	wg.Wait()
	var values []string
	for _, r := range s.Records("example.com") {
		if r.Name == "_acme-challenge.example.com" {
			values = append(values, r.Value)
		}
	}
	sort.Strings(values)
	if len(values) != 20 || len(slices.Compact(values)) != 20 {
		t.Errorf("stored %d values: %v", len(values), values)
	}
	if s.CountStatus(201) != 20 || s.CountStatus(400) != 20 {
		t.Errorf("201: %d, 400: %d", s.CountStatus(201), s.CountStatus(400))
	}
}

func TestConversions(t *testing.T) {
	tests := []struct {
		rr  libdns.RR
		rec hostuptest.Record
	}{
		{libdns.RR{Name: "@", Type: "A", TTL: time.Hour, Data: "192.0.2.1"}, hostuptest.Record{Type: "A", Name: "@", Value: "192.0.2.1", TTL: 3600}},
		{libdns.RR{Name: "www", Type: "CNAME", TTL: time.Minute, Data: "example.com."}, hostuptest.Record{Type: "CNAME", Name: "www", Value: "example.com", TTL: 60}},
		{libdns.RR{Name: "@", Type: "MX", TTL: time.Hour, Data: "10 mail.example.com."}, hostuptest.Record{Type: "MX", Name: "@", Value: "mail.example.com", TTL: 3600, Priority: ptr(10)}},
		{libdns.RR{Name: "_sip._tcp", Type: "SRV", TTL: time.Hour, Data: "10 60 5060 sip.example.com."}, hostuptest.Record{Type: "SRV", Name: "_sip._tcp", Value: "sip.example.com", TTL: 3600, Priority: ptr(10), Weight: ptr(60), Port: ptr(5060)}},
		{libdns.RR{Name: "t", Type: "TXT", TTL: time.Hour, Data: `say "hi" \ there.`}, hostuptest.Record{Type: "TXT", Name: "t", Value: `say "hi" \ there.`, TTL: 3600}},
		{libdns.RR{Name: "@", Type: "CAA", TTL: time.Hour, Data: `0 issue "letsencrypt.org"`}, hostuptest.Record{Type: "CAA", Name: "@", Value: `0 issue "letsencrypt.org"`, TTL: 3600}},
	}
	for _, tt := range tests {
		got, err := hostuptest.RecordFromRR(tt.rr)
		if err != nil || !reflect.DeepEqual(got, tt.rec) {
			t.Errorf("RecordFromRR(%+v) = %+v, %v; want %+v", tt.rr, got, err, tt.rec)
		}
		stored := tt.rec
		stored.Name = strings.TrimSuffix(libdns.AbsoluteName(tt.rec.Name, "example.com."), ".")
		if back := stored.RR("example.com."); back != tt.rr {
			t.Errorf("RR() = %+v, want %+v", back, tt.rr)
		}
	}
	for _, bad := range []libdns.RR{{Name: "@", Type: "MX", Data: "mail.example.com."}, {Name: "s", Type: "SRV", Data: "1 2 x t."}, {Name: "@", Type: "MX", Data: "70000 mx."}} {
		if _, err := hostuptest.RecordFromRR(bad); err == nil {
			t.Errorf("RecordFromRR(%+v) accepted", bad)
		}
	}
}

func TestSetup(t *testing.T) {
	s := hostuptest.NewServer()
	defer s.Close()
	id := s.AddZone("Example.COM.", hostuptest.Record{Type: "txt", Name: "a.example.com.", Value: "v."})
	if !regexp.MustCompile(`^zone_[0-9a-z]{26}$`).MatchString(id) || s.ZoneID("example.com") != id {
		t.Errorf("zone id %q", id)
	}
	if again := s.AddZone("example.com"); again != id || len(s.Records("example.com")) != 0 {
		t.Errorf("re-adding changed the id or kept records")
	}
	s.AddZone("example.com", hostuptest.Record{Type: "TXT", Name: "a", Value: "v.", TTL: 60})
	if r := s.Records("example.com")[0]; r.Name != "a.example.com" || r.Value != "v." || r.Status != "active" {
		t.Errorf("seeded %+v", r)
	}
	if s.Records("example.org") != nil || s.ZoneID("example.org") != "" {
		t.Errorf("unknown zone")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("AddZone accepted a name outside the zone")
			}
		}()
		s.AddZone("example.com", hostuptest.Record{Type: "TXT", Name: "a.example.org.", Value: "v"})
	}()
}
