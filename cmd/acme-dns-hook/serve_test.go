package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providertest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

const serveUser, servePass = "lego", "serve-password-5d2f9a"

// startStack starts the mijn.host fake seeded with providertest's zone
// and a DNS server serving it, and returns them with the environment a
// hook process needs on them.
func startStack(t *testing.T) (*mijnhosttest.Server, []string) {
	t.Helper()
	stack, err := providertest.Start("mijnhost", providertest.Zone, providertest.Seed(), []string{"example.net"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	return stack.Fake.(*mijnhosttest.Server), append(stack.Env(), "ACME_HOOK_LOCK_DIR="+t.TempDir(), "ACME_HOOK_POLLING_INTERVAL=1")
}

// envFunc turns KEY=VALUE lines into a settings.Env; later lines win.
func envFunc(lines []string) settings.Env {
	return func(k string) (string, bool) {
		for i := len(lines) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(lines[i], k+"="); ok {
				return v, true
			}
		}
		return "", false
	}
}

// challenges returns the _acme-challenge TXT values in the zone, by name.
func challenges(fake *mijnhosttest.Server, zone string) map[string][]string {
	out := map[string][]string{}
	for _, r := range fake.Records(zone) {
		if r.Type == "TXT" && strings.HasPrefix(r.Name, "_acme-challenge.") {
			out[r.Name] = append(out[r.Name], r.Value)
		}
	}
	return out
}

// startHandler serves the handler serve builds, on a solver for a fresh
// fake and DNS server, as `acme-dns-hook serve` would.
func startHandler(t *testing.T) (*mijnhosttest.Server, *httptest.Server, *apitest.Buffer) {
	t.Helper()
	stack, lines := startStack(t)
	env := envFunc(lines)
	spec, err := providers.Select("", env)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSolver(spec, env, true, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	log := &apitest.Buffer{}
	srv := httptest.NewServer(newHandler(s, serveUser, servePass, log, append(providers.Secrets(env), servePass)))
	t.Cleanup(srv.Close)
	return stack, srv, log
}

func TestServeHandler(t *testing.T) {
	const v1, v2 = "serve-digest-one-0123456789abcdefghijklmnop", "serve-digest-two-0123456789abcdefghijklmnop"
	sum := sha256.Sum256([]byte("tok.thumbprint"))
	rawValue := base64.RawURLEncoding.EncodeToString(sum[:])
	type req struct {
		method, path, body string
		user, pass         string // both empty: no Authorization header
	}
	auth := func(method, path, body string) req { return req{method, path, body, serveUser, servePass} }
	tests := []struct {
		name       string
		setup      []req // each must answer 200
		req        req
		fault      mijnhosttest.Fault // injected before req, for 10 requests
		wantStatus int
		wantBody   string
		wantHeader [2]string
		want       map[string][]string // challenge records afterwards
	}{
		{name: "present", req: auth("POST", "/present", `{"fqdn":"_acme-challenge.example.test.","value":"`+v1+`"}`),
			wantStatus: 200, wantBody: "done",
			want: map[string][]string{"_acme-challenge.example.test.": {v1}}},
		{name: "present without trailing dot, two values", setup: []req{auth("POST", "/present", `{"fqdn":"_acme-challenge.example.test","value":"`+v1+`"}`)},
			req:        auth("POST", "/present", `{"fqdn":"_acme-challenge.example.test","value":"`+v2+`"}`),
			wantStatus: 200, want: map[string][]string{"_acme-challenge.example.test.": {v1, v2}}},
		{name: "RAW present", req: auth("POST", "/present", `{"domain":"www.example.test","token":"tok","keyAuth":"tok.thumbprint"}`),
			wantStatus: 200, want: map[string][]string{"_acme-challenge.www.example.test.": {rawValue}}},
		{name: "RAW present for a wildcard", req: auth("POST", "/present", `{"domain":"*.example.test","token":"tok","keyAuth":"tok.thumbprint"}`),
			wantStatus: 200, want: map[string][]string{"_acme-challenge.example.test.": {rawValue}}},
		{name: "cleanup removes only that value", setup: []req{
			auth("POST", "/present", `{"fqdn":"_acme-challenge.example.test.","value":"`+v1+`"}`),
			auth("POST", "/present", `{"fqdn":"_acme-challenge.example.test.","value":"`+v2+`"}`),
		}, req: auth("POST", "/cleanup", `{"fqdn":"_acme-challenge.example.test.","value":"`+v1+`"}`),
			wantStatus: 200, want: map[string][]string{"_acme-challenge.example.test.": {v2}}},
		{name: "RAW cleanup", setup: []req{
			auth("POST", "/present", `{"domain":"www.example.test","token":"tok","keyAuth":"tok.thumbprint"}`),
		}, req: auth("POST", "/cleanup", `{"domain":"www.example.test","token":"tok","keyAuth":"tok.thumbprint"}`),
			wantStatus: 200, want: map[string][]string{}},
		{name: "cleanup of a value that is gone", req: auth("POST", "/cleanup", `{"fqdn":"_acme-challenge.example.test.","value":"`+v1+`"}`),
			wantStatus: 200, want: map[string][]string{}},
		{name: "no credentials", req: req{"POST", "/present", `{"fqdn":"_acme-challenge.example.test.","value":"` + v1 + `"}`, "", ""},
			wantStatus: 401, wantBody: "unauthorized", wantHeader: [2]string{"WWW-Authenticate", `Basic realm="acme-dns-hook"`}},
		{name: "wrong password", req: req{"POST", "/present", `{"fqdn":"_acme-challenge.example.test.","value":"` + v1 + `"}`, serveUser, "wrong"},
			wantStatus: 401, wantHeader: [2]string{"WWW-Authenticate", `Basic realm="acme-dns-hook"`}},
		{name: "wrong username", req: req{"POST", "/cleanup", `{"fqdn":"_acme-challenge.example.test.","value":"` + v1 + `"}`, "admin", servePass},
			wantStatus: 401, wantHeader: [2]string{"WWW-Authenticate", `Basic realm="acme-dns-hook"`}},
		{name: "empty password", req: req{"POST", "/present", `{"fqdn":"_acme-challenge.example.test.","value":"` + v1 + `"}`, serveUser, ""},
			wantStatus: 401},
		{name: "GET", req: auth("GET", "/present", ""), wantStatus: 405, wantHeader: [2]string{"Allow", "POST"}},
		{name: "PUT", req: auth("PUT", "/cleanup", `{"fqdn":"_acme-challenge.example.test.","value":"`+v1+`"}`), wantStatus: 405},
		{name: "unknown path", req: auth("POST", "/other", `{"fqdn":"_acme-challenge.example.test.","value":"`+v1+`"}`), wantStatus: 404},
		{name: "root", req: auth("POST", "/", ""), wantStatus: 404},
		{name: "not an _acme-challenge name", req: auth("POST", "/present", `{"fqdn":"www.example.test.","value":"`+v1+`"}`),
			wantStatus: 403, wantBody: "only _acme-challenge"},
		{name: "_acme-challenge not the first label", req: auth("POST", "/present", `{"fqdn":"x._acme-challenge.example.test.","value":"`+v1+`"}`),
			wantStatus: 403},
		{name: "malformed JSON", req: auth("POST", "/present", `{"fqdn":`), wantStatus: 400, wantBody: "bad request"},
		{name: "not JSON", req: auth("POST", "/present", `fqdn=_acme-challenge.example.test.&value=x`), wantStatus: 400},
		{name: "empty body", req: auth("POST", "/present", ``), wantStatus: 400},
		{name: "a second JSON object after the first", req: auth("POST", "/present", `{"fqdn":"_acme-challenge.example.test.","value":"`+v1+`"} {"fqdn":"_acme-challenge.example.test.","value":"`+v2+`"}`),
			wantStatus: 400, wantBody: "more than one JSON object"},
		{name: "garbage after the JSON", req: auth("POST", "/present", `{"fqdn":"_acme-challenge.example.test.","value":"`+v1+`"}garbage`),
			wantStatus: 400, wantBody: "more than one JSON object"},
		{name: "body over the limit", req: auth("POST", "/present", `{"fqdn":"_acme-challenge.example.test.","value":"`+v1+`","pad":"`+strings.Repeat("x", 64<<10)+`"}`),
			wantStatus: 413, wantBody: "too large"},
		{name: "control characters in the name", req: auth("POST", "/present", `{"fqdn":"_acme-challenge.ex\u001b[2Jample.test.","value":"`+v1+`"}`),
			wantStatus: 400, wantBody: `"_acme-challenge.ex\x1b[2Jample.test." is not a DNS name`},
		{name: "name with a leading dot", req: auth("POST", "/present", `{"fqdn":"._acme-challenge.example.test.","value":"`+v1+`"}`),
			wantStatus: 400, wantBody: "starts with a dot"},
		{name: "value not of DNS-01 shape", req: auth("POST", "/present", `{"fqdn":"_acme-challenge.example.test.","value":"v\n1"}`),
			wantStatus: 400, wantBody: `TXT value "v\n1" is not a DNS-01 challenge value`},
		{name: "value missing", req: auth("POST", "/present", `{"fqdn":"_acme-challenge.example.test."}`), wantStatus: 400},
		{name: "keyAuth missing", req: auth("POST", "/present", `{"domain":"example.test","token":"tok"}`), wantStatus: 400},
		{name: "provider fails", req: auth("POST", "/present", `{"fqdn":"_acme-challenge.example.test.","value":"`+v1+`"}`),
			fault: mijnhosttest.FaultServerError, wantStatus: 502, wantBody: `present "_acme-challenge.example.test." failed`},
		{name: "provider fails on cleanup", setup: []req{auth("POST", "/present", `{"fqdn":"_acme-challenge.example.test.","value":"`+v1+`"}`)},
			req:   auth("POST", "/cleanup", `{"fqdn":"_acme-challenge.example.test.","value":"`+v1+`"}`),
			fault: mijnhosttest.FaultBadGatewayHTML, wantStatus: 502,
			want: map[string][]string{"_acme-challenge.example.test.": {v1}}},
	}
	do := func(t *testing.T, srv *httptest.Server, r req) (*http.Response, string) {
		t.Helper()
		hr, err := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if r.user != "" || r.pass != "" {
			hr.SetBasicAuth(r.user, r.pass)
		}
		hr.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(body)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stack, srv, log := startHandler(t)
			for _, r := range tt.setup {
				if resp, body := do(t, srv, r); resp.StatusCode != 200 {
					t.Fatalf("setup %s %s: %d %s", r.method, r.path, resp.StatusCode, body)
				}
			}
			stack.ResetCounts()
			if tt.fault != 0 {
				stack.FailNext(10, tt.fault)
			}
			resp, body := do(t, srv, tt.req)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			var msg struct{ Message string }
			if err := json.Unmarshal([]byte(body), &msg); err != nil || msg.Message == "" {
				t.Errorf("body is not JSON {\"message\": ...}: %q (%v)", body, err)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if !strings.Contains(msg.Message, tt.wantBody) {
				t.Errorf("message %q lacks %q", msg.Message, tt.wantBody)
			}
			if h := tt.wantHeader; h[0] != "" && resp.Header.Get(h[0]) != h[1] {
				t.Errorf("header %s: %q, want %q", h[0], resp.Header.Get(h[0]), h[1])
			}
			for _, secret := range []string{mijnhosttest.SeedKey, servePass} {
				if strings.Contains(body, secret) || strings.Contains(log.String(), secret) {
					t.Errorf("a secret shows in the reply or the log:\nreply %s\nlog %s", body, log.String())
				}
			}
			want := tt.want
			if want == nil {
				want = map[string][]string{}
			}
			if got := challenges(stack, providertest.Zone); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("challenge records %v, want %v", got, want)
			}
			if tt.wantStatus != 200 {
				for _, e := range []string{mijnhosttest.EndpointPutRecords, mijnhosttest.EndpointPatchRecord} {
					if n := stack.Count(e); n != 0 {
						t.Errorf("a refused request changed the zone: %d × %s", n, e)
					}
				}
			}
			if strings.ContainsAny(log.String(), "\x1b") || strings.Count(log.String(), "\n") > len(tt.setup)+1 {
				t.Errorf("the log shows input raw: %q", log.String())
			}
			if !strings.Contains(log.String(), fmt.Sprintf("acme-dns-hook serve: %d ", tt.wantStatus)) {
				t.Errorf("log lacks the request's line: %q", log.String())
			}
		})
	}
}

func TestServeNeedsCredentials(t *testing.T) {
	_, env := startStack(t)
	tests := []struct {
		name string
		env  []string
	}{
		{"neither", nil},
		{"username only", []string{"ACME_HOOK_SERVE_USERNAME=lego"}},
		{"password only", []string{"ACME_HOOK_SERVE_PASSWORD=" + servePass}},
		{"empty password", []string{"ACME_HOOK_SERVE_USERNAME=lego", "ACME_HOOK_SERVE_PASSWORD="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			// Should serve start after all, the deadline stops it.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			code := run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, envFunc(append(env, tt.env...)), &stdout, &stderr)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr %s", code, stderr.String())
			}
			for _, w := range []string{"ACME_HOOK_SERVE_USERNAME", "ACME_HOOK_SERVE_PASSWORD"} {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not name %s: %q", w, stderr.String())
				}
			}
			if strings.Contains(stderr.String(), "serving") {
				t.Errorf("serve started listening: %q", stderr.String())
			}
			if strings.Contains(stderr.String(), servePass) || strings.Contains(stderr.String(), mijnhosttest.SeedKey) {
				t.Errorf("stderr shows a secret: %q", stderr.String())
			}
		})
	}
}

// startLimited runs the handler serve builds on a server and listener made
// by newServer with l, as serve does, and returns its address.
func startLimited(t *testing.T, l limits) (string, *mijnhosttest.Server, *apitest.Buffer, *limitListener) {
	t.Helper()
	stack, lines := startStack(t)
	env := envFunc(lines)
	spec, err := providers.Select("", env)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSolver(spec, env, true, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	log := &apitest.Buffer{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, lln := newServer(newHandler(s, serveUser, servePass, log, append(providers.Secrets(env), servePass)), ln, l)
	go srv.Serve(lln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), stack, log, lln
}

// exchange sends raw on a new connection and returns everything the server
// sends until it closes the connection. The deadline only keeps a broken
// server from hanging the test; nothing is timed.
func exchange(t *testing.T, addr, raw string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("no end of the answer to %q: %v (got %q)", raw, err, out)
	}
	return string(out)
}

// TestServeRefusesBeforeReadingTheBody announces large bodies and sends
// none: an unauthenticated request, a wrong path or method and an
// oversized one are answered and their connections closed at once, without
// waiting for a body. A server that read the body first, or drained it
// after the answer (as net/http does with up to 256 KiB), would not close
// the connection.
func TestServeRefusesBeforeReadingTheBody(t *testing.T) {
	l := serveLimits
	l.Read = time.Hour // the server must not wait for the body at all
	addr, stack, log, _ := startLimited(t, l)
	authz := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(serveUser+":"+servePass)) + "\r\n"
	tests := []struct {
		name, head, want string
	}{
		{"no credentials", "POST /present HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n", "HTTP/1.1 401"},
		{"no credentials, small body announced", "POST /present HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", "HTTP/1.1 401"},
		{"wrong method, small body announced", "PUT /present HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", "HTTP/1.1 405"},
		{"wrong credentials", "POST /present HTTP/1.1\r\nHost: x\r\nAuthorization: Basic Zm9vOmJhcg==\r\nContent-Length: 1000000\r\n\r\n", "HTTP/1.1 401"},
		{"wrong path", "POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n", "HTTP/1.1 404"},
		{"announced body over the limit", "POST /present HTTP/1.1\r\nHost: x\r\n" + authz + "Content-Length: 10000000\r\n\r\n", "HTTP/1.1 413"},
	}
	for _, tt := range tests {
		if got := exchange(t, addr, tt.head); !strings.HasPrefix(got, tt.want) || !strings.Contains(got, "Connection: close") {
			t.Errorf("%s: answer %q, want %s and the connection closed", tt.name, got, tt.want)
		}
	}
	if n := len(stack.Requests()); n != 0 {
		t.Errorf("refused requests reached the API: %v", stack.Requests())
	}
	if strings.Count(log.String(), "\n") != len(tests) {
		t.Errorf("want one log line per request:\n%s", log.String())
	}
}

// TestServeDropsStalledClients stalls in each place a client can, with the
// server's timeouts short: the server closes each connection by itself,
// and a half-sent body changes nothing.
func TestServeDropsStalledClients(t *testing.T) {
	l := serveLimits
	l.ReadHeader, l.Read, l.Idle = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	addr, stack, _, _ := startLimited(t, l)
	authz := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(serveUser+":"+servePass)) + "\r\n"
	// Headers never finished: closed without an answer.
	if got := exchange(t, addr, "POST /present HTTP/1.1\r\nHost: x\r\n"); got != "" && !strings.HasPrefix(got, "HTTP/1.1 408") {
		t.Errorf("stalled headers: answer %q", got)
	}
	// Body announced and never sent: no 200, connection closed.
	if got := exchange(t, addr, "POST /present HTTP/1.1\r\nHost: x\r\n"+authz+"Content-Length: 100\r\n\r\n{\"fqdn\""); strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Errorf("stalled body: answer %q", got)
	}
	// A finished exchange kept alive: closed once idle.
	if got := exchange(t, addr, "POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 404") {
		t.Errorf("idle connection: answer %q", got)
	}
	for _, e := range []string{mijnhosttest.EndpointPutRecords, mijnhosttest.EndpointPatchRecord} {
		if n := stack.Count(e); n != 0 {
			t.Errorf("a stalled request changed the zone: %d × %s", n, e)
		}
	}
}

// TestServeLimitsConnections fills the connection cap and dials once more:
// the listener waits for a free slot (it says so) instead of accepting,
// and accepts once a connection closes.
func TestServeLimitsConnections(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	ln := newLimitListener(inner, 2)
	waiting := make(chan struct{}, 1)
	ln.waiting = func() { waiting <- struct{}{} }
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	for range 2 {
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	select {
	case <-waiting:
	case c := <-accepted:
		c.Close()
		t.Fatal("a third connection was accepted while two were open")
	}
	held[0].Close()
	c := <-accepted
	c.Close()
	held[1].Close()
}
