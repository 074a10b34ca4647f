package realtimeregistertest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

const (
	key  = "fake-test-key-1b2c3d"
	user = "acme/tester"
	pass = "fake-test-password-9z8y"
)

var (
	apiKeyAuth = "ApiKey " + key
	basicAuth  = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// setup starts a fake with a fixed clock, a key, a user and the zones of
// testdata: example.com (BASIC, linked to its domain, with records),
// example.com (PREMIUM), example.net (BASIC).
func setup(t *testing.T) (*Server, *clock) {
	t.Helper()
	s := NewServer()
	t.Cleanup(s.Close)
	clk := &clock{t: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)}
	s.SetClock(clk.Now)
	s.AddAPIKey(key)
	s.AddUser(user, pass)
	var recs []Record
	readJSON(t, "testdata/example.com-records.json", &recs)
	id := s.AddZone(Zone{Name: "example.com", Records: recs})
	s.AddZone(Zone{Name: "example.com", Service: Premium, NS: []string{"ns1.premium.example", "ns2.premium.example"}})
	s.AddZone(Zone{Name: "example.net"})
	s.AddDomain(Domain{Name: "example.com", ZoneID: id})
	return s, clk
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", a.body, err)
	}
	return m
}

// call sends one request; body "" sends none; ctype "" sends no Content-Type.
func call(t *testing.T, s *Server, method, path, auth, ctype, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}
}

const jsonType = "application/json"

func TestAuthentication(t *testing.T) {
	s, clk := setup(t)
	a := call(t, s, "POST", "session", basicAuth, jsonType, "{}")
	if a.status != 201 {
		t.Fatalf("POST session: %d %s", a.status, a.body)
	}
	session := "Session " + a.json(t)["key"].(string)
	tests := []struct {
		name    string
		advance time.Duration
		method  string
		path    string
		auth    string
		want    int
	}{
		{"no credentials", 0, "GET", "dns/zones", "", 401},
		{"api key", 0, "GET", "dns/zones", apiKeyAuth, 200},
		{"wrong api key", 0, "GET", "dns/zones", "ApiKey nope", 401},
		{"scheme is case-sensitive", 0, "GET", "dns/zones", "apikey " + key, 401},
		{"basic", 0, "GET", "dns/zones", basicAuth, 200},
		{"basic with a wrong password", 0, "GET", "dns/zones", "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":x")), 401},
		{"session", 0, "GET", "dns/zones", session, 200},
		{"session 29 minutes later", 29 * time.Minute, "GET", "dns/zones", session, 200},
		{"session 29 minutes after its last use", 29 * time.Minute, "GET", "dns/zones", session, 200},
		{"session 30 minutes after its last use", 30 * time.Minute, "GET", "dns/zones", session, 401},
		{"expired session stays expired", 0, "GET", "dns/zones", session, 401},
		{"a session needs Basic credentials", 0, "POST", "session", apiKeyAuth, 401},
		{"unknown path after authentication", 0, "GET", "dns/templates", apiKeyAuth, 404},
		{"unknown path before authentication", 0, "GET", "dns/templates", "", 401},
	}
	for _, tt := range tests {
		clk.Advance(tt.advance)
		a := call(t, s, tt.method, tt.path, tt.auth, jsonType, "")
		if a.status != tt.want {
			t.Errorf("%s: HTTP %d %s, want %d", tt.name, a.status, a.body, tt.want)
		}
		if a.status == 401 {
			if m := a.json(t); m["type"] != "AuthenticationError" || m["message"] == "" {
				t.Errorf("%s: body %s", tt.name, a.body)
			}
		}
	}
}

func TestContentType(t *testing.T) {
	s, _ := setup(t)
	id := s.ZoneID("example.net", "")
	path := "dns/zones/" + itoa(id) + "/update"
	tests := []struct {
		name, method, path, ctype, body string
		want                            int
	}{
		{"POST without Content-Type", "POST", path, "", `{"records":[]}`, 415},
		{"POST as text", "POST", path, "text/plain", `{"records":[]}`, 415},
		{"POST as JSON with charset", "POST", path, "application/json; charset=utf-8", `{"records":[]}`, 200},
		{"session without Content-Type", "POST", "session", "", "", 415},
		{"GET without Content-Type", "GET", "dns/zones/" + itoa(id), "", "", 200},
		{"DELETE without Content-Type", "DELETE", "dns/zones/" + itoa(id), "", "", 415},
	}
	for _, tt := range tests {
		auth := apiKeyAuth
		if tt.path == "session" {
			auth = basicAuth
		}
		if a := call(t, s, tt.method, tt.path, auth, tt.ctype, tt.body); a.status != tt.want {
			t.Errorf("%s: HTTP %d %s, want %d", tt.name, a.status, a.body, tt.want)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestListing(t *testing.T) {
	s, _ := setup(t)
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"} {
		s.AddZone(Zone{Name: n + ".example.org"})
	}
	// 15 zones: ids 1000 (example.com BASIC), 1001 (example.com PREMIUM),
	// 1002 (example.net), 1003..1014 (a..l.example.org).
	tests := []struct {
		query      string
		want       int // HTTP status
		wantNames  []string
		wantCount  int // len(entities) when wantNames is nil; -1: no entities key
		pagination string
		wantKeys   []string // keys of the first entity
	}{
		{"", 200, nil, 10, `{"limit":10,"offset":0,"total":15}`, nil},
		{"?limit=0", 200, nil, -1, `{"limit":0,"offset":0,"total":15}`, nil},
		{"?limit=5&offset=12", 200, []string{"j.example.org", "k.example.org", "l.example.org"}, 0, `{"limit":5,"offset":12,"total":15}`, nil},
		{"?offset=40", 200, []string{}, 0, `{"limit":10,"offset":40,"total":15}`, nil},
		{"?total=false&limit=2", 200, nil, 2, `{"limit":2,"offset":0}`, nil},
		{"?name=example.com", 200, []string{"example.com", "example.com"}, 0, `{"limit":10,"offset":0,"total":2}`, nil},
		{"?name=EXAMPLE.com&service=PREMIUM", 200, []string{"example.com"}, 0, "", nil},
		{"?managed=true", 200, []string{"example.com"}, 0, "", nil},
		{"?name:like=example.%25&fields=id,name", 200, []string{"example.com", "example.com", "example.net"}, 0, "", []string{"id", "name"}},
		{"?id:in=1001,1002&fields=service", 200, []string{"", ""}, 0, "", []string{"id", "service"}},
		{"?q=net", 200, []string{"example.net"}, 0, "", nil},
		{"?order=-name&limit=2&fields=name", 200, []string{"l.example.org", "k.example.org"}, 0, "", nil},
		{"?name:ne=example.com&service=BASIC&limit=1&fields=name", 200, []string{"example.net"}, 0, `{"limit":1,"offset":0,"total":13}`, nil},
		{"?export=true&name:like=%25.org", 200, nil, 12, `{"total":12}`, []string{"id", "name"}},
		{"?export=true&limit=5", 400, nil, 0, "", nil},
		{"?limit=251", 400, nil, 0, "", nil},
		{"?limit=-1", 400, nil, 0, "", nil},
		{"?service=GOLD", 400, nil, 0, "", nil},
		{"?colour=blue", 400, nil, 0, "", nil},
		{"?name:regex=x", 400, nil, 0, "", nil},
		{"?fields=id,password", 400, nil, 0, "", nil},
		{"?name=a.example.org&name=b.example.org", 400, nil, 0, "", nil},
	}
	for _, tt := range tests {
		for _, path := range []string{"dns/zones", "dns/zones/"} {
			a := call(t, s, "GET", path+tt.query, apiKeyAuth, "", "")
			if a.status != tt.want {
				t.Errorf("%s%s: HTTP %d %s, want %d", path, tt.query, a.status, a.body, tt.want)
				continue
			}
			if a.status != 200 {
				if m := a.json(t); m["type"] == "" || m["message"] == "" {
					t.Errorf("%s: error body %s", tt.query, a.body)
				}
				continue
			}
			var body struct {
				Entities   []map[string]json.RawMessage `json:"entities"`
				Pagination json.RawMessage              `json:"pagination"`
			}
			json.Unmarshal(a.body, &body)
			if tt.pagination != "" && string(body.Pagination) != tt.pagination {
				t.Errorf("%s: pagination %s, want %s", tt.query, body.Pagination, tt.pagination)
			}
			if tt.wantCount == -1 {
				if bytes.Contains(a.body, []byte(`"entities"`)) {
					t.Errorf("%s: count-only listing has entities: %s", tt.query, a.body)
				}
				continue
			}
			if tt.wantNames != nil {
				var names []string
				for _, e := range body.Entities {
					var n string
					json.Unmarshal(e["name"], &n)
					names = append(names, n)
				}
				if !slices.Equal(names, tt.wantNames) && !(len(names) == 0 && len(tt.wantNames) == 0) {
					t.Errorf("%s: names %q, want %q", tt.query, names, tt.wantNames)
				}
			} else if len(body.Entities) != tt.wantCount {
				t.Errorf("%s: %d entities, want %d", tt.query, len(body.Entities), tt.wantCount)
			}
			if tt.wantKeys != nil && len(body.Entities) > 0 {
				var keys []string
				for k := range body.Entities[0] {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				if !slices.Equal(keys, tt.wantKeys) {
					t.Errorf("%s: fields %q, want %q", tt.query, keys, tt.wantKeys)
				}
			}
		}
	}
}

// TestGetZone compares the answer with the golden file; the listing's
// entities have the same shape.
func TestGetZone(t *testing.T) {
	s, _ := setup(t)
	a := call(t, s, "GET", "dns/zones/1000", apiKeyAuth, "", "")
	if a.status != 200 || a.header.Get("Content-Type") != jsonType {
		t.Fatalf("HTTP %d %s", a.status, a.body)
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, a.body, "", "  ")
	pretty.WriteString("\n")
	const golden = "testdata/get-zone.json"
	if *update {
		os.WriteFile(golden, pretty.Bytes(), 0o644)
	}
	want, _ := os.ReadFile(golden)
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("GET zone:\n%s\nwant (%s):\n%s", pretty.Bytes(), golden, want)
	}
	list := call(t, s, "GET", "dns/zones?name=example.com&service=BASIC", apiKeyAuth, "", "")
	var one bytes.Buffer
	json.Compact(&one, a.body) // GET writes stored records as stored
	if !bytes.Contains(list.body, one.Bytes()) {
		t.Errorf("the listing's entity differs from GET:\n%s", list.body)
	}
	for _, p := range []string{"dns/zones/999", "dns/zones/01000", "dns/zones/abc", "dns/zones/1000/", "dns/zones/1000/stats"} {
		if a := call(t, s, "GET", p, apiKeyAuth, "", ""); a.status != 404 || len(a.body) != 0 {
			t.Errorf("GET %s: HTTP %d %q, want 404 without body", p, a.status, a.body)
		}
	}
}

func TestUpdate(t *testing.T) {
	rec := func(fields string) string { return `{"records":[` + fields + `]}` }
	tests := []struct {
		name     string
		body     string
		lists    bool
		want     int
		wantType string
		wantBody string // a fragment of the error body, compacted
		stored   int    // records stored after success; -1: unchanged
	}{
		{"valid", fileBody("testdata/update-request.json"), false, 200, "", "", 6},
		{"records omitted keep the records", `{"ttl":7200}`, false, 200, "", "", -1},
		{"empty set", `{"records":[]}`, false, 200, "", "", 0},
		{"bad JSON", `{"records":[`, false, 400, "InvalidMessage", "", -1},
		{"trailing data", `{"records":[]} {}`, false, 400, "InvalidMessage", "", -1},
		{"unknown field", `{"records":[],"name":"example.com"}`, false, 400, "UnrecognizedPropertyException", `"property":"name"`, -1},
		{"unknown record field", rec(`{"name":"example.com","type":"A","content":"192.0.2.1","id":4}`), false, 400, "UnrecognizedPropertyException", `"property":"records[0].id"`, -1},
		{"records null", `{"records":null}`, false, 400, "ConstraintViolationException", `"field":"records"`, -1},
		{"ttl out of range", `{"ttl":30}`, false, 400, "ConstraintViolationException", `"field":"ttl"`, -1},
		{"SOA", rec(`{"name":"example.com","type":"SOA","content":"x"}`), false, 400, "DnsConfigurationException", `"errors":{"0":{"type":"SOA records are managed by the system"}}`, -1},
		{"the system's NS", rec(`{"name":"example.com","type":"NS","content":"ns1.yoursrs.com"}`), false, 400, "DnsConfigurationException", `"0":{"content":"The zone's own nameservers`, -1},
		{"trailing dot in the name", rec(`{"name":"www.example.com.","type":"A","content":"192.0.2.1"}`), false, 400, "DnsConfigurationException", `"0":{"name":`, -1},
		{"relative name", rec(`{"name":"www","type":"A","content":"192.0.2.1"}`), false, 400, "DnsConfigurationException", `"0":{"name":`, -1},
		{"upper-case name", rec(`{"name":"WWW.example.com","type":"A","content":"192.0.2.1"}`), false, 400, "DnsConfigurationException", `"0":{"name":`, -1},
		{"other zone", rec(`{"name":"example.org","type":"A","content":"192.0.2.1"}`), false, 400, "DnsConfigurationException", `"0":{"name":`, -1},
		{"unknown type", rec(`{"name":"example.com","type":"SVCB","content":"1 . alpn=h2"}`), false, 400, "DnsConfigurationException", `"0":{"type":"Unknown record type"}`, -1},
		{"bare quote in TXT", rec(`{"name":"example.com","type":"TXT","content":"say \"hi\""}`), false, 400, "DnsConfigurationException", `"0":{"content":"Quotes must be escaped`, -1},
		{"lone backslash in TXT", rec(`{"name":"example.com","type":"TXT","content":"a\\b"}`), false, 400, "DnsConfigurationException", `"0":{"content":"A backslash must be escaped`, -1},
		{"TXT ending in a space", rec(`{"name":"example.com","type":"TXT","content":"v "}`), false, 400, "DnsConfigurationException", `"0":{"content":"Must not end in white space"}`, -1},
		{"MX without prio", rec(`{"name":"example.com","type":"MX","content":"mail.example.com"}`), false, 400, "DnsConfigurationException", `"0":{"prio":"This field is required for MX and SRV records"}`, -1},
		{"MX without prio, list form", rec(`{"name":"example.com","type":"MX","content":"mail.example.com"}`), true, 400, "DnsConfigurationException", `"0":{"prio":["This field is required for MX and SRV records"]}`, -1},
		{"MX target with dot", rec(`{"name":"example.com","type":"MX","content":"mail.example.com.","prio":0}`), false, 400, "DnsConfigurationException", `"0":{"content":`, -1},
		{"TXT with prio", rec(`{"name":"example.com","type":"TXT","content":"v","prio":0}`), false, 400, "DnsConfigurationException", `"0":{"prio":"Only MX and SRV records have a priority"}`, -1},
		{"record ttl too low", rec(`{"name":"example.com","type":"TXT","content":"v","ttl":30}`), false, 400, "DnsConfigurationException", `"0":{"ttl":`, -1},
		{"bad SRV", rec(`{"name":"_x._tcp.example.com","type":"SRV","content":"5 sip.example.com","prio":1}`), false, 400, "DnsConfigurationException", `"0":{"content":`, -1},
		{"bad CAA", rec(`{"name":"example.com","type":"CAA","content":"0 issue letsencrypt.org"}`), false, 400, "DnsConfigurationException", `"0":{"content":`, -1},
		{"second error indexed 1", rec(`{"name":"example.com","type":"A","content":"192.0.2.1"},{"name":"example.com","type":"AAAA","content":"192.0.2.1"}`), false, 400, "DnsConfigurationException", `"errors":{"1":{"content":"Invalid IPv6 address"}}`, -1},
		{"identical records conflict", rec(`{"name":"example.com","type":"TXT","content":"v"},{"name":"a.example.com","type":"TXT","content":"v"},{"name":"example.com","type":"TXT","content":"v","ttl":60}`), false, 400, "DnsConfigurationException", `"conflicts":{"2":[0]}`, -1},
		{"CNAME next to other data", rec(`{"name":"www.example.com","type":"A","content":"192.0.2.1"},{"name":"www.example.com","type":"CNAME","content":"example.com"}`), false, 400, "DnsConfigurationException", `"conflicts":{"1":[0]}`, -1},
		{"null MX with explicit prio 0", rec(`{"name":"example.com","type":"MX","content":".","prio":0}`), false, 200, "", "", 1},
		{"wildcard and long TXT", rec(`{"name":"*.example.com","type":"A","content":"192.0.2.1"},{"name":"example.com","type":"TXT","content":"` + strings.Repeat("y", 600) + `"}`), false, 200, "", "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := setup(t)
			s.SetListErrors(tt.lists)
			before := s.Records(1000)
			a := call(t, s, "POST", "dns/zones/1000/update", apiKeyAuth, jsonType, tt.body)
			if a.status != tt.want {
				t.Fatalf("HTTP %d %s, want %d", a.status, a.body, tt.want)
			}
			if tt.want == 200 {
				if len(a.body) != 0 {
					t.Errorf("success body %q, want none", a.body)
				}
				got := s.Records(1000)
				if tt.stored == -1 && !slices.EqualFunc(got, before, eqRecord) {
					t.Errorf("records changed: %+v", got)
				}
				if tt.stored >= 0 && len(got) != tt.stored {
					t.Errorf("%d records stored, want %d", len(got), tt.stored)
				}
				return
			}
			var compact bytes.Buffer
			json.Compact(&compact, a.body)
			if m := a.json(t); m["type"] != tt.wantType || m["message"] == "" || !strings.Contains(compact.String(), tt.wantBody) {
				t.Errorf("body %s\nwant type %s with %s", compact.String(), tt.wantType, tt.wantBody)
			}
			if !slices.EqualFunc(s.Records(1000), before, eqRecord) {
				t.Errorf("a refused update changed the zone")
			}
		})
	}
}

func eqRecord(a, b Record) bool {
	return a.Name == b.Name && a.Type == b.Type && a.Content == b.Content && a.TTL == b.TTL && eqPrio(a.Prio, b.Prio)
}

func fileBody(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestUpdateStoresAsSent: stored records come back exactly as sent, in
// order and byte for byte, with the zone TTL for records sent without one
// (those in the fake's own encoding).
func TestUpdateStoresAsSent(t *testing.T) {
	s, _ := setup(t)
	s.SetProcessID(true)
	a := call(t, s, "POST", "dns/zones/1000/update", apiKeyAuth, jsonType, fileBody("testdata/update-request.json"))
	if a.status != 200 || a.header.Get("X-Process-Id") == "" {
		t.Fatalf("HTTP %d %v %s", a.status, a.header, a.body)
	}
	var req struct{ Records []Record }
	readJSON(t, "testdata/update-request.json", &req)
	req.Records[1].TTL = 3600 // sent without ttl
	if got := s.Records(1000); !slices.EqualFunc(got, req.Records, eqRecord) {
		t.Errorf("stored %+v\nwant %+v", got, req.Records)
	}
	get := call(t, s, "GET", "dns/zones/1000", apiKeyAuth, "", "")
	if !bytes.Contains(get.body, []byte(`{"name": "example.com", "type": "MX", "content": ".", "ttl": 300, "prio": 0}`)) {
		t.Errorf("explicit prio 0 lost, or the record not as sent: %s", get.body)
	}
	if !bytes.Contains(get.body, []byte(`"records":[{"name": "example.com", "type": "A", "content": "192.0.2.1", "ttl": 3600},{"name": "www.example.com", "type": "CNAME", "content": "example.com", "ttl": 3600},`)) {
		t.Errorf("records not as sent, or the CNAME sent without ttl not stored with the zone's: %s", get.body)
	}
}

func TestZoneLifecycle(t *testing.T) {
	s, _ := setup(t)
	steps := []struct {
		method, path, body string
		want               int
		wantType           string
	}{
		{"POST", "dns/zones", `{"name":"example.org","records":[{"name":"example.org","type":"A","content":"192.0.2.9"}]}`, 201, ""},
		{"POST", "dns/zones/", `{"name":"example.org"}`, 400, "ObjectExists"},
		{"POST", "dns/zones", `{"name":"example.org","service":"PREMIUM"}`, 201, ""},
		{"POST", "dns/zones", `{"name":"Example.ORG"}`, 400, "ConstraintViolationException"},
		{"POST", "dns/zones", `{"name":"example.biz","records":[{"name":"www.example.biz","type":"A","content":"x"}]}`, 400, "DnsConfigurationException"},
		{"DELETE", "dns/zones/1003", "", 200, ""},
		{"GET", "dns/zones/1003", "", 404, ""},
		{"DELETE", "dns/zones/1000", "", 400, "ObjectStatusProhibitsOperation"},
		{"POST", "dns/zones/1000/update", `{"ns":["ns1.example.net"]}`, 400, "ValidationError"},
		{"POST", "dns/zones/1000/update", `{"dnssec":true}`, 400, "ValidationError"},
		{"POST", "dns/zones/1000/update", `{"dnssec":false,"records":[]}`, 200, ""},
		{"PUT", "dns/zones/1000", `{}`, 405, ""},
	}
	for _, st := range steps {
		a := call(t, s, st.method, st.path, apiKeyAuth, jsonType, st.body)
		if a.status != st.want {
			t.Fatalf("%s %s: HTTP %d %s, want %d", st.method, st.path, a.status, a.body, st.want)
		}
		if st.wantType != "" && a.json(t)["type"] != st.wantType {
			t.Errorf("%s %s: body %s, want type %s", st.method, st.path, a.body, st.wantType)
		}
		if st.want == 201 {
			loc := a.header.Get("Location")
			if id := a.json(t)["id"]; id == nil || !strings.HasSuffix(loc, "/v2/dns/zones/"+itoa(int64(id.(float64)))) {
				t.Errorf("create: body %s, Location %q", a.body, loc)
			}
		}
	}
	if id := s.ZoneID("example.org", Premium); id != 1004 || len(s.Records(id)) != 0 {
		t.Errorf("PREMIUM example.org: id %d", id)
	}
}

func TestDomains(t *testing.T) {
	s, _ := setup(t)
	tests := []struct {
		method, path, body string
		want               int
		wantBody           string
	}{
		{"GET", "domains/example.com", "", 200, `"zone":{"dnssec":false,"id":1000,"service":"BASIC"}`},
		{"GET", "domains/example.com", "", 200, `"ns":["ns1.yoursrs.com","ns2.yoursrs.com"]`},
		{"GET", "domains/example.org", "", 400, `"identifier":"example.org","message":"A referenced object does not exist","objectType":"Domain","type":"ObjectDoesNotExist"`},
		{"GET", "domains/example.com/zone", "", 200, `"id":1000,"name":"example.com"`},
		{"POST", "domains/example.com/zone/update", `{"records":[]}`, 200, ""},
		{"GET", "domains/example.net/zone", "", 400, `"identifier":"example.org"`},
	}
	s.AddDomain(Domain{Name: "example.net"})
	tests[len(tests)-1].wantBody = `"identifier":"example.net","message":"A referenced object does not exist","objectType":"Zone"`
	for _, tt := range tests {
		a := call(t, s, tt.method, tt.path, apiKeyAuth, jsonType, tt.body)
		var compact bytes.Buffer
		json.Compact(&compact, a.body)
		if a.status != tt.want || !strings.Contains(compact.String(), tt.wantBody) {
			t.Errorf("%s %s: HTTP %d %s, want %d with %s", tt.method, tt.path, a.status, compact.String(), tt.want, tt.wantBody)
		}
	}
	if n := len(s.Records(1000)); n != 0 {
		t.Errorf("domain zone update left %d records", n)
	}
}

func TestPermissions(t *testing.T) {
	s, _ := setup(t)
	s.AddAPIKey("view-only-key", ViewDNSZone)
	auth := "ApiKey view-only-key"
	if a := call(t, s, "GET", "dns/zones/1000", auth, "", ""); a.status != 200 {
		t.Errorf("view: HTTP %d", a.status)
	}
	for _, p := range []struct{ method, path, body string }{
		{"POST", "dns/zones/1000/update", `{"records":[]}`},
		{"GET", "domains/example.com", ""},
		{"POST", "dns/zones", `{"name":"example.org"}`},
	} {
		a := call(t, s, p.method, p.path, auth, jsonType, p.body)
		if a.status != 403 || a.json(t)["type"] != "AuthorizationError" {
			t.Errorf("%s %s: HTTP %d %s, want 403 AuthorizationError", p.method, p.path, a.status, a.body)
		}
	}
}

func TestFaultsAndCounters(t *testing.T) {
	tests := []struct {
		fault    Fault
		want     int
		wantType string
	}{
		{FaultRateLimit, 429, "TooManyRequests"},
		{FaultRateLimitRetryAfter, 429, "TooManyRequests"},
		{FaultServerError, 500, "InternalSRSError"},
		{FaultBadGateway, 502, "ProviderConnectionError"},
		{FaultUnavailable, 503, "ProviderUnavailable"},
		{FaultBadGatewayHTML, 502, ""},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			s, _ := setup(t)
			s.FailNext(1, tt.fault)
			a := call(t, s, "POST", "dns/zones/1000/update", apiKeyAuth, jsonType, `{"records":[]}`)
			if a.status != tt.want {
				t.Fatalf("HTTP %d, want %d", a.status, tt.want)
			}
			if tt.wantType != "" && a.json(t)["type"] != tt.wantType {
				t.Errorf("body %s", a.body)
			}
			if tt.fault == FaultRateLimitRetryAfter && a.header.Get("Retry-After") != "1" {
				t.Errorf("no Retry-After")
			}
			if len(s.Records(1000)) == 0 {
				t.Errorf("a faulted request changed the zone")
			}
			if a := call(t, s, "GET", "dns/zones/1000", apiKeyAuth, "", ""); a.status != 200 {
				t.Errorf("after the fault: HTTP %d", a.status)
			}
			want := map[string]int{EndpointUpdateZone: 1, EndpointGetZone: 1}
			if got := s.Requests(); len(got) != 2 || got[EndpointUpdateZone] != 1 || got[EndpointGetZone] != 1 {
				t.Errorf("counters %v, want %v", got, want)
			}
			if s.CountStatus(tt.want) != 1 || s.CountStatus(200) != 1 {
				t.Errorf("status counters wrong")
			}
		})
	}
	t.Run("DropConnection", func(t *testing.T) {
		s, _ := setup(t)
		s.FailNext(1, FaultDropConnection)
		req, _ := http.NewRequest("GET", s.URL+"dns/zones", nil)
		req.Header.Set("Authorization", apiKeyAuth)
		req.Close = true
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("HTTP %d, want a transport error", resp.StatusCode)
		}
	})
	t.Run("every request counts once", func(t *testing.T) {
		s, _ := setup(t)
		call(t, s, "GET", "dns/zones", "", "", "")
		call(t, s, "GET", "nowhere", apiKeyAuth, "", "")
		call(t, s, "POST", "session", basicAuth, jsonType, "")
		call(t, s, "GET", "domains/example.com", apiKeyAuth, "", "")
		call(t, s, "GET", "domains/example.com/zone", apiKeyAuth, "", "")
		want := map[string]int{EndpointListZones: 1, EndpointOther: 1, EndpointCreateSession: 1, EndpointGetDomain: 1, EndpointGetDomainZone: 1}
		if got := s.Requests(); !mapsEqual(got, want) {
			t.Errorf("counters %v, want %v", got, want)
		}
		s.ResetCounts()
		if len(s.Requests()) != 0 || s.CountStatus(401) != 0 {
			t.Errorf("ResetCounts left %v", s.Requests())
		}
	})
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestZones: the DNS view serves the domain's linked zone, converts the
// record model to zone-file data and leaves the system records out.
func TestZones(t *testing.T) {
	s, _ := setup(t)
	got := s.Zones()
	if len(got) != 2 {
		t.Fatalf("zones %v", got)
	}
	want := []libdns.RR{
		{Name: "@", TTL: 900 * time.Second, Type: "A", Data: "192.0.2.1"},
		{Name: "@", TTL: time.Hour, Type: "MX", Data: "10 mail.example.com."},
		{Name: "www", TTL: time.Hour, Type: "CNAME", Data: "example.com."},
		{Name: "quotes", TTL: 300 * time.Second, Type: "TXT", Data: `say "hello" \ bye`},
		{Name: "_sip._tcp", TTL: time.Hour, Type: "SRV", Data: "10 60 5060 sip.example.com."},
		{Name: "@", TTL: time.Hour, Type: "CAA", Data: `0 issue "letsencrypt.org"`},
	}
	if !slices.Equal(got["example.com."], want) {
		t.Errorf("example.com.:\n%v\nwant\n%v", got["example.com."], want)
	}
	// With the link gone, BASIC wins over PREMIUM.
	s2 := NewServer()
	defer s2.Close()
	s2.AddZone(Zone{Name: "example.com", Service: Premium, Records: []Record{{Name: "example.com", Type: "A", Content: "192.0.2.7"}}})
	s2.AddZone(Zone{Name: "example.com", Records: []Record{{Name: "example.com", Type: "A", Content: "192.0.2.8"}}})
	if rr := s2.Zones()["example.com."]; len(rr) != 1 || rr[0].Data != "192.0.2.8" || rr[0].TTL != time.Hour {
		t.Errorf("unlinked zones: %v", rr)
	}
}
