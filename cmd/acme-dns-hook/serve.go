package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/journal"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/redact"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/solver"
)

const defaultListen = "127.0.0.1:8080"

// limits bound what a client can make serve hold: a client that is slow to
// send its headers or body, or that keeps an idle connection, is dropped;
// bodies beyond MaxBody are refused unread; no more than MaxConns
// connections are open at once (further ones wait to be accepted).
type limits struct {
	ReadHeader, Read, Idle time.Duration
	MaxHeader              int
	MaxBody                int64
	MaxConns               int
}

var serveLimits = limits{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Idle: 60 * time.Second,
	MaxHeader: 16 << 10, MaxBody: 64 << 10, MaxConns: 64}

// newServer returns the HTTP server that runs h with l, and its listener on
// ln.
func newServer(h *handler, ln net.Listener, l limits) (*http.Server, *limitListener) {
	h.maxBody = l.MaxBody
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeader,
		ReadTimeout:       l.Read,
		IdleTimeout:       l.Idle,
		MaxHeaderBytes:    l.MaxHeader,
	}, newLimitListener(ln, l.MaxConns)
}

// limitListener accepts at most cap(sem) connections that are open at once;
// Accept waits while that many are.
type limitListener struct {
	net.Listener
	sem     chan struct{}
	waiting func() // called when Accept waits for a free slot; set in tests
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n)}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	default:
		if l.waiting != nil {
			l.waiting()
		}
		l.sem <- struct{}{}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

func serveSecrets(env settings.Env) []string {
	if p, _ := env.Get("ACME_HOOK_SERVE_PASSWORD"); p != "" {
		return []string{p}
	}
	return nil
}

// serve answers lego's httpreq protocol: POST /present and POST /cleanup with
// {"fqdn","value"} or, in RAW mode, {"domain","token","keyAuth"}.
func serve(ctx context.Context, args []string, env settings.Env, s *solver.Solver, stderr io.Writer) error {
	listen := defaultListen
	for len(args) > 0 {
		switch a := args[0]; {
		case a == "--listen" && len(args) > 1:
			listen, args = args[1], args[2:]
		case strings.HasPrefix(a, "--listen="):
			listen, args = strings.TrimPrefix(a, "--listen="), args[1:]
		default:
			return usageErr("serve: unknown argument %q (use --listen HOST:PORT)", a)
		}
	}
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return usageErr("serve: --listen %q is not HOST:PORT: %v", listen, err)
	}
	user, err := env.Get("ACME_HOOK_SERVE_USERNAME")
	if err != nil {
		return err
	}
	pass, err := env.Get("ACME_HOOK_SERVE_PASSWORD")
	if err != nil {
		return err
	}
	if user == "" || pass == "" {
		return failure{2, errors.New("serve needs ACME_HOOK_SERVE_USERNAME and ACME_HOOK_SERVE_PASSWORD: set both and give lego the same as HTTPREQ_USERNAME/HTTPREQ_PASSWORD")}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	h := newHandler(s, user, pass, stderr, append(providers.Secrets(env), pass))
	if h.journal, err = openJournal(env); err != nil {
		return err
	}
	srv, lln := newServer(h, ln, serveLimits)
	fmt.Fprintf(stderr, "acme-dns-hook: serving POST /present and /cleanup on http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(lln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// newHandler returns the HTTP handler serve runs: it requires HTTP Basic
// credentials user and pass, logs one line per request to log, and removes
// secrets from every message.
func newHandler(s *solver.Solver, user, pass string, log io.Writer, secrets []string) *handler {
	return &handler{s: s, user: sha256.Sum256([]byte(user)), pass: sha256.Sum256([]byte(pass)), log: log, secrets: secrets, maxBody: serveLimits.MaxBody}
}

type handler struct {
	s          *solver.Solver
	user, pass [32]byte
	log        io.Writer
	secrets    []string
	maxBody    int64
	journal    *journal.Journal // nil: none
}

type request struct {
	FQDN    string `json:"fqdn"`
	Value   string `json:"value"`
	Domain  string `json:"domain"`
	Token   string `json:"token"`
	KeyAuth string `json:"keyAuth"`
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action := strings.TrimPrefix(r.URL.Path, "/")
	// Every refusal up to the authentication (and of a body announced too
	// large) leaves the body unread and closes the connection, so that
	// nobody unauthenticated makes serve read anything beyond the headers.
	if action != "present" && action != "cleanup" {
		h.refuse(w, http.StatusNotFound, "not found: use POST /present or POST /cleanup")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, http.StatusMethodNotAllowed, "method not allowed: use POST")
		return
	}
	u, p, ok := r.BasicAuth()
	uh, ph := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))
	if !ok || subtle.ConstantTimeCompare(uh[:], h.user[:])&subtle.ConstantTimeCompare(ph[:], h.pass[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="acme-dns-hook"`)
		h.refuse(w, http.StatusUnauthorized, "unauthorized: send the HTTP Basic credentials of ACME_HOOK_SERVE_USERNAME/_PASSWORD")
		return
	}
	if r.ContentLength > h.maxBody {
		h.refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body too large: %d bytes, at most %d", r.ContentLength, h.maxBody))
		return
	}
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err := dec.Decode(&req); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.reply(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body too large: more than %d bytes", h.maxBody))
			return
		}
		h.reply(w, http.StatusBadRequest, "bad request: body must be JSON {fqdn,value} or {domain,token,keyAuth}: "+err.Error())
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		h.reply(w, http.StatusBadRequest, "bad request: the body holds more than one JSON object")
		return
	}
	var ch solver.Challenge
	switch {
	case req.FQDN != "" && req.Value != "":
		ch = solver.Challenge{FQDN: req.FQDN, Value: req.Value}
	case req.Domain != "" && req.KeyAuth != "":
		ch = solver.FromKeyAuth(req.Domain, req.KeyAuth)
	default:
		h.reply(w, http.StatusBadRequest, "bad request: need fqdn and value, or domain, token and keyAuth")
		return
	}
	if err := checkChallenge(&ch); err != nil {
		h.reply(w, http.StatusBadRequest, "bad request: "+err.Error())
		return
	}
	if !strings.HasPrefix(ch.FQDN, "_acme-challenge.") {
		h.reply(w, http.StatusForbidden, fmt.Sprintf("forbidden: only _acme-challenge TXT records are served, not %q", ch.FQDN))
		return
	}
	var err error
	if action == "present" {
		err = h.present(r.Context(), ch)
	} else if err = h.s.Cleanup(r.Context(), ch); err == nil && h.journal != nil {
		err = h.journal.Forget(ch.FQDN, ch.Value)
	}
	if err != nil {
		h.reply(w, http.StatusBadGateway, fmt.Sprintf("%s %q failed: %v", action, ch.FQDN, err))
		return
	}
	h.reply(w, http.StatusOK, fmt.Sprintf("%s %q %q: done", action, ch.FQDN, ch.Value))
}

// present notes ch in the journal before writing it and marks it presented
// afterwards, as the present command does.
func (h *handler) present(ctx context.Context, ch solver.Challenge) error {
	if h.journal == nil {
		return h.s.Present(ctx, ch)
	}
	e, err := h.journal.Begin(ch.FQDN, ch.Value)
	if err != nil {
		return err
	}
	if err := h.s.Present(ctx, ch); err != nil {
		return err
	}
	return h.journal.Complete(e)
}

// refuse replies and closes the connection without reading the request's
// body: net/http would otherwise read up to 256 KiB of it after the
// handler, for whoever sent it.
func (h *handler) refuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Connection", "close")
	h.reply(w, status, msg)
	rc := http.NewResponseController(w)
	if rc.Flush() != nil {
		return
	}
	if conn, _, err := rc.Hijack(); err == nil {
		conn.Close()
	}
}

func (h *handler) reply(w http.ResponseWriter, status int, msg string) {
	msg = strings.ReplaceAll(redact.String(msg, h.secrets...), "\n", "; ")
	fmt.Fprintf(h.log, "acme-dns-hook serve: %d %s\n", status, msg)
	body, _ := json.Marshal(map[string]string{"message": msg})
	body = append(body, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
