package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/version"
)

const secret = "sk-live-0123456789abcdef"

// script answers the n-th request with steps[n] (the last step repeats).
type step struct {
	status int
	header map[string]string
	body   string
	drop   bool // close the connection without answering
}

func serve(t *testing.T, steps ...step) (*Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		s := steps[min(i, len(steps)-1)]
		if r.Header.Get("User-Agent") != UserAgent() || r.Header.Get("X-Key") != secret {
			http.Error(w, "bad headers", http.StatusTeapot)
			return
		}
		if s.drop {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		for k, v := range s.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(s.status)
		w.Write([]byte(s.body))
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL + "/api/")
	return &Client{
		BaseURL:   u,
		Retry:     Retry{Attempts: 4, BaseDelay: time.Millisecond, MaxDelay: 50 * time.Millisecond, MaxTotal: 2 * time.Second},
		Authorize: func(r *http.Request) { r.Header.Set("X-Key", secret) },
		Secrets:   []string{secret},
		RetryIf:   func(status int, body []byte) bool { return status == 400 && bytes.Contains(body, []byte("flaky")) },
	}, &n
}

func TestDoRetries(t *testing.T) {
	ok := step{status: 200, body: `{"ok":true}`}
	tests := []struct {
		name       string
		method     string
		steps      []step
		wantStatus int // 0 = success expected
		wantTries  int32
	}{
		{"success first time", "GET", []step{ok}, 0, 1},
		{"429 then success", "GET", []step{{status: 429, header: map[string]string{"Retry-After": "0"}}, ok}, 0, 2},
		{"500 502 503 then success", "PUT", []step{{status: 500}, {status: 502}, {status: 503}, ok}, 0, 4},
		{"dropped connection then success", "GET", []step{{drop: true}, ok}, 0, 2},
		{"provider-specific transient 400", "GET", []step{{status: 400, body: "flaky"}, ok}, 0, 2},
		{"400 is final", "GET", []step{{status: 400, body: "bad"}}, 400, 1},
		{"401 is final", "GET", []step{{status: 401}}, 401, 1},
		{"403 is final", "PUT", []step{{status: 403}}, 403, 1},
		{"404 is final", "GET", []step{{status: 404}}, 404, 1},
		{"bounded in count", "GET", []step{{status: 503}}, 503, 4},
		{"Retry-After beyond the budget is not waited for", "GET", []step{{status: 429, header: map[string]string{"Retry-After": "3600"}}}, 429, 1},
		{"non-idempotent POST is not resent after a dropped connection", "POST", []step{{drop: true}, ok}, -1, 1},
		{"non-idempotent POST is resent after 429", "POST", []step{{status: 429}, ok}, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, tt.steps...)
			resp, err := c.Do(context.Background(), Request{Method: tt.method, Path: "domains/x"})
			switch {
			case tt.wantStatus == 0 && err != nil:
				t.Fatalf("Do: %v", err)
			case tt.wantStatus == 0 && string(resp.Body) != `{"ok":true}`:
				t.Fatalf("body %q", resp.Body)
			case tt.wantStatus > 0 && StatusOf(err) != tt.wantStatus:
				t.Fatalf("err = %v, want HTTP %d", err, tt.wantStatus)
			case tt.wantStatus < 0 && (err == nil || StatusOf(err) != 0):
				t.Fatalf("err = %v, want a transport error", err)
			}
			if got := n.Load(); got != tt.wantTries {
				t.Errorf("%d tries, want %d", got, tt.wantTries)
			}
		})
	}
}

func TestDoBoundedInTime(t *testing.T) {
	c, n := serve(t, step{status: 503})
	c.Retry = Retry{Attempts: 100, BaseDelay: 20 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxTotal: 100 * time.Millisecond}
	_, err := c.Do(context.Background(), Request{Method: "GET", Path: "x"})
	if StatusOf(err) != 503 {
		t.Fatalf("err = %v", err)
	}
	if got := n.Load(); got >= 100 {
		t.Errorf("%d tries: the time budget did not stop retries", got)
	}
}

func TestDoHonoursCancellation(t *testing.T) {
	c, _ := serve(t, step{status: 503})
	c.Retry = Retry{Attempts: 10, BaseDelay: time.Hour, MaxDelay: time.Hour, MaxTotal: 2 * time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, Request{Method: "GET", Path: "x"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}

func TestSecretsNeverShow(t *testing.T) {
	// A provider that echoes the credential back in its error body.
	c, _ := serve(t, step{status: 401, body: `{"status":401,"status_description":"key ` + secret + ` is not valid"}`})
	var logs bytes.Buffer
	c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, err := c.Do(context.Background(), Request{Method: "GET", Path: "domains/" + secret})
	if err == nil {
		t.Fatal("want an error")
	}
	for what, text := range map[string]string{"error": err.Error(), "log": logs.String()} {
		if strings.Contains(text, secret) {
			t.Errorf("%s shows the secret: %s", what, text)
		}
	}
	if !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("error %q lacks the status or the redaction mark", err)
	}
}

func TestErrorMessageFromBody(t *testing.T) {
	tests := []struct{ body, want string }{
		{`<!DOCTYPE HTML><html><head><title>502 Proxy Error</title></head><body>long page…</body></html>`, "HTTP 502: HTML error page 502 Proxy Error"},
		{"plain text failure", "HTTP 502: plain text failure"},
		{strings.Repeat("x", 300), "HTTP 502: " + strings.Repeat("x", 200) + "…"},
	}
	for _, tt := range tests {
		c, _ := serve(t, step{status: 502, body: tt.body})
		c.Retry.Attempts = 1
		_, err := c.Do(context.Background(), Request{Method: "GET", Path: "x"})
		if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("err = %v, want suffix %q", err, tt.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string // Retry-After
		reset string // X-RateLimit-Reset
		want  time.Duration
	}{
		{"", "", 0},
		{"7", "", 7 * time.Second},
		{"0", "", time.Millisecond},
		{now.Add(90 * time.Second).Format(http.TimeFormat), "", 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), "", time.Millisecond},
		{"soon", "", 0},
		// X-RateLimit-Reset as an ISO time is the fallback (HostUp).
		{"", "2026-11-23T12:00:02.500Z", 2500 * time.Millisecond},
		{"", "2026-11-23T13:00:05+01:00", 5 * time.Second},
		{"", "2026-11-23T11:59:00.000Z", time.Millisecond},
		{"3", "2026-11-23T12:00:09.000Z", 3 * time.Second}, // Retry-After wins
		{"", "1795435205", 0},                              // epoch or delay: ambiguous, ignored
		{"", "tomorrow", 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Retry-After", tt.value)
		}
		if tt.reset != "" {
			h.Set("X-RateLimit-Reset", tt.reset)
		}
		if got := retryAfter(h, now); got != tt.want {
			t.Errorf("retryAfter(Retry-After %q, X-RateLimit-Reset %q) = %v, want %v", tt.value, tt.reset, got, tt.want)
		}
	}
}

func TestRateLimitResetHonoured(t *testing.T) {
	reset := time.Now().Add(300 * time.Millisecond).UTC().Format("2006-01-02T15:04:05.000Z07:00")
	c, n := serve(t, step{status: 429, header: map[string]string{"X-RateLimit-Reset": reset}}, step{status: 200, body: `{"ok":true}`})
	c.Retry.MaxDelay = time.Second
	var waits []time.Duration
	c.Wait = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "x"}); err != nil {
		t.Fatal(err)
	}
	// The backoff alone would wait at most 1ms; the reset time asks for
	// ~300ms (less the time the answer took to arrive).
	if len(waits) != 1 || waits[0] < 150*time.Millisecond || waits[0] > 300*time.Millisecond {
		t.Errorf("waits %v, want one until X-RateLimit-Reset", waits)
	}
	if got := n.Load(); got != 2 {
		t.Errorf("%d tries, want 2", got)
	}
}

// TestRetryAfterHook checks that a client's own RetryAfter reads the wait
// from the failed answer's headers, and that an error keeps the headers.
func TestRetryAfterHook(t *testing.T) {
	limited := step{status: 429, header: map[string]string{"X-Reset-In": "far"}, body: "slow down"}
	hook := func(h http.Header, now time.Time) time.Duration {
		if h.Get("X-Reset-In") == "far" {
			return time.Hour
		}
		return 0
	}
	c, n := serve(t, limited, step{status: 200, body: `{"ok":true}`})
	c.RetryAfter = hook
	_, err := c.Do(context.Background(), Request{Method: "GET", Path: "x"})
	var e *Error
	if !errors.As(err, &e) || e.Status != 429 || !strings.Contains(err.Error(), "beyond the retry budget") {
		t.Fatalf("err = %v, want a 429 the hook's hour keeps from being retried", err)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("%d tries, want 1", got)
	}
	if e.Header.Get("X-Reset-In") != "far" {
		t.Errorf("error headers %v, want the 429's", e.Header)
	}
	// Without the hook, the same answer is retried after the backoff.
	c, n = serve(t, limited, step{status: 200, body: `{"ok":true}`})
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "x"}); err != nil || n.Load() != 2 {
		t.Errorf("without the hook: %v after %d tries, want success after 2", err, n.Load())
	}
}

func TestErrorKeepsBody(t *testing.T) {
	const body = `{"code":"forbidden","detail":"nope"}`
	c, _ := serve(t, step{status: 403, body: body})
	_, err := c.Do(context.Background(), Request{Method: "GET", Path: "x"})
	var e *Error
	if !errors.As(err, &e) || string(e.Body) != body {
		t.Fatalf("err = %#v, want an *Error with the body", err)
	}
}

func TestBackoffGrowsWithinBounds(t *testing.T) {
	r := Retry{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}.withDefaults()
	for try, max := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 10: time.Second} {
		for range 50 {
			if d := backoff(r, try); d < max/2 || d > max {
				t.Fatalf("backoff(try %d) = %v, want within [%v, %v]", try, d, max/2, max)
			}
		}
	}
}

func TestErrorRefused(t *testing.T) {
	tests := []struct {
		name        string
		method      string
		steps       []step
		wantRefused bool
	}{
		{"4xx answer", "PUT", []step{{status: 422, body: "invalid record"}}, true},
		{"429 until the tries run out", "PUT", []step{{status: 429, header: map[string]string{"Retry-After": "0"}}}, true},
		{"provider-specific transient 400 every time", "PUT", []step{{status: 400, body: "flaky"}}, true},
		{"5xx answers until the tries run out", "PUT", []step{{status: 500}}, false},
		{"one 5xx answer", "PUT", []step{{status: 503, header: map[string]string{"Retry-After": "3600"}}}, false},
		{"gateway timeout then 4xx", "PUT", []step{{status: 504}, {status: 409}}, false},
		{"dropped connection", "POST", []step{{drop: true}}, false},
		{"dropped connection then 4xx", "PUT", []step{{drop: true}, {status: 400}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, tt.steps...)
			_, err := c.Do(context.Background(), Request{Method: tt.method, Path: "zone"})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if got := e.Refused(); got != tt.wantRefused {
				t.Errorf("Refused() = %v, want %v (err %v)", got, tt.wantRefused, err)
			}
		})
	}
	if (&Error{Status: 404}).Refused() != true || (&Error{Status: 200, Message: "body status 500"}).Refused() != false {
		t.Errorf("Refused of a hand-made Error: want true for a 4xx status, false for a 2xx one")
	}
}

func TestUserAgentNamesVersion(t *testing.T) {
	defer func(v string) { version.Version = v }(version.Version)
	version.Version = "v1.2.3" // as -ldflags -X sets it before main runs
	if got, want := UserAgent(), "acme-dns-hook/v1.2.3 "; !strings.HasPrefix(got, want) {
		t.Errorf("UserAgent() = %q, want prefix %q", got, want)
	}
}
