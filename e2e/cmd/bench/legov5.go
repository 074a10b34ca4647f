package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"log/slog"
	"time"

	acmev5 "github.com/go-acme/lego/v5/acme"
	certcryptov5 "github.com/go-acme/lego/v5/certcrypto"
	certificatev5 "github.com/go-acme/lego/v5/certificate"
	challengev5 "github.com/go-acme/lego/v5/challenge"
	dns01v5 "github.com/go-acme/lego/v5/challenge/dns01"
	legov5 "github.com/go-acme/lego/v5/lego"
	logv5 "github.com/go-acme/lego/v5/log"
	registrationv5 "github.com/go-acme/lego/v5/registration"

	"github.com/acme-dns-hook/acme-dns-hook/legov5provider"
)

// --- lego v5 ---

// setUpLegoV5 points lego v5's DNS client, which is process-wide, at the
// stack's DNS server, and silences lego v5's log.
func (e *env) setUpLegoV5() {
	dns01v5.SetDefaultClient(dns01v5.NewClient(&dns01v5.Options{RecursiveNameservers: []string{e.stack.DNS.Addr()}}))
	logv5.SetDefault(slog.New(slog.DiscardHandler))
}

type legoV5User struct {
	key crypto.Signer
	reg *acmev5.ExtendedAccount
}

func (u *legoV5User) GetEmail() string                         { return "" }
func (u *legoV5User) GetRegistration() *acmev5.ExtendedAccount { return u.reg }
func (u *legoV5User) GetPrivateKey() crypto.Signer             { return u.key }

// timedLegoV5 measures a lego v5 provider's Present and CleanUp.
type timedLegoV5 struct {
	p challengev5.ProviderTimeout
	m *meter
}

func (t *timedLegoV5) Present(ctx context.Context, domain, token, keyAuth string) error {
	return t.m.present(true, func() error { return t.p.Present(ctx, domain, token, keyAuth) })
}

func (t *timedLegoV5) CleanUp(ctx context.Context, domain, token, keyAuth string) error {
	return t.m.cleanup(true, func() error { return t.p.CleanUp(ctx, domain, token, keyAuth) })
}

func (t *timedLegoV5) Timeout() (timeout, interval time.Duration) { return t.p.Timeout() }

// legoV5Solver runs the lego v5 library as legoSolver runs lego v4: a fresh
// ACME account per run, Certificate.Obtain, the DNS check asking the local
// DNS server (setUpLegoV5) without the authoritative step.
func (e *env) legoV5Solver(key, label, settings string, newProvider func() (challengev5.ProviderTimeout, error)) *solver {
	m := e.newMeter()
	s := &solver{key: key, label: label, settings: settings, class: classLego, workloads: legoWorkloads, skip: legoSkip, lego: true, inProcess: true, m: m}
	s.prepare = func(ctx context.Context, names []string) (*runner, error) {
		p, err := newProvider()
		if err != nil {
			return nil, err
		}
		accountKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		u := &legoV5User{key: accountKey}
		cfg := legov5.NewConfig(u)
		cfg.CADirURL = e.stack.CA.DirectoryURL
		cfg.HTTPClient = e.pebbleClient(m)
		client, err := legov5.NewClient(cfg)
		if err != nil {
			return nil, err
		}
		if u.reg, err = client.Registration.Register(ctx, registrationv5.RegisterOptions{TermsOfServiceAgreed: true}); err != nil {
			return nil, err
		}
		if err := client.Challenge.SetDNS01Provider(&timedLegoV5{p: p, m: m}, dns01v5.DisableAuthoritativeNssPropagationRequirement()); err != nil {
			return nil, err
		}
		certKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		return &runner{obtain: func() ([]issued, error) {
			res, err := client.Certificate.Obtain(ctx, certificatev5.ObtainRequest{Domains: names, Bundle: true, PrivateKey: certKey, KeyType: certcryptov5.EC256})
			if err != nil {
				return nil, err
			}
			return []issued{{res.Certificate, names}}, nil
		}}, nil
	}
	return s
}

// newLegov5provider is this project's lego v5 provider at the given config.
func (e *env) newLegov5provider(cfg legov5provider.Config) func() (challengev5.ProviderTimeout, error) {
	return func() (challengev5.ProviderTimeout, error) {
		c := cfg
		c.Records = e.legoRecords()
		return legov5provider.NewDNSProviderConfig(&c)
	}
}
