package xyntatest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/xynta/xyntatest"
)

const (
	testUID  = "40917"
	testHash = "a1b2c3d4e5f6a7b8c9d0"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seed returns the records of testdata/example.nl.json, one JSON object each.
func seed(t *testing.T) []json.RawMessage {
	t.Helper()
	var recs []json.RawMessage
	if err := json.Unmarshal(fixture(t, "example.nl.json"), &recs); err != nil {
		t.Fatal(err)
	}
	return recs
}

func newFake(t *testing.T) *xyntatest.Server {
	t.Helper()
	s := xyntatest.NewServer()
	t.Cleanup(s.Close)
	s.AddCredentials(testUID, testHash)
	s.AddDomain("example.nl", seed(t)...)
	s.AddDomain("Example.CO.uk.")
	return s
}

// form returns a valid request form for action with extra fields.
func form(action string, kv ...string) url.Values {
	f := url.Values{"uid": {testUID}, "hash": {testHash}, "m": {"domains"}, "a": {action}, "t": {""}, "test": {""}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

type req struct {
	method, path, contentType, body string
}

func post(f url.Values) req {
	return req{http.MethodPost, "/", "application/x-www-form-urlencoded", f.Encode()}
}

func do(t *testing.T, base string, r req) (int, []byte) {
	t.Helper()
	hr, err := http.NewRequest(r.method, strings.TrimSuffix(base, "/")+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	return resp.StatusCode, body
}

func status(t *testing.T, body []byte) string {
	t.Helper()
	var env map[string]struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	return env["0"].Status
}

func sameJSON(t *testing.T, got, want []byte) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &b); err != nil {
		t.Fatalf("invalid JSON %s: %v", want, err)
	}
	return reflect.DeepEqual(a, b)
}

func TestAnswersMatchFixtures(t *testing.T) {
	s := newFake(t)
	tests := []struct {
		name    string
		form    url.Values
		fixture string
	}{
		{"list", form("list"), "list.json"},
		{"show-dns-zone", form("show-dns-zone", "Domain", "example", "Tld", "nl"), "show-dns-zone.json"},
		{"edit-dns-zone", form("edit-dns-zone", "Domain", "example", "Tld", "nl", "DNSZone", string(fixture(t, "edit-dns-zone-request.json"))), "edit-dns-zone.json"},
		{"bad hash", form("list", "hash", "wrong-hash-000"), "not-authorized.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(t, s.URL, post(tt.form))
			if code != http.StatusOK || !sameJSON(t, body, fixture(t, tt.fixture)) {
				t.Fatalf("HTTP %d %s\nwant (testdata/%s) %s", code, body, tt.fixture, fixture(t, tt.fixture))
			}
		})
	}
	// The edit replaced the zone with exactly the records sent, unknown key
	// and all, each compacted but otherwise byte for byte.
	var want struct{ Records []json.RawMessage }
	json.Unmarshal(fixture(t, "edit-dns-zone-request.json"), &want)
	got := s.Records("example.nl")
	if len(got) != len(want.Records) {
		t.Fatalf("stored %d records, want %d", len(got), len(want.Records))
	}
	for i := range got {
		var c bytes.Buffer
		json.Compact(&c, want.Records[i])
		if !bytes.Equal(got[i], c.Bytes()) {
			t.Errorf("record %d stored as %s, want %s", i, got[i], c.Bytes())
		}
	}
}

func TestShowServesStoredBytes(t *testing.T) {
	s := newFake(t)
	_, body := do(t, s.URL, post(form("show-dns-zone", "Domain", "example", "Tld", "nl")))
	for _, r := range s.Records("example.nl") {
		if !bytes.Contains(body, r) {
			t.Errorf("answer lacks record %s verbatim (HTML escaping?):\n%s", r, body)
		}
	}
}

func TestRefusals(t *testing.T) {
	dnsZone := func(z string) url.Values {
		return form("edit-dns-zone", "Domain", "example", "Tld", "nl", "DNSZone", z)
	}
	rec := `{"name":"@","type":"A","value":"192.0.2.1","ttl":60}`
	tests := []struct {
		name   string
		req    req
		code   int
		status string
	}{
		{"GET", req{http.MethodGet, "/", "", ""}, 405, "invalid-request"},
		{"other path", req{http.MethodPost, "/api/", "application/x-www-form-urlencoded", form("list").Encode()}, 404, "invalid-request"},
		{"JSON body", req{http.MethodPost, "/", "application/json", `{"uid":"40917","hash":"a1b2c3d4e5f6a7b8c9d0","m":"domains","a":"list","t":"","test":""}`}, 400, "invalid-request"},
		{"no content type", req{http.MethodPost, "/", "", form("list").Encode()}, 400, "invalid-request"},
		{"fields in the query", req{http.MethodPost, "/?" + form("list").Encode(), "application/x-www-form-urlencoded", ""}, 400, "invalid-request"},
		{"field twice", req{http.MethodPost, "/", "application/x-www-form-urlencoded", form("list").Encode() + "&a=list"}, 400, "invalid-request"},
		{"no uid", post(form("list", "uid", "")), 200, "not-authorized"},
		{"hash of another uid", post(form("list", "uid", "1")), 200, "not-authorized"},
		{"other module", post(form("list", "m", "hosting")), 200, "invalid-module"},
		{"unknown action", post(form("show")), 200, "invalid-action"},
		{"t missing", post(func() url.Values { f := form("list"); f.Del("t"); return f }()), 400, "invalid-request"},
		{"test not empty", post(form("list", "test", "1")), 400, "invalid-request"},
		{"unknown field", post(form("list", "Domain", "example")), 400, "invalid-request"},
		{"show without Tld", post(form("show-dns-zone", "Domain", "example")), 400, "invalid-request"},
		{"show unknown domain", post(form("show-dns-zone", "Domain", "example", "Tld", "org")), 200, "not-found-domain"},
		{"multi-label Tld split wrongly", post(form("show-dns-zone", "Domain", "example.co", "Tld", "uk")), 200, "not-found-domain"},
		{"whole name as Domain", post(form("show-dns-zone", "Domain", "example.nl", "Tld", "nl")), 200, "not-found-domain"},
		{"upper-case Domain", post(form("show-dns-zone", "Domain", "Example", "Tld", "nl")), 200, "not-found-domain"},
		{"DNSZone missing", post(form("edit-dns-zone", "Domain", "example", "Tld", "nl")), 200, "invalid-dns-zone"},
		{"DNSZone empty string", post(dnsZone("")), 200, "invalid-dns-zone"},
		{"DNSZone no records", post(dnsZone(`{"records":[]}`)), 200, "invalid-dns-zone"},
		{"DNSZone records null", post(dnsZone(`{"records":null}`)), 200, "invalid-dns-zone"},
		{"DNSZone a bare list", post(dnsZone(`[` + rec + `]`)), 200, "invalid-dns-zone"},
		{"DNSZone extra key", post(dnsZone(`{"records":[` + rec + `],"soa":{}}`)), 200, "invalid-dns-zone"},
		{"DNSZone trailing data", post(dnsZone(`{"records":[` + rec + `]} x`)), 200, "invalid-dns-zone"},
		{"record capitalised keys", post(dnsZone(`{"records":[{"Name":"@","Type":"A","Value":"192.0.2.1","ttl":60}]}`)), 200, "invalid-dns-zone"},
		{"record unknown key", post(dnsZone(`{"records":[{"name":"@","type":"A","value":"192.0.2.1","ttl":60,"prio":0}]}`)), 200, "invalid-dns-zone"},
		{"record without ttl", post(dnsZone(`{"records":[{"name":"@","type":"A","value":"192.0.2.1"}]}`)), 200, "invalid-dns-zone"},
		{"record ttl as string", post(dnsZone(`{"records":[{"name":"@","type":"A","value":"192.0.2.1","ttl":"60"}]}`)), 200, "invalid-dns-zone"},
		{"record FQDN name", post(dnsZone(`{"records":[{"name":"www.example.nl.","type":"A","value":"192.0.2.1","ttl":60}]}`)), 200, "invalid-dns-zone"},
		{"record empty name", post(dnsZone(`{"records":[{"name":"","type":"A","value":"192.0.2.1","ttl":60}]}`)), 200, "invalid-dns-zone"},
		{"record lower-case type", post(dnsZone(`{"records":[{"name":"@","type":"a","value":"192.0.2.1","ttl":60}]}`)), 200, "invalid-dns-zone"},
		{"record bad address", post(dnsZone(`{"records":[{"name":"@","type":"A","value":"2001:db8::1","ttl":60}]}`)), 200, "invalid-dns-zone"},
		{"record empty value", post(dnsZone(`{"records":[{"name":"x","type":"TXT","value":"","ttl":60}]}`)), 200, "invalid-dns-zone"},
		{"duplicate records", post(dnsZone(`{"records":[` + rec + `,` + rec + `]}`)), 200, "invalid-dns-zone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFake(t)
			before := s.Records("example.nl")
			code, body := do(t, s.URL, tt.req)
			if code != tt.code || status(t, body) != tt.status {
				t.Fatalf("HTTP %d %s; want HTTP %d status %q", code, body, tt.code, tt.status)
			}
			if got := s.Records("example.nl"); !reflect.DeepEqual(got, before) {
				t.Errorf("a refused request changed the zone")
			}
		})
	}
}

func TestKeysTheFakeServedGoBack(t *testing.T) {
	s := newFake(t)
	// "id" was served with the MX record, so it may come back, on any record.
	z := `{"records":[{"name":"@","type":"MX","value":"10 mail.example.nl.","ttl":3600,"id":4711},{"name":"x","type":"TXT","value":"v","ttl":60,"id":1}]}`
	code, body := do(t, s.URL, post(form("edit-dns-zone", "Domain", "example", "Tld", "nl", "DNSZone", z)))
	if code != 200 || status(t, body) != "success" {
		t.Fatalf("HTTP %d %s", code, body)
	}
	// Now no stored record lacks it, but "prio" was never served.
	z = `{"records":[{"name":"@","type":"MX","value":"10 mail.example.nl.","ttl":3600,"prio":10}]}`
	if _, body := do(t, s.URL, post(form("edit-dns-zone", "Domain", "example", "Tld", "nl", "DNSZone", z))); status(t, body) != "invalid-dns-zone" {
		t.Fatalf("unserved key accepted: %s", body)
	}
}

func TestMultiLabelTld(t *testing.T) {
	s := newFake(t)
	z := `{"records":[{"name":"_acme-challenge.www","type":"TXT","value":"tok","ttl":120},{"name":"*.www","type":"A","value":"192.0.2.2","ttl":120}]}`
	if code, body := do(t, s.URL, post(form("edit-dns-zone", "Domain", "example", "Tld", "co.uk", "DNSZone", z))); code != 200 || status(t, body) != "success" {
		t.Fatalf("HTTP %d %s", code, body)
	}
	want := map[string][]libdns.RR{
		"example.co.uk.": {
			{Name: "_acme-challenge.www", TTL: 120 * time.Second, Type: "TXT", Data: "tok"},
			{Name: "*.www", TTL: 120 * time.Second, Type: "A", Data: "192.0.2.2"},
		},
	}
	if got := s.Zones()["example.co.uk."]; !reflect.DeepEqual(got, want["example.co.uk."]) {
		t.Fatalf("Zones = %+v", got)
	}
	if got := s.Zones()["example.nl."]; len(got) != 4 || got[2] != (libdns.RR{Name: "@", TTL: time.Hour, Type: "MX", Data: "10 mail.example.nl."}) {
		t.Fatalf("example.nl. = %+v", got)
	}
}

// TestIPv4Only serves the fake on an IPv6 loopback listener too: requests
// from there are refused like a hash used from a non-whitelisted address.
func TestIPv4Only(t *testing.T) {
	s := newFake(t)
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	srv := &http.Server{Handler: s}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	v6 := "http://" + ln.Addr().String() + "/"
	tests := []struct {
		name     string
		base     string
		ipv4Only bool
		want     string
	}{
		{"IPv4 source", s.URL, true, "success"},
		{"IPv6 source", v6, true, "not-authorized"},
		{"IPv6 source allowed", v6, false, "success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.SetIPv4Only(tt.ipv4Only)
			if _, body := do(t, tt.base, post(form("list"))); status(t, body) != tt.want {
				t.Fatalf("answer %s, want status %q", body, tt.want)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		fault xyntatest.Fault
		code  int // 0: the connection is dropped
	}{
		{xyntatest.FaultRateLimit, 429},
		{xyntatest.FaultRateLimitRetryAfter, 429},
		{xyntatest.FaultServerError, 500},
		{xyntatest.FaultBadGatewayHTML, 502},
		{xyntatest.FaultDropConnection, 0},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			s := newFake(t)
			s.FailNext(1, tt.fault)
			f := form("edit-dns-zone", "Domain", "example", "Tld", "nl", "DNSZone", `{"records":[{"name":"@","type":"A","value":"192.0.2.9","ttl":60}]}`)
			resp, err := http.PostForm(s.URL, f)
			if tt.code == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatal("the connection was not dropped")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.code {
					t.Fatalf("HTTP %d, want %d", resp.StatusCode, tt.code)
				}
				if ra := resp.Header.Get("Retry-After"); (ra == "1") != (tt.fault == xyntatest.FaultRateLimitRetryAfter) {
					t.Errorf("Retry-After = %q", ra)
				}
			}
			if len(s.Records("example.nl")) != 4 {
				t.Fatal("a faulted request changed the zone")
			}
			// The fault is used up; the same request now succeeds.
			if _, body := do(t, s.URL, post(f)); status(t, body) != "success" {
				t.Fatalf("after the fault: %s", body)
			}
			if n := s.Count(xyntatest.EndpointEditZone); n != 2 {
				t.Errorf("edit-dns-zone counted %d times, want 2", n)
			}
		})
	}
}

func TestDropOnWrite(t *testing.T) {
	s := newFake(t)
	s.DropOnWrite(1)
	var z bytes.Buffer
	json.Compact(&z, fixture(t, "edit-dns-zone-request.json"))
	for i, want := range []int{4, 5} { // the first write loses its last record, the second does not
		if _, body := do(t, s.URL, post(form("edit-dns-zone", "Domain", "example", "Tld", "nl", "DNSZone", z.String()))); status(t, body) != "success" {
			t.Fatalf("write %d: %s", i, body)
		}
		if got := len(s.Records("example.nl")); got != want {
			t.Fatalf("write %d: %d records stored, want %d", i, got, want)
		}
	}
}

func TestCounters(t *testing.T) {
	s := newFake(t)
	do(t, s.URL, post(form("list")))
	do(t, s.URL, post(form("list", "hash", "nope-nope")))
	do(t, s.URL, post(form("show-dns-zone", "Domain", "example", "Tld", "nl")))
	do(t, s.URL, req{http.MethodPost, "/", "application/json", `{"a":"list"}`})
	do(t, s.URL, post(form("nothing")))
	want := map[string]int{xyntatest.EndpointList: 2, xyntatest.EndpointShowZone: 1, xyntatest.EndpointOther: 2}
	if got := s.Requests(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Requests = %v, want %v", got, want)
	}
	s.ResetCounts()
	if got := s.Requests(); len(got) != 0 {
		t.Fatalf("after ResetCounts: %v", got)
	}
}

func TestLatencyEndsWithClose(t *testing.T) {
	s := newFake(t)
	s.SetLatency(time.Hour)
	done := make(chan error, 1)
	go func() {
		resp, err := http.PostForm(s.URL, form("list"))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for s.Count(xyntatest.EndpointList) == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a request waiting out its latency was answered after Close")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the latency")
	}
}

func TestAddDomainPanicsOnInvalidInput(t *testing.T) {
	tests := []struct {
		name    string
		domain  string
		records []json.RawMessage
	}{
		{"no extension", "localhost", nil},
		{"record not an object", "example.nl", []json.RawMessage{json.RawMessage(`[]`)}},
		{"record FQDN name", "example.nl", []json.RawMessage{xyntatest.Record{Name: "www.example.nl.", Type: "A", Value: "192.0.2.1", TTL: 60}.JSON()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			xyntatest.NewServer().AddDomain(tt.domain, tt.records...)
		})
	}
}

func TestRecordJSONAndParse(t *testing.T) {
	r := xyntatest.Record{Name: "_dmarc", Type: "TXT", Value: `v=DMARC1; rua=mailto:"d"@example.nl <&>`, TTL: 300}
	want := `{"name":"_dmarc","type":"TXT","value":"v=DMARC1; rua=mailto:\"d\"@example.nl <&>","ttl":300}`
	if got := string(r.JSON()); got != want {
		t.Fatalf("JSON = %s\nwant %s", got, want)
	}
	if got := xyntatest.Parse(r.JSON()); got != r {
		t.Fatalf("Parse = %+v", got)
	}
	if got := xyntatest.Parse(json.RawMessage(`{"name":"x","ttl":"60"}`)); got != (xyntatest.Record{Name: "x"}) {
		t.Fatalf("Parse of a partial record: %+v", got)
	}
}
