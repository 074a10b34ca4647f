package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/certmagic"
	"github.com/libdns/libdns"
	"github.com/mholt/acmez/v3"
	"github.com/mholt/acmez/v3/acme"
	"go.uber.org/zap"

	"github.com/acme-dns-hook/acme-dns-hook/caddymodule"
	"github.com/acme-dns-hook/acme-dns-hook/certmagicsolver"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
)

// --- certmagic ---

// recordsProvider is what certmagic's DNS01Solver and the batching solver
// need of a libdns provider.
type recordsProvider interface {
	libdns.RecordAppender
	libdns.RecordDeleter
}

// timedLibdns measures a libdns provider's calls.
type timedLibdns struct {
	p recordsProvider
	m *meter
}

func (t timedLibdns) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) (out []libdns.Record, err error) {
	err = t.m.call(func() error {
		var e error
		out, e = t.p.AppendRecords(ctx, zone, recs)
		return e
	})
	return out, err
}

func (t timedLibdns) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) (out []libdns.Record, err error) {
	err = t.m.call(func() error {
		var e error
		out, e = t.p.DeleteRecords(ctx, zone, recs)
		return e
	})
	return out, err
}

// timedLibdnsLister passes the provider's zone listing on (the batching
// solver picks zones from it when the provider lists them).
type timedLibdnsLister struct {
	timedLibdns
	l libdns.ZoneLister
}

func (t timedLibdnsLister) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	return t.l.ListZones(ctx)
}

func timed(p recordsProvider, m *meter) recordsProvider {
	t := timedLibdns{p: p, m: m}
	if l, ok := p.(libdns.ZoneLister); ok {
		return timedLibdnsLister{t, l}
	}
	return t
}

// timedSolver counts an acmez solver's presents and cleanups of
// challenges and measures its propagation wait (acmez's Waiter).
type timedSolver struct {
	s interface {
		acmez.Solver
		acmez.Waiter
	}
	m *meter
}

func (t timedSolver) Present(ctx context.Context, c acme.Challenge) error {
	return t.m.present(false, func() error { return t.s.Present(ctx, c) })
}

func (t timedSolver) CleanUp(ctx context.Context, c acme.Challenge) error {
	return t.m.cleanup(false, func() error { return t.s.CleanUp(ctx, c) })
}

func (t timedSolver) Wait(ctx context.Context, c acme.Challenge) error {
	return t.m.wait(func() error { return t.s.Wait(ctx, c) })
}

// certmagicEnv is one solver's certmagic world: a cache, file storage and
// one ACME account (by email) at the stack's Pebble.
type certmagicEnv struct {
	cache   *certmagic.Cache
	storage *certmagic.FileStorage
	email   string
	e       *env
}

func (e *env) newCertmagicEnv(key string) (*certmagicEnv, error) {
	dir, err := os.MkdirTemp(e.tmp, key+"-")
	if err != nil {
		return nil, err
	}
	ce := &certmagicEnv{storage: &certmagic.FileStorage{Path: dir}, email: "bench-" + key + "@example.test", e: e}
	ce.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return ce.config(), nil },
		Logger:           zap.NewNop(),
	})
	return ce, nil
}

func (ce *certmagicEnv) config() *certmagic.Config {
	return certmagic.New(ce.cache, certmagic.Config{Storage: ce.storage, Logger: zap.NewNop()})
}

// issuer returns an ACME issuer of cfg with the given DNS-01 solver.
func (ce *certmagicEnv) issuer(cfg *certmagic.Config, s acmez.Solver) *certmagic.ACMEIssuer {
	return certmagic.NewACMEIssuer(cfg, certmagic.ACMEIssuer{
		CA:           ce.e.stack.CA.DirectoryURL,
		Email:        ce.email,
		Agreed:       true,
		TrustedRoots: ce.e.pebbleTLS,
		DNS01Solver:  s,
		Logger:       zap.NewNop(),
	})
}

// csrFor returns a CSR for names with a fresh ECDSA P-256 key.
func csrFor(names []string) (*x509.CertificateRequest, error) {
	certKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{}, DNSNames: names}, certKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificateRequest(der)
}

// certmagicSolver issues one certificate per run through certmagic's
// ACMEIssuer (acmez underneath) with certmagic's DNS01Solver over a fresh
// libdns provider instance, with certmagic's rate limiter raised.
func (e *env) certmagicSolver(key, label, settings, class string, workloads []string, skip string, propagationTimeout time.Duration) (*solver, error) {
	m := e.newMeter()
	s := &solver{key: key, label: label, settings: settings, class: class, workloads: workloads, skip: skip, hasDNSWait: true, m: m}
	ce, err := e.newCertmagicEnv(key)
	if err != nil {
		return nil, err
	}
	cfg := ce.config()
	s.prepare = func(ctx context.Context, names []string) (*runner, error) {
		certmagic.RateLimitEvents = raisedLimit // read when this account's limiter is made (its warm-up)
		dns := &certmagic.DNS01Solver{DNSManager: certmagic.DNSManager{
			DNSProvider:        timed(e.libdnsProvider(), m),
			Resolvers:          []string{e.stack.DNS.Addr()},
			PropagationTimeout: propagationTimeout,
			Logger:             zap.NewNop(),
		}}
		issuer := ce.issuer(cfg, timedSolver{s: dns, m: m})
		csr, err := csrFor(names)
		if err != nil {
			return nil, err
		}
		return &runner{obtain: func() ([]issued, error) {
			ic, err := issuer.Issue(ctx, csr)
			if err != nil {
				return nil, err
			}
			return []issued{{ic.Certificate, names}}, nil
		}}, nil
	}
	return s, nil
}

// raisedLimit is certmagic's rate limit (orders per 10 s per CA and
// account) in the rows that raise it; certmagic's default is 10.
const raisedLimit = 1000

// batchingSolver issues one certificate per run through certmagic's
// ACMEIssuer with this project's certmagicsolver (a fresh instance per
// run) over a fresh libdns provider instance. The solver's deletion, held
// by its debounce, is written by Close after the clock stops; its requests
// are counted.
func (e *env) batchingSolver(key, label, settings string) (*solver, error) {
	m := e.newMeter()
	s := &solver{key: key, label: label, settings: settings, class: classFast, hasDNSWait: true, m: m}
	ce, err := e.newCertmagicEnv(key)
	if err != nil {
		return nil, err
	}
	cfg := ce.config()
	s.prepare = func(ctx context.Context, names []string) (*runner, error) {
		certmagic.RateLimitEvents = raisedLimit
		// As README and the package doc say: the solver batches already, so
		// the provider's group-commit wait is off.
		p := e.libdnsProvider()
		p.GroupWindow = -1
		sol := certmagicsolver.New(timed(p, m), certmagicsolver.Options{Resolvers: []string{e.stack.DNS.Addr()}})
		issuer := ce.issuer(cfg, timedSolver{s: sol, m: m})
		csr, err := csrFor(names)
		if err != nil {
			return nil, err
		}
		return &runner{
			obtain: func() ([]issued, error) {
				ic, err := issuer.Issue(ctx, csr)
				if err != nil {
					return nil, err
				}
				return []issued{{ic.Certificate, names}}, nil
			},
			settle: sol.Close,
		}, nil
	}
	return s, nil
}

// caddyWorkloads are the Caddy shape's: N names of one zone, one
// certificate each.
var caddyWorkloads = []string{"10", "50"}

// caddySolver runs the Caddy shape: every name of the workload is a
// certificate of its own, obtained at once through certmagic's
// Config.ObtainCertSync, each with its own certmagic Config, ACME issuer,
// DNS01Solver and instance of this project's Caddy module
// (dns.providers.mijnhost, built from JSON and provisioned as Caddy does),
// all of one ACME account in one process. providerCheck turns on the
// module's propagation_check (asking the local DNS server) and certmagic's
// own check off (propagation_timeout -1); otherwise certmagic checks at its
// defaults. defaultLimiter leaves certmagic's rate limiter at its default
// (10 orders per 10 s per CA and account); each run then starts at least
// 10 s after the row's previous one ended, as fresh as at Caddy's start.
func (e *env) caddySolver(key, label, settings string, providerCheck, defaultLimiter bool) (*solver, error) {
	m := e.newMeter()
	s := &solver{key: key, label: label, settings: settings, class: classFast, workloads: caddyWorkloads,
		skip: "the Caddy shape is measured at 10 and 50 names, each name a certificate of its own", hasDNSWait: true,
		caddy: true, defaultLimiter: defaultLimiter, m: m}
	if !defaultLimiter {
		// Fifty orders at once deadlock Pebble v2.10.1 (its in-memory
		// store and authorization locks are taken in opposite orders by
		// new-order and validation; seen in a goroutine dump of this bench),
		// after which every later run fails; with certmagic's limiter at its
		// default the orders come in waves of ten and Pebble copes.
		s.workloads = []string{"10"}
		s.skip = "the Caddy shape with certmagic's rate limiter raised runs at 10 names only: fifty orders at once deadlock Pebble v2.10.1 (lock-order inversion between its in-memory store and its authorization locks, seen in a goroutine dump of this bench), which ends the whole run"
	}
	ce, err := e.newCertmagicEnv(key)
	if err != nil {
		return nil, err
	}
	var lastEnd time.Time
	propagationTimeout := time.Duration(0)
	if providerCheck {
		propagationTimeout = -1
	}
	s.prepare = func(ctx context.Context, names []string) (*runner, error) {
		certmagic.RateLimitEvents = raisedLimit
		if defaultLimiter {
			certmagic.RateLimitEvents = 10
			if d := time.Until(lastEnd.Add(certmagic.RateLimitEventsWindow)); d > 0 {
				time.Sleep(d)
			}
		}
		type cert struct {
			name   string
			cfg    *certmagic.Config
			issuer *certmagic.ACMEIssuer
		}
		certs := make([]cert, len(names))
		for i, name := range names {
			mod, err := e.caddyModule(providerCheck)
			if err != nil {
				return nil, err
			}
			dns := &certmagic.DNS01Solver{DNSManager: certmagic.DNSManager{
				DNSProvider:        timed(mod, m),
				Resolvers:          []string{e.stack.DNS.Addr()},
				PropagationTimeout: propagationTimeout,
				Logger:             zap.NewNop(),
			}}
			cfg := ce.config()
			iss := ce.issuer(cfg, timedSolver{s: dns, m: m})
			cfg.Issuers = []certmagic.Issuer{iss}
			certs[i] = cert{name, cfg, iss}
		}
		return &runner{
			obtain: func() ([]issued, error) {
				errs := make([]error, len(certs))
				var wg sync.WaitGroup
				for i, c := range certs {
					wg.Go(func() { errs[i] = c.cfg.ObtainCertSync(ctx, c.name) })
				}
				wg.Wait()
				var out []issued
				for i, c := range certs {
					if errs[i] != nil {
						return nil, errs[i]
					}
					pem, err := ce.storage.Load(ctx, certmagic.StorageKeys.SiteCert(c.issuer.IssuerKey(), c.name))
					if err != nil {
						return nil, fmt.Errorf("%s: reading the stored certificate: %w", c.name, err)
					}
					out = append(out, issued{pem, []string{c.name}})
				}
				return out, nil
			},
			settle: func() error { lastEnd = time.Now(); return nil },
		}, nil
	}
	return s, nil
}

// caddyModule returns a new dns.providers.mijnhost module of Caddy's
// registry, decoded from JSON and provisioned as Caddy does, for the
// fake's account; with check, its propagation_check is on (2m) asking the
// stack's DNS server.
func (e *env) caddyModule(check bool) (recordsProvider, error) {
	info, err := caddy.GetModule("dns.providers.mijnhost")
	if err != nil {
		return nil, err
	}
	conf := map[string]any{"api_key": mijnhosttest.SeedKey, "api_url": e.stack.Fake.(*mijnhosttest.Server).URL, "ttl": e.ttl()}
	if check {
		conf["propagation_check"] = "2m"
		conf["propagation_resolvers"] = []string{e.stack.DNS.Addr()}
	}
	raw, err := json.Marshal(conf)
	if err != nil {
		return nil, err
	}
	mod := info.New()
	if err := caddy.StrictUnmarshalJSON(raw, mod); err != nil {
		return nil, fmt.Errorf("caddy module: %w", err)
	}
	if p, ok := mod.(caddy.Provisioner); ok {
		if err := p.Provision(caddy.Context{}); err != nil {
			return nil, fmt.Errorf("caddy module: %w", err)
		}
	}
	rp, ok := mod.(recordsProvider)
	if !ok {
		return nil, fmt.Errorf("caddy module %T appends or deletes no records", mod)
	}
	return rp, nil
}

var _ = caddymodule.DefaultPropagationCheck // the module registers itself with Caddy on import
