// Package apitest holds the building blocks for faithful fakes of provider
// APIs (the *test packages under internal/api).
//
// [Start] runs a fake's handler on a loopback [Server], which does what
// every fake does with a request before it looks at it: count it, wait out
// an injected latency and take the next injected fault. [Drop] and
// [WriteHTML] are the provider-independent ways an answer can fail;
// [WriteJSON] and [DecodeStrict] are the JSON plumbing.
//
// A fake shares its test-facing surface by embedding, not by re-declaring
// it: its Server struct embeds [Controls] (and [StatusCounter] if it counts
// answers by status) and sets them to the *[Server] that [Start] returned,
// which it also keeps in an unexported field for its handler. The two
// interfaces are exactly what is promoted onto the fake, so a fake's
// callers see Close, Requests, Count, ResetCounts, SetLatency and FailNext
// (and CountStatus), never Receive or AddStatus, which belong to the fake's
// handler alone:
//
//	type Server struct {
//		URL string
//		apitest.Controls[Fault]
//		api *apitest.Server[Fault]
//		...
//	}
//
//	s.api = apitest.Start(http.HandlerFunc(s.serve), apitest.Options[Fault]{Known: ...})
//	s.Controls, s.URL = s.api, s.api.URL+"/api/"
//
// What an answer looks like — status codes, bodies, headers — stays with
// each fake: [Server.Receive] hands the fake the fault to answer with, in
// the fake's own Fault type, and the fake writes it in its provider's error
// format.
package apitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Controls is the test-facing surface every fake shares. A fake's Server
// embeds it, set to the *[Server] its handler runs on, so these are the
// fake's own methods; see [Server] for what each one does. Endpoint keys
// are the fake's Endpoint* constants, faults its Fault constants.
type Controls[F any] interface {
	Close()
	Requests() map[string]int
	Count(endpoint string) int
	ResetCounts()
	SetLatency(d time.Duration)
	FailNext(n int, f F)
	SetEcho(e Echo)
}

// StatusCounter is the surface a fake that counts its answers by HTTP
// status (with [Server.AddStatus]) embeds besides [Controls]; see
// [Server.CountStatus].
type StatusCounter interface {
	CountStatus(code int) int
}

var (
	_ Controls[int] = (*Server[int])(nil)
	_ StatusCounter = (*Server[int])(nil)
)

// Options are a fake's choices that [Start] fixes for the server's life.
// The zero value accepts every fault and makes FailNext with n <= 0 do
// nothing.
type Options[F any] struct {
	// Known reports whether f is a fault the fake can answer with:
	// [Server.FailNext] panics on any f for which it returns false, so a
	// test cannot queue a fault the fake would silently ignore. Nil
	// accepts every value.
	Known func(f F) bool
	// ZeroClears makes [Server.FailNext] with n <= 0 empty the fault
	// queue instead of doing nothing.
	ZeroClears bool
}

// Server is the provider-independent half of a fake API server: a loopback
// HTTP server, per-endpoint request counters, per-status answer counters,
// an injected latency and a queue of injected faults of the fake's type F,
// whose zero value must mean "no fault".
//
// Create it with [Start]. All methods are safe for concurrent use, also
// while requests are in flight.
type Server[F any] struct {
	// URL is the server's base URL, "http://HOST:PORT" without a trailing
	// slash.
	URL string

	ts        *httptest.Server
	closed    chan struct{}
	closeOnce sync.Once
	opts      Options[F]

	mu       sync.Mutex
	requests map[string]int
	statuses map[int]int
	latency  time.Duration
	faults   []faultRun[F]
	echo     Echo
	// timer starts the latency wait; nil means a real timer (replaced in
	// this package's tests, see export_test.go).
	timer func(d time.Duration) (<-chan time.Time, func() bool)
}

type faultRun[F any] struct {
	fault F
	left  int
}

// Start serves h on a loopback address (127.0.0.1 unless only IPv6 is
// available) with no latency and no queued fault. The caller must call
// [Server.Close].
//
// A fake whose handler reads fields set from the returned Server (its
// Controls, say) uses [New] and [Server.Serve] instead, setting those
// fields in between, so no request can read them before they are set.
func Start[F any](h http.Handler, opts Options[F]) *Server[F] {
	s := New(h, opts)
	s.Serve()
	return s
}

// New prepares a server for h that does not serve until [Server.Serve].
func New[F any](h http.Handler, opts Options[F]) *Server[F] {
	return &Server[F]{
		ts:       httptest.NewUnstartedServer(h),
		closed:   make(chan struct{}),
		opts:     opts,
		requests: map[string]int{},
		statuses: map[int]int{},
	}
}

// Serve starts serving on a loopback address and sets URL. It must be
// called once, after New; everything written before it happens before any
// request is handled.
func (s *Server[F]) Serve() {
	s.ts.Start()
	s.URL = s.ts.URL
}

// Close aborts requests that are still waiting out the latency (on any
// listener), shuts the server down and blocks until all its requests have
// finished. Calling it more than once is harmless.
func (s *Server[F]) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.ts.Close()
	})
}

// Receive does what a fake does first with every request: it counts r under
// endpoint, waits out the latency and then takes the next queued fault,
// which it returns (the zero F if none is queued). A request is counted
// whatever becomes of it.
//
// If the client goes away or the server is closed during the wait, Receive
// does not return: it aborts the handler (panics with http.ErrAbortHandler),
// so the connection is closed without an answer and no fault is taken.
func (s *Server[F]) Receive(r *http.Request, endpoint string) F {
	s.mu.Lock()
	s.requests[endpoint]++
	latency := s.latency
	timer := s.timer
	s.mu.Unlock()

	if latency > 0 {
		if timer == nil {
			timer = func(d time.Duration) (<-chan time.Time, func() bool) {
				t := time.NewTimer(d)
				return t.C, t.Stop
			}
		}
		fired, stop := timer(latency)
		defer stop()
		select {
		case <-fired:
		case <-r.Context().Done():
			panic(http.ErrAbortHandler) // nobody reads an answer
		case <-s.closed:
			panic(http.ErrAbortHandler)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var f F
	if len(s.faults) > 0 {
		f = s.faults[0].fault
		if s.faults[0].left--; s.faults[0].left == 0 {
			s.faults = s.faults[1:]
		}
	}
	return f
}

// Requests returns a copy of the request counters, keyed by endpoint.
// Endpoints that received no request are absent.
func (s *Server[F]) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.requests)
}

// Count returns how many requests endpoint has received since the start or
// the last [Server.ResetCounts], whatever became of them (faulted, refused
// or answered).
func (s *Server[F]) Count(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[endpoint]
}

// AddStatus counts an answer with HTTP status code; fakes that count their
// answers call it once per request (with 0 for a connection closed without
// an answer, if they count those).
func (s *Server[F]) AddStatus(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses[code]++
}

// CountStatus returns how many answers with HTTP status code were counted
// by [Server.AddStatus] since the start or the last [Server.ResetCounts].
func (s *Server[F]) CountStatus(code int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statuses[code]
}

// ResetCounts sets all request and status counters to zero.
func (s *Server[F]) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.requests)
	clear(s.statuses)
}

// SetLatency makes [Server.Receive] delay every request received from now
// on by d, before it takes a fault; the wait ends early, without an answer,
// if the client goes away or the server is closed. Zero or negative
// disables it.
func (s *Server[F]) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// FailNext queues f for the next n requests, to any endpoint, after the
// faults queued before: FailNext(1, A) then FailNext(2, B) makes
// [Server.Receive] return A once, then B twice, then the zero F again, so
// that the fake answers those requests with the fault instead of handling
// them. n <= 0 does nothing, or empties the queue if the server was started
// with [Options.ZeroClears]. It panics, whatever n is, on an f that
// [Options.Known] rejects.
func (s *Server[F]) FailNext(n int, f F) {
	if s.opts.Known != nil && !s.opts.Known(f) {
		panic(fmt.Sprintf("apitest: FailNext: %v is not a known %T", f, f))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case n > 0:
		s.faults = append(s.faults, faultRun[F]{fault: f, left: n})
	case s.opts.ZeroClears:
		s.faults = nil
	}
}

// Drop closes the connection of w without answering; the client sees a
// transport error. Nothing may be written to w before or after. If the
// connection cannot be taken over (HTTP/2, a ResponseRecorder), it aborts
// the handler (panics with http.ErrAbortHandler) instead, to the same
// effect.
//
// Note that Go's http.Transport may transparently retry an idempotent
// request that failed this way on a reused keep-alive connection.
func Drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// ApacheProxyError is the page Apache httpd's mod_proxy sends with a 502
// when the application behind it fails, in ISO-8859-1.
const ApacheProxyError = "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n" +
	"<html><head><title>502 Proxy Error</title></head><body>\n" +
	"<h1>Proxy Error</h1></body></html>\n"

// WriteHTML answers with HTTP status code and page, with the Content-Type
// "text/html; charset=" + charset, as a reverse proxy in front of an API
// does when the API fails.
func WriteHTML(w http.ResponseWriter, code int, charset, page string) {
	w.Header().Set("Content-Type", "text/html; charset="+charset)
	w.WriteHeader(code)
	io.WriteString(w, page)
}

// WriteJSON answers with HTTP status code and body marshalled by
// encoding/json (HTML characters escaped, no trailing newline), under the
// given Content-Type. It panics if body cannot be marshalled: fakes only
// marshal their own types.
func WriteJSON(w http.ResponseWriter, code int, contentType string, body any) {
	buf, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(code)
	w.Write(buf)
}

// DecodeStrict decodes exactly one JSON value from data into v, refusing
// trailing data (anything but white space after the value).
func DecodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// JSONLines returns each record as one line of JSON, in order: a fake's
// Snapshot, where equal snapshots mean nothing changed.
func JSONLines[R any](recs []R) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			panic("apitest: JSONLines: " + err.Error())
		}
		out[i] = string(b)
	}
	return out
}

// Buffer collects output written from many goroutines (a server's log, a
// child process's stderr); its zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
