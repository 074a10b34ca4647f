package myssl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/myssl/myssltest"
)

const key = "myssl_k_client-test-3f9a0c71"

// testRetry retries quickly but waits out what the server asks within 3 s.
var testRetry = api.Retry{Attempts: 4, BaseDelay: time.Millisecond, MaxDelay: 3 * time.Second, MaxTotal: 5 * time.Second}

func newFake(t *testing.T) (*myssltest.Server, *Client) {
	t.Helper()
	f := myssltest.NewServer()
	t.Cleanup(f.Close)
	f.AddKey(key)
	return f, newClient(t, f, key)
}

func newClient(t *testing.T, f *myssltest.Server, k string) *Client {
	t.Helper()
	c, err := New(k, Options{BaseURL: f.URL, Retry: testRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNew(t *testing.T) {
	if _, err := New(" ", Options{}); !errors.Is(err, ErrMissingKey) {
		t.Errorf("empty key: %v", err)
	}
	if _, err := New(key, Options{BaseURL: "ftp://myssl.info/"}); err == nil || strings.Contains(err.Error(), key) {
		t.Errorf("bad URL: %v", err)
	}
	c, err := New(key, Options{})
	if err != nil || c.Endpoint() != "https://myssl.info/api/v1" {
		t.Errorf("default endpoint %q, %v", c.Endpoint(), err)
	}
}

func TestListDomainsPagination(t *testing.T) {
	f, c := newFake(t)
	for i := range 150 {
		f.AddDomain(fmt.Sprintf("host%03d.example.com", i), 443)
	}
	f.AddScannedDomain("graded.example.org", 8443, myssltest.Result{Grade: "B", Score: 70, Expiry: time.Now().Add(10 * 24 * time.Hour)}, time.Now())
	ctx := context.Background()

	page, err := c.ListDomains(ctx, DomainQuery{})
	if err != nil || len(page.Domains) != 20 || page.Pagination.Total != 151 || !page.Pagination.HasNext || page.Pagination.Pages != 8 {
		t.Fatalf("first page: %d domains, %+v, %v", len(page.Domains), page.Pagination, err)
	}
	all, err := c.AllDomains(ctx, DomainQuery{})
	if err != nil || len(all) != 151 {
		t.Fatalf("AllDomains: %d, %v", len(all), err)
	}
	if n := f.Count(myssltest.EndpointListDomains); n != 3 {
		t.Errorf("%d listing requests, want 1 + 2 pages of 100", n)
	}
	for _, tt := range []struct {
		q    DomainQuery
		want int
	}{
		{DomainQuery{Search: "host00"}, 10},
		{DomainQuery{Grade: "B"}, 1},
		{DomainQuery{Status: "expiring"}, 1},
		{DomainQuery{Status: "inactive"}, 0},
	} {
		ds, err := c.AllDomains(ctx, tt.q)
		if err != nil || len(ds) != tt.want {
			t.Errorf("%+v: %d domains, %v; want %d", tt.q, len(ds), err, tt.want)
		}
	}
	d, err := c.FindDomain(ctx, "Graded.Example.org", 8443)
	if err != nil || d == nil || d.Grade != "B" || *d.Score != 70 || d.LastScan.IsZero() || d.Port != 8443 || *d.DaysUntilExpiry > 10 {
		t.Fatalf("FindDomain = %+v, %v", d, err)
	}
	if d, err := c.FindDomain(ctx, "graded.example.org", 443); d != nil || err != nil {
		t.Errorf("FindDomain on another port = %+v, %v", d, err)
	}

	// Bad queries fail before any request.
	f.ResetCounts()
	for _, q := range []DomainQuery{{PerPage: 101}, {Status: "expired"}, {Grade: "A-"}, {Page: -1}} {
		if _, err := c.ListDomains(ctx, q); err == nil {
			t.Errorf("%+v accepted", q)
		}
	}
	if n := f.Count(myssltest.EndpointListDomains); n != 0 {
		t.Errorf("%d requests for bad queries", n)
	}
}

func TestGetDomain(t *testing.T) {
	f, c := newFake(t)
	exp := time.Date(2031, 6, 15, 12, 0, 0, 0, time.UTC)
	last := time.Date(2026, 1, 12, 10, 30, 0, 0, time.UTC)
	id := f.AddScannedDomain("example.com", 443, myssltest.Result{Grade: "A+", Score: 100, Expiry: exp, Issuer: "R3"}, last)
	d, err := c.GetDomain(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != id || d.Hostname != "example.com" || d.Grade != "A+" || *d.Score != 100 || !d.CertificateExpiry.Equal(exp) ||
		!d.LastScan.Equal(last) || d.Issuer != "R3" || !d.Active || d.MonitoringFrequency != "daily" {
		t.Errorf("GetDomain = %+v", d)
	}
	if _, err := c.GetDomain(context.Background(), "999"); api.StatusOf(err) != 404 {
		t.Errorf("unknown id: %v", err)
	}
}

func TestStartScan(t *testing.T) {
	f, c := newFake(t)
	f.SetPlan(myssltest.Pro)
	ctx := context.Background()
	s, err := c.StartScan(ctx, ScanRequest{Hostname: "www.example.com", Port: 8443, ScanType: "full"})
	if err != nil || s.ID == "" || s.Status != "pending" || s.Done() || s.Accepted.IsZero() || s.Hostname != "www.example.com" || s.Port != 8443 {
		t.Fatalf("StartScan = %+v, %v", s, err)
	}
	id := f.AddDomain("example.com", 443)
	if _, err := c.StartScan(ctx, ScanRequest{DomainID: id}); err != nil {
		t.Fatal(err)
	}
	scans := f.Scans()
	if len(scans) != 2 || scans[0].Key != key || scans[0].Hostname != "www.example.com" || scans[0].Port != 8443 || scans[0].ScanType != "full" ||
		scans[1].DomainID != id || scans[1].Hostname != "example.com" || scans[1].ScanType != "quick" {
		t.Errorf("scans %+v", scans)
	}
	f.ResetCounts()
	for _, r := range []ScanRequest{{}, {DomainID: id, Hostname: "x"}, {Hostname: "x", ScanType: "deep"}} {
		if _, err := c.StartScan(ctx, r); err == nil {
			t.Errorf("%+v accepted", r)
		}
	}
	if n := f.Count(myssltest.EndpointStartScan); n != 0 {
		t.Errorf("%d requests for bad scans", n)
	}
}

// TestUnconfirmedCalls runs the two calls MySSL does not confirm against a
// fake that has them and one that answers 404.
func TestUnconfirmedCalls(t *testing.T) {
	ctx := context.Background()
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprint("present=", on), func(t *testing.T) {
			f, c := newFake(t)
			f.SetScanStatus(on)
			f.SetCreateDomain(on)
			f.SetAutoFinish(1)
			exp := time.Date(2030, 3, 4, 5, 6, 7, 0, time.UTC)
			f.SetResult("example.com", myssltest.Result{Grade: "B", Score: 75, Expiry: exp, Issuer: "Example CA"})

			d, err := c.AddDomain(ctx, "example.com", 0)
			if on && (err != nil || d.Hostname != "example.com" || d.Port != 443 || d.ID == "") {
				t.Errorf("AddDomain = %+v, %v", d, err)
			}
			if !on && (!errors.Is(err, ErrNoCreateDomain) || api.StatusOf(err) != 404) {
				t.Errorf("AddDomain without the call: %v", err)
			}

			s, err := c.StartScan(ctx, ScanRequest{Hostname: "example.com"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.GetScan(ctx, s.ID)
			if !on {
				if !errors.Is(err, ErrNoScanStatus) {
					t.Errorf("GetScan without the path: %v", err)
				}
				return
			}
			if err != nil || got.Done() || got.Status != "pending" {
				t.Fatalf("first read: %+v, %v", got, err)
			}
			got, err = c.GetScan(ctx, s.ID)
			if err != nil || !got.Done() || got.Failed() || got.Grade != "B" || *got.Score != 75 || !got.CertificateExpiry.Equal(exp) || got.Issuer != "Example CA" {
				t.Errorf("second read: %+v, %v", got, err)
			}
		})
	}
}

func TestAuthErrors(t *testing.T) {
	f, _ := newFake(t)
	const revoked = "myssl_k_revoked-77aa01"
	f.AddKey(revoked)
	f.RevokeKey(revoked)
	tests := []struct {
		key, want string
	}{
		{"not-a-myssl-key-123", "HTTP 401: Authentication required: Please provide a valid API key in the Authorization header"},
		{"myssl_k_unknown-5521", "HTTP 401: Invalid API key"},
		{revoked, "HTTP 401: Invalid API key"},
	}
	for _, tt := range tests {
		f.ResetCounts()
		var logs bytes.Buffer
		c, err := New(tt.key, Options{BaseURL: f.URL, Retry: testRetry, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ListDomains(context.Background(), DomainQuery{})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "Dashboard → Settings → API Keys") {
			t.Errorf("key %s: %v, want %q", tt.key, err, tt.want)
		}
		if n := f.Count(myssltest.EndpointListDomains); n != 1 {
			t.Errorf("key %s: %d tries of a 401, want 1", tt.key, n)
		}
		if strings.Contains(err.Error()+logs.String(), tt.key) {
			t.Errorf("the key shows: %v\n%s", err, logs.String())
		}
		if var401 := (*Error)(nil); !errors.As(err, &var401) || var401.Code == "" {
			t.Errorf("no *Error with the code: %#v", err)
		}
	}
}

func TestRateLimit(t *testing.T) {
	ctx := context.Background()
	t.Run("the sliding minute waited out until X-RateLimit-Reset", func(t *testing.T) {
		f, _ := newFake(t)
		f.SetPlan(myssltest.Plan{Name: "tiny", PerMinute: 1, Daily: 100, Concurrent: 1})
		// The client's waits move the fake's clock instead of passing: a
		// retry comes exactly as much later as the client waited.
		var mu sync.Mutex
		var offset time.Duration
		var waits []time.Duration
		f.SetClock(func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return time.Now().Add(offset)
		})
		c, err := New(key, Options{BaseURL: f.URL, Retry: api.Retry{Attempts: 4, BaseDelay: time.Millisecond, MaxDelay: 61 * time.Second, MaxTotal: 90 * time.Second},
			Wait: func(_ context.Context, d time.Duration) error {
				mu.Lock()
				defer mu.Unlock()
				offset += d
				waits = append(waits, d)
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListDomains(ctx, DomainQuery{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListDomains(ctx, DomainQuery{}); err != nil {
			t.Fatalf("after the reset: %v", err)
		}
		// One wait, until the first request leaves the minute (the backoff
		// alone would have waited milliseconds, and been refused again).
		if len(waits) != 1 || waits[0] < 58*time.Second || waits[0] > 61*time.Second {
			t.Errorf("waits %v, want one of about a minute", waits)
		}
		if n := f.Count(myssltest.EndpointListDomains); n != 3 || f.CountStatus(429) != 1 {
			t.Errorf("%d requests, %d answered 429; want 3 and 1", n, f.CountStatus(429))
		}
	})
	t.Run("injected 429 waited out", func(t *testing.T) {
		f, _ := newFake(t)
		var waits []time.Duration
		c, err := New(key, Options{BaseURL: f.URL, Retry: testRetry, Wait: func(_ context.Context, d time.Duration) error {
			waits = append(waits, d) // the client's one goroutine
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		f.FailNext(1, myssltest.FaultRateLimit) // reset: the next whole second after one from now
		if _, err := c.ListDomains(ctx, DomainQuery{}); err != nil {
			t.Fatal(err)
		}
		if n := f.Count(myssltest.EndpointListDomains); n != 2 || f.CountStatus(429) != 1 {
			t.Errorf("%d tries, %d answered 429; want 2 and 1", n, f.CountStatus(429))
		}
		if len(waits) != 1 || waits[0] < 500*time.Millisecond || waits[0] > 2*time.Second {
			t.Errorf("waits %v, want one until the reset", waits)
		}
	})
	t.Run("a reset beyond the budget is not waited for", func(t *testing.T) {
		f, c := newFake(t)
		f.SetPlan(myssltest.Plan{Name: "tiny", PerMinute: 1, Daily: 100, Concurrent: 1})
		if _, err := c.ListDomains(ctx, DomainQuery{}); err != nil {
			t.Fatal(err)
		}
		_, err := c.ListDomains(ctx, DomainQuery{})
		if api.StatusOf(err) != 429 || !strings.Contains(err.Error(), "beyond the retry budget") || !strings.Contains(err.Error(), "10 requests a minute") || errors.Is(err, ErrDailyLimit) {
			t.Errorf("err = %v", err)
		}
		if n := f.Count(myssltest.EndpointListDomains); n != 2 {
			t.Errorf("%d requests, want 2 (no retry of a minute's wait)", n)
		}
	})
	t.Run("daily limit reported as such", func(t *testing.T) {
		f, c := newFake(t)
		f.SetPlan(myssltest.Plan{Name: "tiny", PerMinute: 100, Daily: 2, Concurrent: 1})
		for range 2 {
			if _, err := c.ListDomains(ctx, DomainQuery{}); err != nil {
				t.Fatal(err)
			}
		}
		if l := c.Limits(); !l.Known || l.Daily != 2 || l.DailyRemaining != 0 || !l.DailyUsedUp || l.Minute != 100 || l.MinuteRemaining != 98 || l.Reset.IsZero() {
			t.Errorf("Limits = %+v", l)
		}
		_, err := c.ListDomains(ctx, DomainQuery{})
		if !errors.Is(err, ErrDailyLimit) || !strings.Contains(err.Error(), "its 2 requests of the day") || !strings.Contains(err.Error(), "midnight UTC") {
			t.Errorf("err = %v", err)
		}
		if n := f.Count(myssltest.EndpointListDomains); n != 3 {
			t.Errorf("%d requests, want 3 (the daily 429 not retried)", n)
		}
	})
	t.Run("injected daily 429", func(t *testing.T) {
		f, c := newFake(t)
		f.FailNext(1, myssltest.FaultDailyLimit)
		if _, err := c.StartScan(ctx, ScanRequest{Hostname: "example.com"}); !errors.Is(err, ErrDailyLimit) {
			t.Errorf("err = %v", err)
		}
		if len(f.Scans()) != 0 {
			t.Errorf("a refused scan was recorded")
		}
	})
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 5, 6, 23, 0, 0, 0, time.UTC)
	tests := []struct {
		h    map[string]string
		want time.Duration
	}{
		{map[string]string{"X-RateLimit-Reset": fmt.Sprint(now.Add(42 * time.Second).Unix())}, 42 * time.Second},
		{map[string]string{"X-RateLimit-Reset": fmt.Sprint(now.Add(-time.Second).Unix())}, time.Millisecond},
		{map[string]string{"X-RateLimit-Reset": "7"}, 7 * time.Second}, // a delay after all
		{map[string]string{"Retry-After": "3", "X-RateLimit-Reset": fmt.Sprint(now.Add(42 * time.Second).Unix())}, 3 * time.Second},
		{map[string]string{"X-Daily-Remaining": "0", "X-RateLimit-Reset": fmt.Sprint(now.Add(42 * time.Second).Unix())}, time.Hour},
		{map[string]string{"X-Daily-Remaining": "5"}, 0},
		{map[string]string{}, 0},
		{map[string]string{"X-RateLimit-Reset": "soon"}, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.h {
			h.Set(k, v)
		}
		if got := retryAfter(h, now); got != tt.want {
			t.Errorf("retryAfter(%v) = %v, want %v", tt.h, got, tt.want)
		}
	}
}

// TestConcurrentScanLimit checks the fake's strict refusal of a second scan
// on the Free plan, which the client reports as a 429 after its retries.
func TestConcurrentScanLimit(t *testing.T) {
	f, c := newFake(t)
	f.SetAutoFinish(-1)
	ctx := context.Background()
	first, err := c.StartScan(ctx, ScanRequest{Hostname: "a.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartScan(ctx, ScanRequest{Hostname: "b.example.com"}); api.StatusOf(err) != 429 {
		t.Fatalf("second scan at once: %v, want 429", err)
	}
	f.Finish(first.ID)
	if _, err := c.StartScan(ctx, ScanRequest{Hostname: "b.example.com"}); err != nil {
		t.Errorf("after the first finished: %v", err)
	}
}

// TestTolerantDecoding feeds answers in the shapes MySSL might send where its
// documentation is silent: string ids and numbers, an issuer object, times
// without a zone, a bare object, another finished status.
func TestTolerantDecoding(t *testing.T) {
	bodies := map[string]string{
		"/api/v1/domains/7": `{"id":"7","hostname":"example.com","port":"443","ssl_grade":"A","ssl_score":"95","certificate_expiry":"2030-01-02T03:04:05","last_scan":null,
			"certificate":{"issuer":{"common_name":"R11","organization":"Let's Encrypt"}}}`,
		"/api/v1/scans/s-1": `{"scan":{"id":"s-1","status":"done","grade":"B","score":80,"certificate":{"issuer":"E5","not_after":"2030-05-06T00:00:00.000Z"}}}`,
		"/api/v1/scans/s-2": `{"scan":{"id":"s-2","status":"failed","error":"connection refused"}}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(b))
	}))
	defer srv.Close()
	c, err := New(key, Options{BaseURL: srv.URL + "/api/v1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := c.GetDomain(ctx, "7")
	if err != nil || d.ID != "7" || d.Port != 443 || *d.Score != 95 || d.Issuer != "R11" || d.CertificateExpiry.Year() != 2030 || !d.LastScan.IsZero() {
		t.Errorf("GetDomain = %+v, %v", d, err)
	}
	s, err := c.GetScan(ctx, "s-1")
	if err != nil || !s.Done() || s.Grade != "B" || *s.Score != 80 || s.Issuer != "E5" || s.CertificateExpiry.Month() != 5 {
		t.Errorf("GetScan = %+v, %v", s, err)
	}
	s, err = c.GetScan(ctx, "s-2")
	if err != nil || !s.Done() || !s.Failed() || s.Error != "connection refused" {
		t.Errorf("failed scan = %+v, %v", s, err)
	}
}

func TestGradeAtLeast(t *testing.T) {
	tests := []struct {
		grade, min string
		ok, known  bool
	}{
		{"A+", "A", true, true},
		{"A", "A", true, true},
		{"a", "A", true, true},
		{"B", "A", false, true},
		{"A-", "A", false, true},
		{"A-", "B", true, true},
		{"F", "D", false, true},
		{"T", "B", false, false},
		{"", "B", false, false},
		{"A", "Z", false, false},
	}
	for _, tt := range tests {
		if ok, known := GradeAtLeast(tt.grade, tt.min); ok != tt.ok || known != tt.known {
			t.Errorf("GradeAtLeast(%q, %q) = %v, %v", tt.grade, tt.min, ok, known)
		}
	}
}

// TestConcurrentUse runs listings from many goroutines (for the race
// detector on the client's limits).
func TestConcurrentUse(t *testing.T) {
	f, c := newFake(t)
	f.SetPlan(myssltest.Business)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.ListDomains(context.Background(), DomainQuery{}); err != nil {
				t.Error(err)
			}
			c.Limits()
		})
	}
	wg.Wait()
}

// TestKeyNeverShownByTheFake has the fake repeat the key in every form in
// its error bodies: no error of the client shows any form of it.
func TestKeyNeverShownByTheFake(t *testing.T) {
	f, c := newFake(t)
	f.SetEcho(apitest.EchoAll)
	f.SetScanStatus(false)
	ctx := context.Background()
	var texts []string
	if _, err := c.GetScan(ctx, "12345"); err != nil { // 404
		texts = append(texts, err.Error())
	}
	f.FailNext(1, myssltest.FaultForbidden)
	if _, err := c.StartScan(ctx, ScanRequest{Hostname: "example.com"}); err != nil {
		var e *Error
		errors.As(err, &e)
		texts = append(texts, err.Error(), e.Message)
	}
	f.RevokeKey(key)
	if _, err := c.ListDomains(ctx, DomainQuery{}); err != nil {
		texts = append(texts, err.Error())
	}
	if len(texts) != 4 || !strings.Contains(strings.Join(texts, "\n"), "received") {
		t.Fatalf("the fake did not echo: %q", texts)
	}
	for _, text := range texts {
		// The prefix every key starts with is public (and named in hints).
		if leaks := apitest.Leaks(text, strings.TrimPrefix(key, KeyPrefix)); len(leaks) > 0 {
			t.Errorf("%s\nshows the key: %v", text, leaks)
		}
	}
}

// TestKeyNeverShown has a server repeat the key in its error bodies, as a
// careless API does: neither errors nor debug logs may show it.
func TestKeyNeverShown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"Invalid API key","message":"key %s was revoked (header %s)"}`, key, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	var logs bytes.Buffer
	c, err := New(key, Options{BaseURL: srv.URL + "/api/v1/", Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.StartScan(context.Background(), ScanRequest{Hostname: "example.com"})
	var e *Error
	if !errors.As(err, &e) || e.Code != "Invalid API key" {
		t.Fatalf("err = %#v", err)
	}
	if out := err.Error() + logs.String() + e.Message; strings.Contains(out, key) || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("the key shows, or nothing was redacted:\n%s", out)
	}
}
