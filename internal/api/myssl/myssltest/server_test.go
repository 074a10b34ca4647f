package myssltest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const key = "myssl_k_fake-test-0b1c2d"

func start(t *testing.T) *Server {
	t.Helper()
	s := NewServer()
	t.Cleanup(s.Close)
	s.AddKey(key)
	return s
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// call sends one raw request; auth "" sends no Authorization header.
func call(t *testing.T, s *Server, method, path, auth, ctype, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
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
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	json.Unmarshal(raw, &a.body)
	return a
}

func get(t *testing.T, s *Server, path string) answer {
	return call(t, s, "GET", path, "Bearer "+key, "", "")
}

func post(t *testing.T, s *Server, path, body string) answer {
	return call(t, s, "POST", path, "Bearer "+key, "application/json", body)
}

func TestAuthentication(t *testing.T) {
	s := start(t)
	const revoked = "myssl_k_gone-99"
	s.AddKey(revoked)
	s.RevokeKey(revoked)
	tests := []struct {
		auth, wantErr, wantMsg string
	}{
		{"", "Authentication required", "Please provide a valid API key in the Authorization header"},
		{"Bearer nope", "Authentication required", "Please provide a valid API key in the Authorization header"},
		{"Token " + key, "Authentication required", "Please provide a valid API key in the Authorization header"},
		{"Bearer myssl_k_", "Authentication required", "Please provide a valid API key in the Authorization header"},
		{"Bearer myssl_k_unknown", "Invalid API key", msgInvalidKey},
		{"Bearer " + revoked, "Invalid API key", msgInvalidKey},
	}
	for _, tt := range tests {
		a := call(t, s, "GET", "domains", tt.auth, "", "")
		if a.status != 401 || a.body["error"] != tt.wantErr || a.body["message"] != tt.wantMsg {
			t.Errorf("%q: %d %s", tt.auth, a.status, a.raw)
		}
		if a.header.Get("X-RateLimit-Limit") == "" || a.header.Get("X-Daily-Remaining") == "" {
			t.Errorf("%q: no rate-limit headers on a 401: %v", tt.auth, a.header)
		}
	}
	if a := get(t, s, "domains"); a.status != 200 {
		t.Errorf("valid key: %d %s", a.status, a.raw)
	}
	if s.CountStatus(401) != len(tests) || s.Count(EndpointListDomains) != len(tests)+1 {
		t.Errorf("counted %d 401s, %d requests", s.CountStatus(401), s.Count(EndpointListDomains))
	}
}

func TestAddKeyRefusesForeignKeys(t *testing.T) {
	s := start(t)
	defer func() {
		if recover() == nil {
			t.Error("AddKey took a key MySSL would not issue")
		}
	}()
	s.AddKey("sk-live-123")
}

// TestRateLimitHeaders checks the documented headers on every answer and
// the sliding minute per key, on a clock the test moves.
func TestRateLimitHeaders(t *testing.T) {
	s := start(t)
	const other = "myssl_k_second-key"
	s.AddKey(other)
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 23, 58, 0, 0, time.UTC)
	s.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s.SetPlan(Plan{Name: "test", PerMinute: 3, Daily: 5, Concurrent: 1})

	for i := range 3 {
		a := get(t, s, "domains/404") // a 404 counts and carries the headers too
		if a.status != 404 || a.header.Get("X-RateLimit-Limit") != "3" || a.header.Get("X-RateLimit-Remaining") != strconv.Itoa(2-i) ||
			a.header.Get("X-Daily-Limit") != "5" || a.header.Get("X-Daily-Remaining") != strconv.Itoa(4-i) {
			t.Fatalf("request %d: %d %v", i, a.status, a.header)
		}
		if reset := a.header.Get("X-RateLimit-Reset"); reset != strconv.FormatInt(time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC).Unix(), 10) {
			t.Errorf("request %d: reset %s, want the first request's time + 60 s", i, reset)
		}
		advance(time.Second)
	}
	a := get(t, s, "domains")
	if a.status != 429 || a.header.Get("X-RateLimit-Remaining") != "0" || a.body["error"] != "Rate limit exceeded" {
		t.Fatalf("4th request in a minute: %d %s %v", a.status, a.raw, a.header)
	}
	// The limit is per key; the day is the account's.
	if a := call(t, s, "GET", "domains", "Bearer "+other, "", ""); a.status != 200 || a.header.Get("X-Daily-Remaining") != "1" {
		t.Fatalf("other key: %d %v", a.status, a.header)
	}
	advance(57 * time.Second) // the first request leaves the window
	if a := get(t, s, "domains"); a.status != 200 || a.header.Get("X-Daily-Remaining") != "0" {
		t.Fatalf("after the window slid: %d %v", a.status, a.header)
	}
	advance(2 * time.Second)
	a = get(t, s, "domains")
	if a.status != 429 || a.header.Get("X-Daily-Remaining") != "0" || !strings.Contains(a.raw, "Daily limit of 5") {
		t.Fatalf("6th request of the day: %d %s %v", a.status, a.raw, a.header)
	}
	advance(time.Minute) // past midnight UTC
	if a := get(t, s, "domains"); a.status != 200 || a.header.Get("X-Daily-Remaining") != "4" {
		t.Fatalf("next day: %d %v", a.status, a.header)
	}
}

func TestListDomains(t *testing.T) {
	s := start(t)
	s.SetPlan(Business)
	for i := range 45 {
		s.AddDomain("host"+strconv.Itoa(i)+".example.com", 443)
	}
	last := time.Date(2026, 1, 12, 10, 30, 0, 0, time.UTC)
	s.AddScannedDomain("graded.example.org", 8443, Result{Grade: "A+", Score: 100, Expiry: time.Now().Add(365 * 24 * time.Hour), Issuer: "R3"}, last)

	a := get(t, s, "domains")
	p := a.body["pagination"].(map[string]any)
	if a.status != 200 || len(a.body["domains"].([]any)) != 20 || p["page"] != 1.0 || p["per_page"] != 20.0 || p["total"] != 46.0 || p["pages"] != 3.0 || p["has_next"] != true || p["has_prev"] != false {
		t.Fatalf("default page: %d %v", a.status, p)
	}
	a = get(t, s, "domains?page=3&per_page=20")
	if p := a.body["pagination"].(map[string]any); len(a.body["domains"].([]any)) != 6 || p["has_next"] != false || p["has_prev"] != true {
		t.Errorf("last page: %s", a.raw)
	}
	a = get(t, s, "domains?grade=A%2B&search=GRADED")
	ds := a.body["domains"].([]any)
	if len(ds) != 1 {
		t.Fatalf("grade and search: %s", a.raw)
	}
	d := ds[0].(map[string]any)
	want := map[string]any{"hostname": "graded.example.org", "port": 8443.0, "ssl_grade": "A+", "ssl_score": 100.0, "last_scan": "2026-01-12T10:30:00Z", "is_active": true, "monitoring_frequency": "daily"}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("%s = %v, want %v", k, d[k], v)
		}
	}
	for _, k := range []string{"id", "certificate_expiry", "days_until_expiry", "created_at"} {
		if _, ok := d[k]; !ok {
			t.Errorf("no %s in %v", k, d)
		}
	}
	if a := get(t, s, "domains?status=active&per_page=100"); len(a.body["domains"].([]any)) != 46 {
		t.Errorf("active: %d", len(a.body["domains"].([]any)))
	}
	if a := get(t, s, "domains?status=expiring"); len(a.body["domains"].([]any)) != 0 {
		t.Errorf("expiring: %s", a.raw)
	}
	for _, q := range []string{"per_page=101", "per_page=0", "page=0", "status=expired", "grade=A-", "sort=hostname"} {
		if a := get(t, s, "domains?"+q); a.status != 400 {
			t.Errorf("%s: %d %s", q, a.status, a.raw)
		}
	}
	// One domain: the listing's fields, the issuer and the scan history.
	id := strconv.Itoa(int(d["id"].(float64)))
	a = get(t, s, "domains/"+id)
	dd := a.body["domain"].(map[string]any)
	if a.status != 200 || dd["hostname"] != "graded.example.org" || dd["certificate"].(map[string]any)["issuer"] != "R3" {
		t.Errorf("GET domains/%s: %s", id, a.raw)
	}
}

func TestScans(t *testing.T) {
	s := start(t)
	s.SetPlan(Pro)
	s.SetAutoFinish(-1)
	a := post(t, s, "scans", `{"hostname":"Example.COM","port":443,"scan_type":"quick"}`)
	sc := a.body["scan"].(map[string]any)
	if a.status != 202 || sc["hostname"] != "example.com" || sc["status"] != "pending" || sc["scan_type"] != "quick" || sc["port"] != 443.0 || sc["created_at"] == nil || sc["id"] == nil {
		t.Fatalf("POST scans: %d %s", a.status, a.raw)
	}
	id := strconv.Itoa(int(sc["id"].(float64)))
	bad := []struct{ ctype, body string }{
		{"application/json", `{"hostname":"a.example","domain_id":1}`},
		{"application/json", `{}`},
		{"application/json", `{"hostname":"a.example","scan_type":"deep"}`},
		{"application/json", `{"hostname":"a.example","port":0}`},
		{"application/json", `{"hostname":"a.example","extra":true}`},
		{"application/json", `{"domain_id":1,"port":443}`},
		{"text/plain", `{"hostname":"a.example"}`},
		{"application/json", `{"hostname":"a.example"} {}`},
	}
	for _, b := range bad {
		if a := call(t, s, "POST", "scans", "Bearer "+key, b.ctype, b.body); a.status != 400 {
			t.Errorf("%s %s: %d %s", b.ctype, b.body, a.status, a.raw)
		}
	}
	if a := post(t, s, "scans", `{"domain_id":4242}`); a.status != 404 {
		t.Errorf("unknown domain_id: %d", a.status)
	}
	if n := len(s.Scans()); n != 1 {
		t.Errorf("%d scans recorded, want 1", n)
	}

	// The status path: 404 when off (the default), the scan when on.
	if a := get(t, s, "scans/"+id); a.status != 404 {
		t.Errorf("scan status while off: %d", a.status)
	}
	s.SetScanStatus(true)
	if a := get(t, s, "scans/"+id); a.status != 200 || a.body["scan"].(map[string]any)["status"] != "pending" {
		t.Errorf("scan status: %d %s", a.status, a.raw)
	}
	s.SetResult("example.com", Result{Grade: "C", Score: 55, Expiry: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), Issuer: "Test CA"})
	if !s.Finish(id) || s.Finish(id) {
		t.Error("Finish did not finish the pending scan exactly once")
	}
	a = get(t, s, "scans/"+id)
	sc = a.body["scan"].(map[string]any)
	if sc["status"] != "completed" || sc["ssl_grade"] != "C" || sc["ssl_score"] != 55.0 || sc["certificate_expiry"] != "2031-01-01T00:00:00Z" || sc["certificate"].(map[string]any)["issuer"] != "Test CA" {
		t.Errorf("finished scan: %s", a.raw)
	}
	if a := get(t, s, "scans/999999"); a.status != 404 {
		t.Errorf("unknown scan: %d", a.status)
	}
}

func TestCreateDomainSwitch(t *testing.T) {
	s := start(t)
	s.SetPlan(Pro)
	if a := post(t, s, "domains", `{"hostname":"example.com","port":443}`); a.status != 404 {
		t.Errorf("while off: %d", a.status)
	}
	s.SetCreateDomain(true)
	a := post(t, s, "domains", `{"hostname":"example.com","port":443}`)
	if a.status != 201 || a.body["domain"].(map[string]any)["hostname"] != "example.com" {
		t.Errorf("on: %d %s", a.status, a.raw)
	}
	if a := post(t, s, "domains", `{"hostname":"example.com"}`); a.status != 409 {
		t.Errorf("twice: %d", a.status)
	}
	if got := s.Monitored(); len(got) != 1 || got[0] != "example.com:443" {
		t.Errorf("Monitored = %v", got)
	}
}

// TestScanLifecycle checks auto-finishing by reads, the result shown on the
// monitored domain, and the plan's concurrent scans.
func TestScanLifecycle(t *testing.T) {
	s := start(t)
	id := s.AddDomain("example.com", 443)
	s.SetAutoFinish(1)
	s.SetResult("example.com", Result{Grade: "B", Score: 80, Expiry: time.Now().Add(48 * time.Hour), Issuer: "X"})

	a := post(t, s, "scans", `{"hostname":"example.com"}`) // by hostname: the monitored domain is updated
	scanID := strconv.Itoa(int(a.body["scan"].(map[string]any)["id"].(float64)))
	if a := post(t, s, "scans", `{"hostname":"other.example"}`); a.status != 429 || a.body["error"] != "Concurrent scan limit reached" {
		t.Errorf("second scan on the Free plan: %d %s", a.status, a.raw)
	}
	d := get(t, s, "domains/"+id).body["domain"].(map[string]any) // first read: still pending
	if d["ssl_grade"] != nil || d["last_scan"] != nil {
		t.Errorf("graded before finishing: %v", d)
	}
	d = get(t, s, "domains").body["domains"].([]any)[0].(map[string]any) // second read: finished
	if d["ssl_grade"] != "B" || d["last_scan"] == nil || d["days_until_expiry"] != 1.0 {
		t.Errorf("after finishing: %v", d)
	}
	if got := s.Scans(); len(got) != 1 || got[0].Status != "completed" || got[0].ID != scanID || got[0].Result.Grade != "B" || got[0].Key != key {
		t.Errorf("Scans = %+v", got)
	}
	if a := post(t, s, "scans", `{"hostname":"other.example"}`); a.status != 202 {
		t.Errorf("after the first finished: %d %s", a.status, a.raw)
	}
	if s.MaxRunning() != 1 {
		t.Errorf("MaxRunning = %d", s.MaxRunning())
	}

	// A failed scan leaves the domain's last result.
	s.SetAutoFinish(0)
	s.SetScanStatus(true)
	s.SetResult("example.com", Result{Fail: "connection refused"})
	get(t, s, "scans/"+strconv.Itoa(12346)) // finishes the other scan
	a = post(t, s, "scans", `{"domain_id":`+id+`}`)
	failedID := strconv.Itoa(int(a.body["scan"].(map[string]any)["id"].(float64)))
	sc := get(t, s, "scans/"+failedID).body["scan"].(map[string]any)
	if sc["status"] != "failed" || sc["error"] != "connection refused" || sc["ssl_grade"] != nil {
		t.Errorf("failed scan: %v", sc)
	}
	if d := get(t, s, "domains/"+id).body["domain"].(map[string]any); d["ssl_grade"] != "B" {
		t.Errorf("domain after a failed scan: %v", d)
	}
}

func TestWaitScans(t *testing.T) {
	s := start(t)
	s.SetPlan(Pro)
	done := make(chan error)
	go func() { done <- s.WaitScans(context.Background(), 2) }()
	post(t, s, "scans", `{"hostname":"a.example"}`)
	post(t, s, "scans", `{"hostname":"b.example"}`)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.WaitScans(ctx, 3); err == nil {
		t.Error("WaitScans(3) returned without a third scan")
	}
}

func TestFaults(t *testing.T) {
	s := start(t)
	s.SetPlan(Pro)
	s.FailNext(1, FaultRateLimit)
	s.FailNext(1, FaultDailyLimit)
	s.FailNext(1, FaultForbidden)
	s.FailNext(1, FaultServerError)
	s.FailNext(1, FaultBadGatewayHTML)
	want := []struct {
		status int
		check  func(answer) bool
	}{
		{429, func(a answer) bool {
			return a.header.Get("X-RateLimit-Remaining") == "0" && a.header.Get("X-RateLimit-Reset") != ""
		}},
		{429, func(a answer) bool { return a.header.Get("X-Daily-Remaining") == "0" }},
		{403, func(a answer) bool { return a.body["error"] == "Access denied" }},
		{500, func(a answer) bool { return a.body["error"] != nil }},
		{502, func(a answer) bool { return strings.HasPrefix(a.header.Get("Content-Type"), "text/html") }},
	}
	for i, w := range want {
		a := post(t, s, "scans", `{"hostname":"example.com"}`)
		if a.status != w.status || !w.check(a) {
			t.Errorf("fault %d: %d %v %s", i, a.status, a.header, a.raw)
		}
	}
	if len(s.Scans()) != 0 {
		t.Errorf("a faulted request started a scan")
	}
	s.FailNext(1, FaultDropConnection)
	req, _ := http.NewRequest("GET", s.URL+"domains", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	// A connection of its own: Go retries a GET dropped on a reused one.
	if resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req); err == nil {
		resp.Body.Close()
		t.Error("a dropped connection answered")
	}
	defer func() {
		if recover() == nil {
			t.Error("FailNext took an unknown fault")
		}
	}()
	s.FailNext(1, Fault(99))
}

func TestUnknownPaths(t *testing.T) {
	s := start(t)
	for _, p := range []struct{ method, path string }{{"GET", "zones"}, {"DELETE", "domains/1"}, {"PUT", "scans"}} {
		if a := call(t, s, p.method, p.path, "Bearer "+key, "", ""); a.status != 404 {
			t.Errorf("%s %s: %d", p.method, p.path, a.status)
		}
	}
	if s.Count(EndpointOther) != 3 {
		t.Errorf("other: %d", s.Count(EndpointOther))
	}
}
