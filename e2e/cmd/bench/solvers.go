package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/go-acme/lego/v4/certificate"
	"github.com/go-acme/lego/v4/challenge"
	"github.com/go-acme/lego/v4/challenge/dns01"
	legomijnhost "github.com/go-acme/lego/v4/providers/dns/mijnhost"
	"github.com/libdns/libdns"
	"go.uber.org/zap"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/legoprovider"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/mijnhost"
)

// meter sums what happens inside the DNS provider during one run: the
// duration of every present and cleanup call (API round trips and the
// provider's own waiting), lego's sequence pauses between one challenge's
// cleanup and the next one's present, and certmagic's propagation waits.
type meter struct {
	mu       sync.Mutex
	provider time.Duration
	pauses   time.Duration
	waits    time.Duration
	presents int
	cleanups int
	// presentsAfterCleanup counts presents that came after some cleanup:
	// zero when the client presents every challenge first.
	presentsAfterCleanup int
	// authzFetches counts the ACME client's requests per authorization
	// object. lego fetches each once when the order starts; after asking
	// for validation it looks once more at once unless the answer said
	// valid, and then again after each backoff sleep.
	authzFetches map[string]int
	lastClean    time.Time
	// sequential: the time between a cleanup and the next present is a
	// sequence pause (lego solves sequential providers one at a time).
	sequential bool
}

func (m *meter) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.provider, m.pauses, m.waits, m.presents, m.cleanups, m.presentsAfterCleanup, m.authzFetches, m.lastClean = 0, 0, 0, 0, 0, 0, map[string]int{}, time.Time{}
}

func (m *meter) present(f func() error) error {
	start := time.Now()
	m.mu.Lock()
	if !m.lastClean.IsZero() {
		m.presentsAfterCleanup++
		if m.sequential {
			m.pauses += start.Sub(m.lastClean)
		}
	}
	m.mu.Unlock()
	err := f()
	d := time.Since(start)
	m.mu.Lock()
	m.provider += d
	m.presents++
	m.mu.Unlock()
	return err
}

func (m *meter) cleanup(f func() error) error {
	start := time.Now()
	err := f()
	end := time.Now()
	m.mu.Lock()
	m.provider += end.Sub(start)
	m.cleanups++
	m.lastClean = end
	m.mu.Unlock()
	return err
}

func (m *meter) wait(f func() error) error {
	start := time.Now()
	err := f()
	m.mu.Lock()
	m.waits += time.Since(start)
	m.mu.Unlock()
	return err
}

type measured struct {
	provider, pauses, waits                  time.Duration
	presents, cleanups, presentsAfterCleanup int
	// backoffs is how many times lego slept its validation backoff.
	backoffs int
}

func (m *meter) read() measured {
	m.mu.Lock()
	defer m.mu.Unlock()
	backoffs := 0
	for _, n := range m.authzFetches {
		backoffs += max(n-2, 0)
	}
	return measured{m.provider, m.pauses, m.waits, m.presents, m.cleanups, m.presentsAfterCleanup, backoffs}
}

// solver obtains one certificate per call through one ACME client and one
// DNS provider.
type solver struct {
	key   string // short id used in flags
	label string // shown in tables
	// settings says how the client and the provider are configured.
	settings string
	// slow: few repeats (see the -slow-repeats flags).
	slow bool
	// hasDNSWait: the meter's waits are measured (certmagic's Wait).
	hasDNSWait bool
	// lego: the ACME client is lego, whose authorization polls are counted.
	lego bool
	m    *meter
	// prepare does the untimed per-run setup (a fresh ACME account for
	// lego, a fresh provider instance for every solver) and returns the
	// timed part: obtaining the certificate, which returns the PEM chain.
	prepare func(ctx context.Context, names []string) (obtain func() ([]byte, error), err error)
}

// env is what every solver shares.
type env struct {
	stack     *localstack.Stack
	pebbleTLS *x509.CertPool
	tmp       string
}

func (e *env) pebbleClient(m *meter) *http.Client {
	return &http.Client{Timeout: 2 * time.Minute, Transport: &acmeCounter{m: m, next: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.pebbleTLS}}}}
}

// acmeCounter counts the ACME client's requests for authorizations
// (Pebble serves them under /authZ/).
type acmeCounter struct {
	m    *meter
	next http.RoundTripper
}

func (c *acmeCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.Contains(req.URL.Path, "/authZ/") {
		c.m.mu.Lock()
		if c.m.authzFetches != nil {
			c.m.authzFetches[req.URL.Path]++
		}
		c.m.mu.Unlock()
	}
	return c.next.RoundTrip(req)
}

// --- lego ---

type (
	challengeProvider = challenge.Provider
	builtinConfig     = legomijnhost.Config
)

// timedLego measures a lego provider's Present and CleanUp.
type timedLego struct {
	p challenge.Provider
	m *meter
}

func (t *timedLego) Present(domain, token, keyAuth string) error {
	return t.m.present(func() error { return t.p.Present(domain, token, keyAuth) })
}

func (t *timedLego) CleanUp(domain, token, keyAuth string) error {
	return t.m.cleanup(func() error { return t.p.CleanUp(domain, token, keyAuth) })
}

func (t *timedLego) Timeout() (timeout, interval time.Duration) {
	if pt, ok := t.p.(challenge.ProviderTimeout); ok {
		return pt.Timeout()
	}
	return dns01.DefaultPropagationTimeout, dns01.DefaultPollingInterval
}

// timedLegoSequential passes a sequential provider's interval on, so lego
// treats the wrapper exactly as it treats the provider.
type timedLegoSequential struct {
	*timedLego
	interval time.Duration
}

func (t timedLegoSequential) Sequential() time.Duration { return t.interval }

func wrapLego(p challenge.Provider, m *meter) challenge.Provider {
	t := &timedLego{p: p, m: m}
	if s, ok := p.(interface{ Sequential() time.Duration }); ok {
		m.sequential = true
		return timedLegoSequential{t, s.Sequential()}
	}
	return t
}

// legoSolver runs the lego library (v4 API, as lego's CLI and Traefik use
// it) with a fresh ACME account per run.
func (e *env) legoSolver(key, label, settings string, slow bool, newProvider func() (challenge.Provider, error)) *solver {
	m := &meter{}
	s := &solver{key: key, label: label, settings: settings, slow: slow, lego: true, m: m}
	s.prepare = func(ctx context.Context, names []string) (func() ([]byte, error), error) {
		p, err := newProvider()
		if err != nil {
			return nil, err
		}
		client, err := e.stack.LegoClient(e.pebbleClient(m))
		if err != nil {
			return nil, err
		}
		err = client.Challenge.SetDNS01Provider(wrapLego(p, m),
			dns01.AddRecursiveNameservers([]string{e.stack.DNS.Addr()}),
			dns01.DisableAuthoritativeNssPropagationRequirement())
		if err != nil {
			return nil, err
		}
		certKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		return func() ([]byte, error) {
			res, err := client.Certificate.Obtain(certificate.ObtainRequest{Domains: names, Bundle: true, PrivateKey: certKey})
			if err != nil {
				return nil, err
			}
			return res.Certificate, nil
		}, nil
	}
	return s
}

// rewriteTransport sends requests for lego's built-in API root to the fake.
type rewriteTransport struct {
	from string   // https://mijn.host/api/v2/
	to   *url.URL // http://127.0.0.1:PORT/api/v2/
	next http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	u := req.URL.String()
	rest, ok := strings.CutPrefix(u, t.from)
	if !ok {
		return nil, fmt.Errorf("bench: lego's mijn.host provider asked for %s, outside %s", u, t.from)
	}
	target, err := url.Parse(t.to.String() + rest)
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.URL = target
	r.Host = target.Host
	return t.next.RoundTrip(r)
}

// legoBuiltin is lego v4.34.0's own mijn.host provider at its default
// settings; only its HTTP client's transport is replaced.
func (e *env) legoBuiltinProvider() (challenge.Provider, *legomijnhost.Config, error) {
	cfg := legomijnhost.NewDefaultConfig()
	cfg.APIKey = mijnhosttest.SeedKey
	to, err := url.Parse(e.stack.Fake.(*mijnhosttest.Server).URL)
	if err != nil {
		return nil, nil, err
	}
	cfg.HTTPClient.Transport = &rewriteTransport{from: "https://mijn.host/api/v2/", to: to, next: &http.Transport{}}
	p, err := legomijnhost.NewDNSProviderConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return p, cfg, nil
}

// --- certmagic ---

// timedLibdns measures the libdns calls certmagic makes.
type timedLibdns struct {
	p *mijnhost.Provider
	m *meter
}

func (t timedLibdns) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) (out []libdns.Record, err error) {
	err = t.m.present(func() error {
		var e error
		out, e = t.p.AppendRecords(ctx, zone, recs)
		return e
	})
	return out, err
}

func (t timedLibdns) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) (out []libdns.Record, err error) {
	err = t.m.cleanup(func() error {
		var e error
		out, e = t.p.DeleteRecords(ctx, zone, recs)
		return e
	})
	return out, err
}

// timedSolver measures certmagic's propagation wait (acmez's Waiter). It is
// generic over the challenge type so that this module need not import acmez
// itself; C is inferred as acme.Challenge from certmagic's methods.
type timedSolver[C any] struct {
	present, cleanUp, wait func(context.Context, C) error
	m                      *meter
}

func newTimedSolver[C any](present, cleanUp, wait func(context.Context, C) error, m *meter) timedSolver[C] {
	return timedSolver[C]{present: present, cleanUp: cleanUp, wait: wait, m: m}
}

func (t timedSolver[C]) Present(ctx context.Context, c C) error { return t.present(ctx, c) }
func (t timedSolver[C]) CleanUp(ctx context.Context, c C) error { return t.cleanUp(ctx, c) }
func (t timedSolver[C]) Wait(ctx context.Context, c C) error {
	return t.m.wait(func() error { return t.wait(ctx, c) })
}

// certmagicSolver issues through certmagic's ACMEIssuer (acmez underneath),
// the way Caddy does, with one ACME account per solver.
func (e *env) certmagicSolver(key, label, settings string, slow bool, propagationTimeout time.Duration) (*solver, error) {
	m := &meter{}
	s := &solver{key: key, label: label, settings: settings, slow: slow, hasDNSWait: true, m: m}
	dir, err := os.MkdirTemp(e.tmp, key+"-")
	if err != nil {
		return nil, err
	}
	var cfg *certmagic.Config
	cache := certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return cfg, nil },
		Logger:           zap.NewNop(),
	})
	cfg = certmagic.New(cache, certmagic.Config{Storage: &certmagic.FileStorage{Path: dir}, Logger: zap.NewNop()})
	s.prepare = func(ctx context.Context, names []string) (func() ([]byte, error), error) {
		p := &mijnhost.Provider{APIKey: mijnhosttest.SeedKey, APIURL: e.stack.Fake.(*mijnhosttest.Server).URL}
		dns := &certmagic.DNS01Solver{DNSManager: certmagic.DNSManager{
			DNSProvider:        timedLibdns{p: p, m: m},
			Resolvers:          []string{e.stack.DNS.Addr()},
			PropagationTimeout: propagationTimeout,
			Logger:             zap.NewNop(),
		}}
		issuer := certmagic.NewACMEIssuer(cfg, certmagic.ACMEIssuer{
			CA:           e.stack.CA.DirectoryURL,
			Email:        "bench-" + key + "@example.test",
			Agreed:       true,
			TrustedRoots: e.pebbleTLS,
			DNS01Solver:  newTimedSolver(dns.Present, dns.CleanUp, dns.Wait, m),
			Logger:       zap.NewNop(),
		})
		certKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{}, DNSNames: names}, certKey)
		if err != nil {
			return nil, err
		}
		csr, err := x509.ParseCertificateRequest(der)
		if err != nil {
			return nil, err
		}
		return func() ([]byte, error) {
			ic, err := issuer.Issue(ctx, csr)
			if err != nil {
				return nil, err
			}
			return ic.Certificate, nil
		}, nil
	}
	return s, nil
}

// newLegoprovider is this project's lego provider at the given config.
func (e *env) newLegoprovider(cfg legoprovider.Config) func() (challenge.Provider, error) {
	return func() (challenge.Provider, error) {
		c := cfg
		c.Records = &mijnhost.Provider{APIKey: mijnhosttest.SeedKey, APIURL: e.stack.Fake.(*mijnhosttest.Server).URL}
		return legoprovider.NewDNSProviderConfig(&c)
	}
}
