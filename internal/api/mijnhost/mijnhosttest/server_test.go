package mijnhosttest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
)

const testKey = "test-key"

// legoRecords are the records of lego's get-dns-records.json fixture.
var legoRecords = []mijnhosttest.Record{
	{Type: "A", Name: "example.com.", Value: "135.226.123.12", TTL: 900},
	{Type: "AAAA", Name: "example.com.", Value: "2009:21d0:322:6100::5:c92b", TTL: 900},
	{Type: "MX", Name: "example.com.", Value: "10 mail.example.com.", TTL: 900},
	{Type: "TXT", Name: "example.com.", Value: "v=spf1 include:spf.mijn.host ~all", TTL: 900},
}

// newFake returns a fake with key testKey and domain example.com holding
// legoRecords.
func newFake(t *testing.T) *mijnhosttest.Server {
	t.Helper()
	s := mijnhosttest.NewServer()
	t.Cleanup(s.Close)
	s.AddKey(testKey)
	s.AddDomain("example.com", legoRecords...)
	return s
}

type req struct {
	method      string
	path        string // relative to Server.URL, or absolute from "/" if it starts with "/"
	key         string // "" sends no API-Key header
	contentType string
	body        string
}

// get is a GET with the valid key.
func get(path string) req { return req{method: http.MethodGet, path: path, key: testKey} }

// put is a JSON PUT with the valid key.
func put(path, body string) req {
	return req{method: http.MethodPut, path: path, key: testKey, contentType: "application/json", body: body}
}

// patch is a JSON PATCH with the valid key.
func patch(path, body string) req {
	return req{method: http.MethodPatch, path: path, key: testKey, contentType: "application/json", body: body}
}

func (r req) url(s *mijnhosttest.Server) string {
	if strings.HasPrefix(r.path, "/") {
		return strings.TrimSuffix(s.URL, "/api/v2/") + r.path
	}
	return s.URL + r.path
}

func (r req) build(t *testing.T, s *mijnhosttest.Server) *http.Request {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, r.url(s), body)
	if err != nil {
		t.Fatal(err)
	}
	if r.key != "" {
		hr.Header.Set("API-Key", r.key)
	}
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	}
	hr.Header.Set("Accept", "application/json")
	return hr
}

// do sends r and returns the response (body already read and closed).
func do(t *testing.T, s *mijnhosttest.Server, r req) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r.build(t, s))
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", r.method, r.path, err)
	}
	return resp, body
}

// mustDo is do that also checks the status code and JSON content type.
func mustDo(t *testing.T, s *mijnhosttest.Server, r req, code int) []byte {
	t.Helper()
	resp, body := do(t, s, r)
	if resp.StatusCode != code {
		t.Fatalf("%s %s: status %d, want %d; body %s", r.method, r.path, resp.StatusCode, code, body)
	}
	checkJSONContentType(t, resp)
	return body
}

func checkJSONContentType(t *testing.T, resp *http.Response) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("invalid JSON %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

// checkFixture compares a response body with a JSON fixture in testdata.
func checkFixture(t *testing.T, got []byte, name string) {
	t.Helper()
	if want := fixture(t, name); !sameJSON(t, got, []byte(want)) {
		t.Errorf("body = %s\nwant (testdata/%s) %s", got, name, want)
	}
}

type errorBody struct {
	Status      any    `json:"status"`
	Description string `json:"status_description"`
}

func decodeError(t *testing.T, body []byte) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	return e
}

func TestAuth(t *testing.T) {
	s := newFake(t)
	for _, tc := range []struct {
		name    string
		key     string
		code    int
		fixture string
	}{
		{"missing", "", http.StatusUnauthorized, "error-401.json"},
		{"wrong", "not-a-key", http.StatusUnauthorized, "error-401.json"},
		{"good", testKey, http.StatusOK, "list-domains-one.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []req{
				{method: http.MethodGet, path: "domains", key: tc.key},
				{method: http.MethodGet, path: "domains/example.com/dns", key: tc.key},
				{method: http.MethodPut, path: "domains/example.com/dns", key: tc.key,
					contentType: "application/json", body: `{"records":[]}`},
				{method: http.MethodDelete, path: "domains/example.com/dns", key: tc.key},
				{method: http.MethodGet, path: "nowhere", key: tc.key},
			} {
				resp, body := do(t, s, r)
				checkJSONContentType(t, resp)
				if tc.code == http.StatusOK {
					if resp.StatusCode == http.StatusUnauthorized {
						t.Errorf("%s %s: 401 with a valid key", r.method, r.path)
					}
					continue
				}
				if resp.StatusCode != tc.code {
					t.Errorf("%s %s: status %d, want %d", r.method, r.path, resp.StatusCode, tc.code)
				}
				checkFixture(t, body, tc.fixture)
			}
			if tc.code == http.StatusOK {
				checkFixture(t, mustDo(t, s, get("domains"), http.StatusOK), tc.fixture)
			}
		})
	}
	if !slices.Equal(s.Records("example.com"), legoRecords) {
		t.Errorf("an unauthorised PUT changed the records: %v", s.Records("example.com"))
	}
}

func TestListDomains(t *testing.T) {
	s := newFake(t)
	s.AddDomain("another.example")
	s.AddDomain("EXAMPLE.com.", legoRecords...) // same domain again: keeps id 1000
	for _, path := range []string{"domains", "domains/"} {
		t.Run(path, func(t *testing.T) {
			checkFixture(t, mustDo(t, s, get(path), http.StatusOK), "list-domains.json")
		})
	}
	t.Run("empty", func(t *testing.T) {
		e := mijnhosttest.NewServer()
		defer e.Close()
		e.AddKey(testKey)
		body := mustDo(t, e, get("domains"), http.StatusOK)
		want := `{"status":200,"status_description":"Request successful","data":{"domains":[]}}`
		if !sameJSON(t, body, []byte(want)) {
			t.Errorf("body = %s, want %s", body, want)
		}
	})
}

func TestGetRecords(t *testing.T) {
	s := newFake(t)
	s.AddDomain("sub.other.example")
	for _, path := range []string{
		"domains/example.com/dns",
		"domains/EXAMPLE.Com/dns",
		"domains/example.com/dns?page=1",
	} {
		t.Run(path, func(t *testing.T) {
			checkFixture(t, mustDo(t, s, get(path), http.StatusOK), "get-dns-records.json")
		})
	}
	t.Run("empty zone", func(t *testing.T) {
		body := mustDo(t, s, get("domains/sub.other.example/dns"), http.StatusOK)
		want := `{"status":200,"status_description":"Request successful",
			"data":{"domain":"sub.other.example","records":[]}}`
		if !sameJSON(t, body, []byte(want)) {
			t.Errorf("body = %s, want %s", body, want)
		}
	})
	for _, tc := range []struct{ name, domain string }{
		{"unknown", "example.org"},
		{"sub-domain", "www.example.com"},
		{"parent", "com"},
		{"parent of added sub-domain", "other.example"},
		{"trailing dot", "example.com."},
		{"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := mustDo(t, s, get("domains/"+tc.domain+"/dns"), http.StatusBadRequest)
			checkFixture(t, body, "error-unknown-domain.json")
		})
	}
}

func TestPutReplace(t *testing.T) {
	s := newFake(t)
	body := mustDo(t, s, put("domains/example.com/dns", fixture(t, "put-dns-records-request.json")), http.StatusOK)
	checkFixture(t, body, "update-dns-records.json")
	checkFixture(t, mustDo(t, s, get("domains/example.com/dns"), http.StatusOK), "get-dns-records-after-put.json")

	want := []mijnhosttest.Record{
		{Type: "A", Name: "example.com.", Value: "135.226.123.12", TTL: 900},
		{Type: "A", Name: "www.example.com.", Value: "135.226.123.12", TTL: 3600},
		{Type: "CNAME", Name: "foo.bar.example.com.", Value: "www.example.com.", TTL: 300},
		{Type: "MX", Name: "example.com.", Value: "10 mail.example.com.", TTL: 900},
		{Type: "TXT", Name: "_acme-challenge.example.com.", Value: "token-one", TTL: 120},
		{Type: "TXT", Name: "_acme-challenge.example.com.", Value: "token-two", TTL: 60},
		{Type: "TXT", Name: "_acme-challenge.example.com.", Value: "token-three", TTL: 60},
	}
	if got := s.Records("example.com"); !slices.Equal(got, want) {
		t.Errorf("Records = %v\nwant %v", got, want)
	}

	// lego's exact request body (client_test.go) and ACME-style boundaries.
	for _, tc := range []struct {
		name, body string
		want       mijnhosttest.Record
	}{
		{"lego body", `{"records":[{"type":"TXT","name":"foo","value":"value1","ttl":120}]}`,
			mijnhosttest.Record{Type: "TXT", Name: "foo.example.com.", Value: "value1", TTL: 120}},
		{"ttl 1", `{"records":[{"type":"TXT","name":"_acme-challenge.example.com.","value":"v","ttl":1}]}`,
			mijnhosttest.Record{Type: "TXT", Name: "_acme-challenge.example.com.", Value: "v", TTL: 1}},
		{"ttl 86400", `{"records":[{"type":"TXT","name":"@","value":"v","ttl":86400}]}`,
			mijnhosttest.Record{Type: "TXT", Name: "example.com.", Value: "v", TTL: 86400}},
		{"wildcard", `{"records":[{"type":"A","name":"*.example.com.","value":"192.0.2.1","ttl":300}]}`,
			mijnhosttest.Record{Type: "A", Name: "*.example.com.", Value: "192.0.2.1", TTL: 300}},
		{"relative name not ending in domain", `{"records":[{"type":"TXT","name":"a.example.org","value":"v","ttl":60}]}`,
			mijnhosttest.Record{Type: "TXT", Name: "a.example.org.example.com.", Value: "v", TTL: 60}},
		{"content type with charset", ``, mijnhosttest.Record{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := put("domains/example.com/dns", tc.body)
			if tc.body == "" {
				r.body = `{"records":[{"type":"CAA","name":"@","value":"0 issue \"letsencrypt.org\"","ttl":3600}]}`
				r.contentType = "application/json; charset=utf-8"
				tc.want = mijnhosttest.Record{Type: "CAA", Name: "example.com.", Value: `0 issue "letsencrypt.org"`, TTL: 3600}
			}
			mustDo(t, s, r, http.StatusOK)
			if got := s.Records("example.com"); !slices.Equal(got, []mijnhosttest.Record{tc.want}) {
				t.Errorf("Records = %v, want [%v]", got, tc.want)
			}
		})
	}
}

// rec formats one record object for a request body.
func rec(typ, name, value string, ttl int) string {
	return fmt.Sprintf(`{"type":%q,"name":%q,"value":%q,"ttl":%d}`, typ, name, value, ttl)
}

// badRecordCases are record objects (as JSON) that PUT and PATCH must both
// reject with 400, with a word the description must contain.
var badRecordCases = []struct {
	name, record, want string
}{
	{"type PTR", rec("PTR", "x", "host.example.com.", 60), `"PTR"`},
	{"type SOA", rec("SOA", "@", "ns1. hostmaster. 1 2 3 4 5", 60), `"SOA"`},
	{"type lower case", rec("txt", "x", "v", 60), `"txt"`},
	{"type empty", rec("", "x", "v", 60), "type"},
	{"type missing", `{"name":"x","value":"v","ttl":60}`, "type"},
	{"type number", `{"type":16,"name":"x","value":"v","ttl":60}`, "type"},
	{"value empty", rec("TXT", "x", "", 60), "value"},
	{"value missing", `{"type":"TXT","name":"x","ttl":60}`, "value"},
	{"value null", `{"type":"TXT","name":"x","value":null,"ttl":60}`, "value"},
	{"A not IPv4", rec("A", "x", "2001:db8::1", 60), "A value"},
	{"A garbage", rec("A", "x", "localhost", 60), "A value"},
	{"AAAA not IPv6", rec("AAAA", "x", "192.0.2.1", 60), "AAAA value"},
	{"ttl 0", rec("TXT", "x", "v", 0), "ttl"},
	{"ttl negative", rec("TXT", "x", "v", -1), "ttl"},
	{"ttl too large", rec("TXT", "x", "v", 86401), "ttl"},
	{"ttl int32 overflow", rec("TXT", "x", "v", 2147483648), "ttl"},
	{"ttl missing (lego omitempty)", `{"type":"TXT","name":"x","value":"v"}`, "ttl"},
	{"ttl null", `{"type":"TXT","name":"x","value":"v","ttl":null}`, "ttl"},
	{"ttl string", `{"type":"TXT","name":"x","value":"v","ttl":"60"}`, "ttl"},
	{"ttl float", `{"type":"TXT","name":"x","value":"v","ttl":60.5}`, "ttl"},
	{"ttl float integral", `{"type":"TXT","name":"x","value":"v","ttl":60.0}`, "ttl"},
	{"ttl exponent", `{"type":"TXT","name":"x","value":"v","ttl":6e1}`, "ttl"},
	{"name missing", `{"type":"TXT","value":"v","ttl":60}`, "name"},
	{"name empty", rec("TXT", "", "v", 60), "name"},
	{"name FQDN outside domain", rec("TXT", "_acme-challenge.example.org.", "v", 60), "outside"},
	{"name FQDN of parent", rec("TXT", "com.", "v", 60), "outside"},
	{"name FQDN suffix but not sub-domain", rec("TXT", "notexample.com.", "v", 60), "outside"},
	{"name FQDN without trailing dot", rec("TXT", "_acme-challenge.example.com", "v", 60), "without trailing dot"},
	{"name apex without trailing dot", rec("TXT", "example.com", "v", 60), "without trailing dot"},
	{"name FQDN without dot, other case", rec("TXT", "_acme-challenge.EXAMPLE.com", "v", 60), "without trailing dot"},
	{"name empty label", rec("TXT", "a..b", "v", 60), "empty label"},
	{"name leading dot", rec("TXT", ".a", "v", 60), "empty label"},
	{"name only dot", rec("TXT", ".", "v", 60), "outside"},
	{"name with space", rec("TXT", "a b", "v", 60), "invalid character"},
	{"name with @ label", rec("TXT", "@.x", "v", 60), "invalid character"},
	{"name wildcard not leftmost", rec("TXT", "a.*", "v", 60), "invalid character"},
	{"name label too long", rec("TXT", strings.Repeat("a", 64), "v", 60), "63"},
	{"unknown field", `{"type":"TXT","name":"x","value":"v","ttl":60,"priority":10}`, `"priority"`},
	{"unknown field id", `{"id":1,"type":"TXT","name":"x","value":"v","ttl":60}`, `"id"`},
	{"capitalised key", `{"Type":"TXT","name":"x","value":"v","ttl":60}`, `"Type"`},
	{"not an object", `["TXT","x","v",60]`, "object"},
	{"null record", `null`, "object"},
}

func TestPutRejects(t *testing.T) {
	type tc struct {
		name        string
		domain      string
		contentType string
		body        string
		want        string // substring of status_description
	}
	cases := []tc{
		{name: "unknown domain", domain: "example.org", body: `{"records":[` + rec("TXT", "x", "v", 60) + `]}`,
			want: "no access"},
		{name: "trailing dot domain", domain: "example.com.", body: `{"records":[` + rec("TXT", "x", "v", 60) + `]}`,
			want: "no access"},
		{name: "no content type", contentType: "-", body: `{"records":[` + rec("TXT", "x", "v", 60) + `]}`,
			want: "Content-Type"},
		{name: "text/plain", contentType: "text/plain", body: `{"records":[` + rec("TXT", "x", "v", 60) + `]}`,
			want: "Content-Type"},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: `records=x`, want: "Content-Type"},
		{name: "empty body", body: "", want: "JSON object"},
		{name: "invalid JSON", body: `{"records":[`, want: "JSON object"},
		{name: "trailing data", body: `{"records":[` + rec("TXT", "x", "v", 60) + `]} {}`, want: "JSON object"},
		{name: "JSON array", body: `[` + rec("TXT", "x", "v", 60) + `]`, want: "JSON object"},
		{name: "JSON null", body: `null`, want: "JSON object"},
		{name: "missing records key", body: `{}`, want: `"records"`},
		{name: "PATCH body on PUT", body: `{"record":` + rec("TXT", "x", "v", 60) + `}`, want: `"record"`},
		{name: "extra top-level key", body: `{"records":[` + rec("TXT", "x", "v", 60) + `],"domain":"example.com"}`,
			want: `"domain"`},
		{name: "records null", body: `{"records":null}`, want: "array"},
		{name: "records object", body: `{"records":` + rec("TXT", "x", "v", 60) + `}`, want: "array"},
		{name: "empty list (strict)", body: `{"records":[]}`, want: "No DNS records"},
		{name: "exact duplicate (strict)", body: `{"records":[` + rec("TXT", "x", "v", 60) + `,` +
			rec("TXT", "x", "v", 60) + `]}`, want: "Duplicate"},
		{name: "duplicate differing only in TTL (strict)", body: `{"records":[` + rec("TXT", "x", "v", 60) + `,` +
			rec("TXT", "x", "v", 120) + `]}`, want: "Duplicate"},
		{name: "duplicate via @ and FQDN (strict)", body: `{"records":[` + rec("TXT", "@", "v", 60) + `,` +
			rec("TXT", "example.com.", "v", 60) + `]}`, want: "Duplicate"},
		{name: "duplicate via relative and FQDN (strict)", body: `{"records":[` + rec("TXT", "_acme-challenge", "v", 60) +
			`,` + rec("TXT", "_acme-challenge.example.com.", "v", 60) + `]}`, want: "Duplicate"},
		{name: "good record then bad", body: `{"records":[` + rec("TXT", "x", "v", 60) + `,` +
			rec("TXT", "y", "v", 0) + `]}`, want: "record 1"},
	}
	for _, b := range badRecordCases {
		cases = append(cases, tc{name: "record " + b.name, body: `{"records":[` + b.record + `]}`, want: b.want})
	}

	s := newFake(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			domain := c.domain
			if domain == "" {
				domain = "example.com"
			}
			r := put("domains/"+domain+"/dns", c.body)
			switch c.contentType {
			case "":
			case "-":
				r.contentType = ""
			default:
				r.contentType = c.contentType
			}
			body := mustDo(t, s, r, http.StatusBadRequest)
			e := decodeError(t, body)
			if e.Status != float64(400) {
				t.Errorf("status field = %v, want 400", e.Status)
			}
			if !strings.Contains(e.Description, c.want) {
				t.Errorf("status_description = %q, want it to contain %q", e.Description, c.want)
			}
			if got := s.Records("example.com"); !slices.Equal(got, legoRecords) {
				t.Fatalf("rejected PUT changed the records: %v", got)
			}
		})
	}
}

func TestStrictSwitchesOff(t *testing.T) {
	t.Run("empty PUT", func(t *testing.T) {
		s := newFake(t)
		s.SetRejectEmptyPut(false)
		mustDo(t, s, put("domains/example.com/dns", `{"records":[]}`), http.StatusOK)
		if got := s.Records("example.com"); len(got) != 0 || got == nil {
			t.Errorf("Records = %#v, want empty non-nil", got)
		}
		body := mustDo(t, s, get("domains/example.com/dns"), http.StatusOK)
		if !strings.Contains(string(body), `"records":[]`) {
			t.Errorf("GET of emptied zone = %s", body)
		}
	})
	t.Run("duplicates", func(t *testing.T) {
		s := newFake(t)
		s.SetRejectDuplicates(false)
		mustDo(t, s, put("domains/example.com/dns", `{"records":[`+rec("TXT", "x", "v", 60)+`,`+
			rec("TXT", "x.example.com.", "v", 120)+`]}`), http.StatusOK)
		want := []mijnhosttest.Record{
			{Type: "TXT", Name: "x.example.com.", Value: "v", TTL: 60},
			{Type: "TXT", Name: "x.example.com.", Value: "v", TTL: 120},
		}
		if got := s.Records("example.com"); !slices.Equal(got, want) {
			t.Errorf("Records = %v, want %v", got, want)
		}
		s.SetRejectDuplicates(true)
		mustDo(t, s, put("domains/example.com/dns", `{"records":[`+rec("TXT", "x", "v", 60)+`,`+
			rec("TXT", "x", "v", 60)+`]}`), http.StatusBadRequest)
	})
}

func TestPatch(t *testing.T) {
	acme := []mijnhosttest.Record{
		{Type: "TXT", Name: "_acme-challenge.example.com.", Value: "one", TTL: 60},
		{Type: "A", Name: "www.example.com.", Value: "192.0.2.1", TTL: 900},
		{Type: "TXT", Name: "_acme-challenge.example.com.", Value: "two", TTL: 60},
	}
	for _, tc := range []struct {
		name   string
		record string
		want   []mijnhosttest.Record
	}{
		{"update first of several (type,name)", rec("TXT", "_acme-challenge", "three", 120), []mijnhosttest.Record{
			{Type: "TXT", Name: "_acme-challenge.example.com.", Value: "three", TTL: 120}, acme[1], acme[2]}},
		{"update by FQDN", rec("A", "www.example.com.", "192.0.2.2", 300), []mijnhosttest.Record{
			acme[0], {Type: "A", Name: "www.example.com.", Value: "192.0.2.2", TTL: 300}, acme[2]}},
		{"same name other type appends", rec("AAAA", "www", "2001:db8::1", 300), append(slices.Clone(acme),
			mijnhosttest.Record{Type: "AAAA", Name: "www.example.com.", Value: "2001:db8::1", TTL: 300})},
		{"new name appends", rec("A", "@", "192.0.2.9", 900), append(slices.Clone(acme),
			mijnhosttest.Record{Type: "A", Name: "example.com.", Value: "192.0.2.9", TTL: 900})},
		{"same value only changes ttl", rec("TXT", "_acme-challenge.example.com.", "one", 300), []mijnhosttest.Record{
			{Type: "TXT", Name: "_acme-challenge.example.com.", Value: "one", TTL: 300}, acme[1], acme[2]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newFake(t)
			s.SetRecords("example.com", acme...)
			body := mustDo(t, s, patch("domains/example.com/dns", `{"record":`+tc.record+`}`), http.StatusOK)
			checkFixture(t, body, "update-dns-records.json")
			if got := s.Records("example.com"); !slices.Equal(got, tc.want) {
				t.Errorf("Records = %v\nwant %v", got, tc.want)
			}
		})
	}

	t.Run("fixture body", func(t *testing.T) {
		s := newFake(t)
		mustDo(t, s, patch("domains/example.com/dns", fixture(t, "patch-dns-record-request.json")), http.StatusOK)
		want := append(slices.Clone(legoRecords),
			mijnhosttest.Record{Type: "A", Name: "foo.example.com.", Value: "127.0.0.1", TTL: 900})
		if got := s.Records("example.com"); !slices.Equal(got, want) {
			t.Errorf("Records = %v\nwant %v", got, want)
		}
	})

	type bad struct{ name, domain, contentType, body, want string }
	cases := []bad{
		{name: "unknown domain", domain: "example.org", body: `{"record":` + rec("TXT", "x", "v", 60) + `}`, want: "no access"},
		{name: "no content type", contentType: "-", body: `{"record":` + rec("TXT", "x", "v", 60) + `}`, want: "Content-Type"},
		{name: "missing record key", body: `{}`, want: `"record"`},
		{name: "PUT body on PATCH", body: `{"records":[` + rec("TXT", "x", "v", 60) + `]}`, want: `"records"`},
		{name: "record array", body: `{"record":[` + rec("TXT", "x", "v", 60) + `]}`, want: "object"},
		{name: "would duplicate another record (strict)", body: `{"record":` +
			rec("TXT", "_acme-challenge", "two", 60) + `}`, want: "Duplicate"},
	}
	for _, b := range badRecordCases {
		cases = append(cases, bad{name: "record " + b.name, body: `{"record":` + b.record + `}`, want: b.want})
	}
	s := newFake(t)
	s.SetRecords("example.com", acme...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			domain := c.domain
			if domain == "" {
				domain = "example.com"
			}
			r := patch("domains/"+domain+"/dns", c.body)
			if c.contentType == "-" {
				r.contentType = ""
			}
			e := decodeError(t, mustDo(t, s, r, http.StatusBadRequest))
			if !strings.Contains(e.Description, c.want) {
				t.Errorf("status_description = %q, want it to contain %q", e.Description, c.want)
			}
			if got := s.Records("example.com"); !slices.Equal(got, acme) {
				t.Fatalf("rejected PATCH changed the records: %v", got)
			}
		})
	}
}

func TestMethodsAndPaths(t *testing.T) {
	s := newFake(t)
	for _, tc := range []struct {
		method, path string
		code         int
		fixture      string
	}{
		{http.MethodDelete, "domains/example.com/dns", http.StatusMethodNotAllowed, "error-405.json"},
		{http.MethodPost, "domains/example.com/dns", http.StatusMethodNotAllowed, "error-405.json"},
		{http.MethodHead, "domains/example.com/dns", http.StatusMethodNotAllowed, ""},
		{http.MethodOptions, "domains/example.com/dns", http.StatusMethodNotAllowed, "error-405.json"},
		{http.MethodDelete, "domains/example.org/dns", http.StatusMethodNotAllowed, "error-405.json"},
		{http.MethodPost, "domains", http.StatusMethodNotAllowed, "error-405.json"},
		{http.MethodPut, "domains/", http.StatusMethodNotAllowed, "error-405.json"},
		{http.MethodGet, "", http.StatusNotFound, "error-404.json"},
		{http.MethodGet, "domain", http.StatusNotFound, "error-404.json"},
		{http.MethodGet, "domains/example.com", http.StatusNotFound, "error-404.json"},
		{http.MethodGet, "domains/example.com/", http.StatusNotFound, "error-404.json"},
		{http.MethodGet, "domains/example.com/dns/", http.StatusNotFound, "error-404.json"},
		{http.MethodGet, "domains/example.com/dns/extra", http.StatusNotFound, "error-404.json"},
		{http.MethodGet, "domains/example.com/records", http.StatusNotFound, "error-404.json"},
		{http.MethodPost, "domains/order", http.StatusNotFound, "error-404.json"},
		{http.MethodGet, "/api/v1/domains", http.StatusNotFound, "error-404.json"},
		{http.MethodGet, "/api/v2", http.StatusNotFound, "error-404.json"},
		{http.MethodGet, "/", http.StatusNotFound, "error-404.json"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			body := mustDo(t, s, req{method: tc.method, path: tc.path, key: testKey}, tc.code)
			if tc.fixture != "" {
				checkFixture(t, body, tc.fixture)
			}
		})
	}
}

func TestContentTypeAlwaysJSON(t *testing.T) {
	s := newFake(t)
	faults := []mijnhosttest.Fault{
		mijnhosttest.FaultRateLimit, mijnhosttest.FaultRateLimitRetryAfter, mijnhosttest.FaultServerError,
		mijnhosttest.FaultBadGateway, mijnhosttest.FaultSpuriousBadRequest,
	}
	reqs := []req{
		get("domains"),
		get("domains/example.com/dns"),
		get("domains/example.org/dns"),
		put("domains/example.com/dns", fixture(t, "put-dns-records-request.json")),
		put("domains/example.com/dns", `{"records":[]}`),
		patch("domains/example.com/dns", `{"record":`+rec("TXT", "x", "v", 60)+`}`),
		{method: http.MethodGet, path: "domains"},
		{method: http.MethodDelete, path: "domains/example.com/dns", key: testKey},
		get("nowhere"),
	}
	for _, stringStatus := range []bool{false, true} {
		s.SetStringStatus(stringStatus)
		for _, r := range reqs {
			resp, _ := do(t, s, r)
			checkJSONContentType(t, resp)
		}
		for _, f := range faults {
			s.FailNext(1, f)
			resp, _ := do(t, s, get("domains"))
			checkJSONContentType(t, resp)
		}
	}
}

func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		fault      mijnhosttest.Fault
		code       int
		desc       string
		retryAfter string
	}{
		{mijnhosttest.FaultRateLimit, http.StatusTooManyRequests, "Too many requests", ""},
		{mijnhosttest.FaultRateLimitRetryAfter, http.StatusTooManyRequests, "Too many requests", "1"},
		{mijnhosttest.FaultServerError, http.StatusInternalServerError, "Internal server error", ""},
		{mijnhosttest.FaultBadGateway, http.StatusBadGateway, "Bad gateway", ""},
		{mijnhosttest.FaultSpuriousBadRequest, http.StatusBadRequest, "DNS records not managed by mijn.host", ""},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			s := newFake(t)
			s.FailNext(2, tc.fault)
			for i, r := range []req{
				get("domains/example.com/dns"),
				put("domains/example.com/dns", `{"records":[`+rec("TXT", "x", "v", 60)+`]}`),
			} {
				resp, body := do(t, s, r)
				if resp.StatusCode != tc.code {
					t.Fatalf("request %d: status %d, want %d", i, resp.StatusCode, tc.code)
				}
				checkJSONContentType(t, resp)
				e := decodeError(t, body)
				if e.Status != float64(tc.code) || e.Description != tc.desc {
					t.Errorf("request %d: body %s, want status %d and description %q", i, body, tc.code, tc.desc)
				}
				if tc.fault == mijnhosttest.FaultSpuriousBadRequest {
					// example.com is managed; the fault still claims otherwise.
					checkFixture(t, body, "error-not-managed.json")
				}
				if got := resp.Header.Get("Retry-After"); got != tc.retryAfter {
					t.Errorf("request %d: Retry-After = %q, want %q", i, got, tc.retryAfter)
				}
			}
			if got := s.Records("example.com"); !slices.Equal(got, legoRecords) {
				t.Errorf("faulted PUT changed the records: %v", got)
			}
			// A fault is served even without a valid key (faults come first).
			s.FailNext(1, tc.fault)
			mustDo(t, s, req{method: http.MethodGet, path: "domains"}, tc.code)
			checkFixture(t, mustDo(t, s, get("domains/example.com/dns"), http.StatusOK), "get-dns-records.json")
		})
	}

	t.Run("BadGatewayHTML", func(t *testing.T) {
		s := newFake(t)
		s.FailNext(1, mijnhosttest.FaultBadGatewayHTML)
		resp, body := do(t, s, get("domains"))
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("status %d, want 502", resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Content-Type = %q, want text/html", ct)
		}
		if json.Valid(body) {
			t.Errorf("body is JSON: %s", body)
		}
		mustDo(t, s, get("domains"), http.StatusOK)
	})

	t.Run("DropConnection", func(t *testing.T) {
		s := newFake(t)
		s.FailNext(1, mijnhosttest.FaultDropConnection)
		// A fresh transport without keep-alives, so that net/http cannot
		// silently retry the request on another connection.
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		defer client.CloseIdleConnections()
		r := put("domains/example.com/dns", `{"records":[`+rec("TXT", "x", "v", 60)+`]}`)
		resp, err := client.Do(r.build(t, s))
		if err == nil {
			resp.Body.Close()
			t.Fatalf("got status %d, want a transport error", resp.StatusCode)
		}
		if got := s.Records("example.com"); !slices.Equal(got, legoRecords) {
			t.Errorf("dropped PUT changed the records: %v", got)
		}
		if n := s.Count(mijnhosttest.EndpointPutRecords); n != 1 {
			t.Errorf("PUT count = %d, want 1", n)
		}
		mustDo(t, s, get("domains"), http.StatusOK)
	})

	t.Run("queue", func(t *testing.T) {
		s := newFake(t)
		s.FailNext(1, mijnhosttest.FaultServerError)
		s.FailNext(0, mijnhosttest.FaultBadGateway)
		s.FailNext(2, mijnhosttest.FaultRateLimit)
		for i, code := range []int{500, 429, 429, 200, 200} {
			resp, _ := do(t, s, get("domains"))
			if resp.StatusCode != code {
				t.Errorf("request %d: status %d, want %d", i, resp.StatusCode, code)
			}
		}
	})

	t.Run("unknown fault panics", func(t *testing.T) {
		s := newFake(t)
		defer func() {
			if recover() == nil {
				t.Error("FailNext(1, 0) did not panic")
			}
		}()
		s.FailNext(1, 0)
	})
}

func TestLatency(t *testing.T) {
	s := newFake(t)
	s.SetLatency(20 * time.Millisecond)
	checkFixture(t, mustDo(t, s, get("domains/example.com/dns"), http.StatusOK), "get-dns-records.json")
	s.FailNext(1, mijnhosttest.FaultServerError)
	mustDo(t, s, get("domains"), http.StatusInternalServerError)
	s.SetLatency(0)
	mustDo(t, s, get("domains"), http.StatusOK)
}

func TestLatencyClientCancel(t *testing.T) {
	s := newFake(t)
	s.SetLatency(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	r := get("domains").build(t, s).WithContext(ctx)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(r)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitCount(t, s, mijnhosttest.EndpointListDomains, 1)
	cancel()
	if err := <-errc; err == nil {
		t.Error("cancelled request succeeded")
	}
	// Close must not wait out the hour (the test would time out).
	s.Close()
}

func TestCloseAbortsLatency(t *testing.T) {
	s := mijnhosttest.NewServer()
	s.AddKey(testKey)
	s.SetLatency(time.Hour)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(get("domains").build(t, s))
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitCount(t, s, mijnhosttest.EndpointListDomains, 1)
	s.Close()
	if err := <-errc; err == nil {
		t.Error("request aborted by Close succeeded")
	}
	s.Close() // idempotent
}

// waitCount polls until endpoint has received n requests.
func waitCount(t *testing.T, s *mijnhosttest.Server, endpoint string, n int) {
	t.Helper()
	for s.Count(endpoint) < n {
		time.Sleep(time.Millisecond)
	}
}

func TestCounts(t *testing.T) {
	s := newFake(t)
	for _, r := range []req{
		get("domains"),
		get("domains/"),
		{method: http.MethodGet, path: "domains"}, // 401 still counted
		get("domains/example.com/dns"),
		get("domains/example.org/dns"), // 400 still counted
		put("domains/example.com/dns", `{"records":[`+rec("TXT", "x", "v", 60)+`]}`),
		patch("domains/example.com/dns", `{"record":`+rec("TXT", "x", "w", 60)+`}`),
		patch("domains/example.com/dns", `{"record":`+rec("TXT", "x", "w", 0)+`}`),
		{method: http.MethodDelete, path: "domains/example.com/dns", key: testKey},
		{method: http.MethodPost, path: "domains", key: testKey},
		get("domains/example.com"),
	} {
		do(t, s, r)
	}
	s.FailNext(1, mijnhosttest.FaultServerError)
	do(t, s, get("domains/example.com/dns")) // faulted, still counted

	want := map[string]int{
		mijnhosttest.EndpointListDomains: 3,
		mijnhosttest.EndpointGetRecords:  3,
		mijnhosttest.EndpointPutRecords:  1,
		mijnhosttest.EndpointPatchRecord: 2,
		mijnhosttest.EndpointOther:       3,
	}
	got := s.Requests()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Requests = %v, want %v", got, want)
	}
	got["mutate"] = 1
	if _, ok := s.Requests()["mutate"]; ok {
		t.Error("Requests returned the live map")
	}
	for k, n := range want {
		if c := s.Count(k); c != n {
			t.Errorf("Count(%q) = %d, want %d", k, c, n)
		}
	}
	if c := s.Count("nonsense"); c != 0 {
		t.Errorf("Count(nonsense) = %d", c)
	}
	s.ResetCounts()
	if got := s.Requests(); len(got) != 0 {
		t.Errorf("after ResetCounts: %v", got)
	}
	do(t, s, get("domains"))
	if c := s.Count(mijnhosttest.EndpointListDomains); c != 1 {
		t.Errorf("after ResetCounts and one request: %d", c)
	}
}

func TestStringStatus(t *testing.T) {
	s := newFake(t)
	s.SetStringStatus(true)
	checkFixture(t, mustDo(t, s, req{method: http.MethodGet, path: "domains"}, http.StatusUnauthorized),
		"error-401-string.json")
	for _, tc := range []struct {
		r    req
		code int
	}{
		{get("domains/example.org/dns"), http.StatusBadRequest},
		{put("domains/example.com/dns", `{"records":[]}`), http.StatusBadRequest},
		{req{method: http.MethodDelete, path: "domains/example.com/dns", key: testKey}, http.StatusMethodNotAllowed},
		{get("nowhere"), http.StatusNotFound},
	} {
		e := decodeError(t, mustDo(t, s, tc.r, tc.code))
		if e.Status != "error" || e.Description == "" {
			t.Errorf("%s %s: body %+v, want status \"error\" and a description", tc.r.method, tc.r.path, e)
		}
	}
	s.FailNext(1, mijnhosttest.FaultRateLimit)
	if e := decodeError(t, mustDo(t, s, get("domains"), http.StatusTooManyRequests)); e.Status != "error" {
		t.Errorf("fault body status = %v", e.Status)
	}
	// Success bodies keep the numeric status.
	checkFixture(t, mustDo(t, s, get("domains/example.com/dns"), http.StatusOK), "get-dns-records.json")
	checkFixture(t, mustDo(t, s, put("domains/example.com/dns", `{"records":[`+rec("TXT", "x", "v", 60)+`]}`),
		http.StatusOK), "update-dns-records.json")

	s.SetStringStatus(false)
	checkFixture(t, mustDo(t, s, req{method: http.MethodGet, path: "domains"}, http.StatusUnauthorized),
		"error-401.json")
}

func TestZones(t *testing.T) {
	s := newFake(t)
	s.AddDomain("another.example")
	mustDo(t, s, put("domains/example.com/dns", fixture(t, "put-dns-records-request.json")), http.StatusOK)
	want := map[string][]libdns.RR{
		"example.com.": {
			{Name: "@", TTL: 900 * time.Second, Type: "A", Data: "135.226.123.12"},
			{Name: "www", TTL: time.Hour, Type: "A", Data: "135.226.123.12"},
			{Name: "foo.bar", TTL: 5 * time.Minute, Type: "CNAME", Data: "www.example.com."},
			{Name: "@", TTL: 900 * time.Second, Type: "MX", Data: "10 mail.example.com."},
			{Name: "_acme-challenge", TTL: 2 * time.Minute, Type: "TXT", Data: "token-one"},
			{Name: "_acme-challenge", TTL: time.Minute, Type: "TXT", Data: "token-two"},
			{Name: "_acme-challenge", TTL: time.Minute, Type: "TXT", Data: "token-three"},
		},
		"another.example.": {},
	}
	got := s.Zones()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Zones = %v\nwant %v", got, want)
	}
	// The MX data parses as zone-file syntax.
	mx, err := got["example.com."][3].Parse()
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := mx.(libdns.MX); !ok || m.Preference != 10 || m.Target != "mail.example.com." {
		t.Errorf("MX parsed as %#v", mx)
	}
}

func TestSetupHelpers(t *testing.T) {
	s := mijnhosttest.NewServer()
	defer s.Close()
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") && !strings.HasPrefix(s.URL, "http://[::1]:") {
		t.Errorf("URL = %q, want a loopback address", s.URL)
	}
	if !strings.HasSuffix(s.URL, "/api/v2/") {
		t.Errorf("URL = %q, want suffix /api/v2/", s.URL)
	}
	s.AddDomain("Example.COM.",
		mijnhosttest.Record{Type: "A", Name: "@", Value: "192.0.2.1", TTL: 60},
		mijnhosttest.Record{Type: "TXT", Name: "_acme-challenge", Value: "v", TTL: 60},
		mijnhosttest.Record{Type: "TXT", Name: "Deep.Sub.example.com.", Value: "v", TTL: 60},
		mijnhosttest.Record{Type: "PTR", Name: "odd", Value: "seeded without validation", TTL: 0},
	)
	want := []mijnhosttest.Record{
		{Type: "A", Name: "example.com.", Value: "192.0.2.1", TTL: 60},
		{Type: "TXT", Name: "_acme-challenge.example.com.", Value: "v", TTL: 60},
		{Type: "TXT", Name: "deep.sub.example.com.", Value: "v", TTL: 60},
		{Type: "PTR", Name: "odd.example.com.", Value: "seeded without validation", TTL: 0},
	}
	got := s.Records("example.com")
	if !slices.Equal(got, want) {
		t.Errorf("Records = %v\nwant %v", got, want)
	}
	got[0].Value = "mutated"
	if s.Records("EXAMPLE.com")[0].Value != "192.0.2.1" {
		t.Error("Records returned the stored slice")
	}
	if r := s.Records("example.org"); r != nil {
		t.Errorf("Records of unknown domain = %v, want nil", r)
	}

	s.SetRecords("example.com.", mijnhosttest.Record{Type: "TXT", Name: "x", Value: "y", TTL: 5})
	if got := s.Records("example.com"); !slices.Equal(got, []mijnhosttest.Record{
		{Type: "TXT", Name: "x.example.com.", Value: "y", TTL: 5},
	}) {
		t.Errorf("after SetRecords: %v", got)
	}
	s.SetRecords("example.com")
	if got := s.Records("example.com"); got == nil || len(got) != 0 {
		t.Errorf("after SetRecords with nothing: %#v", got)
	}

	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"SetRecords unknown domain", func() { s.SetRecords("example.org") }},
		{"AddDomain empty", func() { s.AddDomain("") }},
		{"AddDomain name outside", func() {
			s.AddDomain("example.net", mijnhosttest.Record{Type: "TXT", Name: "x.example.com.", Value: "v", TTL: 60})
		}},
		{"AddDomain FQDN without dot", func() {
			s.AddDomain("example.net", mijnhosttest.Record{Type: "TXT", Name: "x.example.net", Value: "v", TTL: 60})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.f()
		})
	}
	if r := s.Records("example.net"); r != nil {
		t.Errorf("a panicking AddDomain added the domain: %v", r)
	}
}

// TestConcurrentPuts checks under -race that each PUT is atomic: every GET
// sees exactly one of the record sets written, never a mix.
func TestConcurrentPuts(t *testing.T) {
	s := newFake(t)
	const writers, readers, rounds = 8, 4, 10
	sets := make(map[string]bool) // JSON of each possible record list
	bodies := make([]string, writers)
	for w := range writers {
		var recs []mijnhosttest.Record
		for i := range 3 {
			recs = append(recs, mijnhosttest.Record{Type: "TXT", Name: "_acme-challenge.example.com.",
				Value: fmt.Sprintf("writer-%d-%d", w, i), TTL: 60})
		}
		b, _ := json.Marshal(map[string]any{"records": recs})
		bodies[w] = string(b)
		k, _ := json.Marshal(recs)
		sets[string(k)] = true
	}
	k, _ := json.Marshal(legoRecords)
	sets[string(k)] = true

	var wg sync.WaitGroup
	errs := make(chan error, (writers+readers)*rounds+writers*rounds)
	client := &http.Client{}
	send := func(r req) (int, []byte, error) {
		hr, err := http.NewRequest(r.method, r.url(s), strings.NewReader(r.body))
		if err != nil {
			return 0, nil, err
		}
		hr.Header.Set("API-Key", r.key)
		if r.contentType != "" {
			hr.Header.Set("Content-Type", r.contentType)
		}
		resp, err := client.Do(hr)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	for w := range writers {
		wg.Go(func() {
			for range rounds {
				code, body, err := send(put("domains/example.com/dns", bodies[w]))
				if err != nil || code != http.StatusOK {
					errs <- fmt.Errorf("PUT: %d %s %v", code, body, err)
				}
				// Exercise the setters concurrently with requests.
				s.SetLatency(0)
				s.SetStringStatus(false)
				_ = s.Requests()
				_ = s.Zones()
			}
		})
	}
	for range readers {
		wg.Go(func() {
			for range rounds * 2 {
				code, body, err := send(get("domains/example.com/dns"))
				if err != nil || code != http.StatusOK {
					errs <- fmt.Errorf("GET: %d %s %v", code, body, err)
					continue
				}
				var env struct {
					Data struct {
						Records json.RawMessage `json:"records"`
					} `json:"data"`
				}
				if err := json.Unmarshal(body, &env); err != nil {
					errs <- err
					continue
				}
				var recs []mijnhosttest.Record
				if err := json.Unmarshal(env.Data.Records, &recs); err != nil {
					errs <- err
					continue
				}
				k, _ := json.Marshal(recs)
				if !sets[string(k)] {
					errs <- fmt.Errorf("GET saw a mixed record set: %s", k)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	final, _ := json.Marshal(s.Records("example.com"))
	if !sets[string(final)] {
		t.Errorf("final records are not one of the written sets: %s", final)
	}
	if n := s.Count(mijnhosttest.EndpointPutRecords); n != writers*rounds {
		t.Errorf("PUT count = %d, want %d", n, writers*rounds)
	}
}
