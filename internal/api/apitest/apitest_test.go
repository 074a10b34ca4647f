package apitest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
)

// fake is the smallest fake: every request is counted under its path and
// answered with the fault it drew, as the status code (200 for none).
type fake struct {
	api *apitest.Server[int]
	url string
}

func newFake(t *testing.T, opts apitest.Options[int]) *fake {
	f := &fake{}
	f.api = apitest.Start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fault := f.api.Receive(r, r.URL.Path); fault != 0 {
			w.WriteHeader(fault)
			return
		}
		io.WriteString(w, "ok")
	}), opts)
	f.url = f.api.URL
	t.Cleanup(f.api.Close)
	return f
}

func get(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestFaultQueue(t *testing.T) {
	zeroClears := apitest.Options[int]{ZeroClears: true}
	tests := []struct {
		name  string
		opts  apitest.Options[int]
		setup func(s *apitest.Server[int])
		want  []int // status of successive requests
	}{
		{"none", apitest.Options[int]{}, func(s *apitest.Server[int]) {}, []int{200, 200}},
		{"one", apitest.Options[int]{}, func(s *apitest.Server[int]) { s.FailNext(1, 500) }, []int{500, 200}},
		{"runs queue up in order", apitest.Options[int]{}, func(s *apitest.Server[int]) {
			s.FailNext(1, 500)
			s.FailNext(2, 429)
		}, []int{500, 429, 429, 200}},
		{"n <= 0 does nothing", apitest.Options[int]{}, func(s *apitest.Server[int]) {
			s.FailNext(1, 500)
			s.FailNext(0, 502)
			s.FailNext(-3, 502)
			s.FailNext(1, 429)
		}, []int{500, 429, 200}},
		{"ZeroClears: n = 0 empties the queue", zeroClears, func(s *apitest.Server[int]) {
			s.FailNext(2, 500)
			s.FailNext(0, 502)
			s.FailNext(1, 429)
		}, []int{429, 200}},
		{"ZeroClears: n < 0 empties the queue", zeroClears, func(s *apitest.Server[int]) {
			s.FailNext(2, 500)
			s.FailNext(-1, 502)
		}, []int{200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.opts)
			tt.setup(f.api)
			for i, want := range tt.want {
				if got, err := get(t.Context(), f.url+"/"); err != nil || got != want {
					t.Errorf("request %d: HTTP %d (%v), want %d", i, got, err, want)
				}
			}
		})
	}
}

func TestKnownFaults(t *testing.T) {
	f := newFake(t, apitest.Options[int]{Known: func(code int) bool { return code >= 400 }})
	for _, n := range []int{1, 0, -1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("FailNext(%d, 200) did not panic", n)
				}
			}()
			f.api.FailNext(n, 200)
		}()
	}
	f.api.FailNext(1, 503)
	if got, err := get(t.Context(), f.url+"/"); err != nil || got != 503 {
		t.Errorf("HTTP %d (%v), want the known fault 503", got, err)
	}
}

func TestCounters(t *testing.T) {
	f := newFake(t, apitest.Options[int]{})
	f.api.FailNext(1, 500)
	for _, path := range []string{"/a", "/b", "/a"} {
		if _, err := get(t.Context(), f.url+path); err != nil {
			t.Fatal(err)
		}
	}
	f.api.AddStatus(200)
	f.api.AddStatus(0)
	f.api.AddStatus(200)

	got := f.api.Requests()
	if want := map[string]int{"/a": 2, "/b": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("Requests() = %v, want %v (a faulted request counts too)", got, want)
	}
	got["/c"] = 1
	tests := []struct {
		name      string
		got, want int
	}{
		{"Count(/a)", f.api.Count("/a"), 2},
		{"Count(/b)", f.api.Count("/b"), 1},
		{"Count(/c) after changing the copy", f.api.Count("/c"), 0},
		{"CountStatus(200)", f.api.CountStatus(200), 2},
		{"CountStatus(0)", f.api.CountStatus(0), 1},
		{"CountStatus(500)", f.api.CountStatus(500), 0},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}

	f.api.ResetCounts()
	if got := f.api.Requests(); got == nil || len(got) != 0 || f.api.CountStatus(200) != 0 {
		t.Errorf("after ResetCounts: Requests() = %#v, CountStatus(200) = %d", got, f.api.CountStatus(200))
	}
}

func TestLatency(t *testing.T) {
	tests := []struct {
		name    string
		latency time.Duration
		end     string // what ends the wait: "timer", "client" or "close"
		wantErr bool
		// faultLeft: the queued fault is still there afterwards (an
		// aborted wait takes none).
		faultLeft bool
	}{
		{"waits, then takes the fault", 20 * time.Millisecond, "timer", false, false},
		{"client gone: aborted", time.Hour, "client", true, true},
		{"Close: aborted", time.Hour, "close", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, apitest.Options[int]{})
			// Each wait is seen to begin, with its length, and ends only
			// when the test fires it: nothing is timed.
			begun, fire := make(chan time.Duration, 1), make(chan time.Time)
			f.api.SetTimer(func(d time.Duration) (<-chan time.Time, func() bool) {
				begun <- d
				return fire, func() bool { return true }
			})
			f.api.SetLatency(tt.latency)
			f.api.FailNext(1, 503)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			type result struct {
				status int
				err    error
			}
			done := make(chan result, 1)
			go func() {
				code, err := get(ctx, f.url+"/")
				done <- result{code, err}
			}()
			select {
			case d := <-begun:
				if d != tt.latency {
					t.Fatalf("waited %v, want the latency %v", d, tt.latency)
				}
			case res := <-done:
				t.Fatalf("answered (HTTP %d, %v) without waiting out the latency", res.status, res.err)
			}
			switch tt.end {
			case "timer":
				fire <- time.Now()
			case "client":
				cancel()
			case "close":
				f.api.Close()
			}
			res := <-done
			if (res.err != nil) != tt.wantErr {
				t.Fatalf("HTTP %d, err %v; want an error: %v", res.status, res.err, tt.wantErr)
			}
			if tt.end == "timer" {
				if res.status != 503 {
					t.Errorf("HTTP %d after the wait, want the fault's 503", res.status)
				}
				return
			}
			if tt.faultLeft {
				f.api.SetLatency(0)
				if code, err := get(t.Context(), f.url+"/"); err != nil || code != 503 {
					t.Errorf("next request: HTTP %d (%v), want the fault 503 still queued", code, err)
				}
			}
		})
	}
}

func TestDrop(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { apitest.Drop(w) }))
	defer ts.Close()
	if code, err := get(t.Context(), ts.URL); err == nil {
		t.Errorf("HTTP %d, want a transport error", code)
	}

	defer func() {
		if r := recover(); r != http.ErrAbortHandler {
			t.Errorf("Drop on a ResponseRecorder: recovered %v, want http.ErrAbortHandler", r)
		}
	}()
	apitest.Drop(httptest.NewRecorder())
}

func TestWriteHTML(t *testing.T) {
	tests := []struct {
		code          int
		charset, page string
		wantType      string
	}{
		{502, "iso-8859-1", apitest.ApacheProxyError, "text/html; charset=iso-8859-1"},
		{503, "utf-8", "<html></html>\n", "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			w := httptest.NewRecorder()
			apitest.WriteHTML(w, tt.code, tt.charset, tt.page)
			if w.Code != tt.code || w.Header().Get("Content-Type") != tt.wantType || w.Body.String() != tt.page {
				t.Errorf("HTTP %d, Content-Type %q, body %q", w.Code, w.Header().Get("Content-Type"), w.Body)
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	tests := []struct {
		code        int
		contentType string
		body        any
		want        string
	}{
		{200, "application/json", map[string]any{"a": 1}, `{"a":1}`},
		{400, "application/problem+json", struct {
			Detail string `json:"detail"`
		}{"<&>"}, `{"detail":"\u003c\u0026\u003e"}`},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			w := httptest.NewRecorder()
			apitest.WriteJSON(w, tt.code, tt.contentType, tt.body)
			if w.Code != tt.code || w.Header().Get("Content-Type") != tt.contentType || w.Body.String() != tt.want {
				t.Errorf("HTTP %d, Content-Type %q, body %s; want %d, %q, %s",
					w.Code, w.Header().Get("Content-Type"), w.Body, tt.code, tt.contentType, tt.want)
			}
		})
	}
}

func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		data    string
		wantErr bool
	}{
		{`{"a":1}`, false},
		{" {\"a\":1}\n\t ", false},
		{`{"a":1} {}`, true},
		{`{"a":1}x`, true},
		{`{"a":`, true},
		{``, true},
	}
	for _, tt := range tests {
		var v map[string]int
		err := apitest.DecodeStrict([]byte(tt.data), &v)
		if (err != nil) != tt.wantErr {
			t.Errorf("DecodeStrict(%q) = %v, want an error: %v", tt.data, err, tt.wantErr)
		}
		if err == nil && v["a"] != 1 {
			t.Errorf("DecodeStrict(%q) decoded %v", tt.data, v)
		}
	}
}
