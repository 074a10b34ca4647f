package legov5

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge"
	"github.com/go-acme/lego/v5/challenge/dns01"
	"github.com/go-acme/lego/v5/lego"
	legolog "github.com/go-acme/lego/v5/log"
	"github.com/go-acme/lego/v5/registration"
	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
)

// cert is one certificate the tests obtain.
type cert struct {
	name  string
	names []string
	// cname, when set, is where _acme-challenge.<names[0]> points: names[0]
	// is a domain whose DNS is hosted elsewhere (the stack's DNS server
	// serves it, the provider's account does not hold it), delegating its
	// challenges by CNAME to a name in the account's zone.
	cname string
}

var (
	apexAndWildcard = cert{name: "apex_and_wildcard", names: []string{localstack.Zone, "*." + localstack.Zone}}
	tenNames        = cert{name: "ten_names", names: []string{localstack.Zone,
		"host1.example.test", "host2.example.test", "host3.example.test",
		"host4.example.test", "host5.example.test", "host6.example.test",
		"host7.example.test", "host8.example.test", "host9.example.test"}}
	// delegated follows the CNAME as lego v5 does by default: the record
	// can only be written at the effective name, in example.test.
	delegated = cert{name: "cname_delegation", names: []string{"example.org", "*.example.org"},
		cname: "_acme-challenge.example-org.example.test."}
)

// world is one row's local stack with Pebble, with lego v5's resolvers
// pointed at the stack's DNS server.
type world struct {
	stack  *localstack.Stack
	before []string        // the zone as the fake stored it at the start
	log    *apitest.Buffer // lego's log
}

// newWorld starts provider's stack with Pebble (and c's delegating domain,
// if any) and points lego v5's DNS client at the stack's DNS server, for
// this process (which runs only this row).
func newWorld(t *testing.T, provider string, c cert) *world {
	t.Helper()
	opts := localstack.Options{Provider: provider, CA: true}
	if c.cname != "" {
		opts.Elsewhere = map[string][]libdns.RR{c.names[0] + ".": {{Name: "_acme-challenge", TTL: time.Hour, Type: "CNAME", Data: c.cname}}}
	}
	stack, err := localstack.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	w := &world{stack: stack, before: stack.Fake.Snapshot(localstack.Zone), log: &apitest.Buffer{}}
	stack.Fake.ResetCounts()
	dns01.SetDefaultClient(dns01.NewClient(&dns01.Options{RecursiveNameservers: []string{stack.DNS.Addr()}}))
	legolog.SetDefault(slog.New(slog.NewTextHandler(w.log, &slog.HandlerOptions{Level: slog.LevelInfo})))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("lego's log:\n%s", w.log)
		}
	})
	return w
}

// setEnv sets the KEY=VALUE lines in the process environment for the rest
// of the test, after removing every variable a client or the hook would
// read (ACME_HOOK_*, every provider's, EXEC_*, HTTPREQ_*, LEGO_*), as a
// clean machine has it.
func setEnv(t *testing.T, lines ...string) {
	t.Helper()
	prefixes := []string{"ACME_HOOK_", "EXEC_", "HTTPREQ_", "LEGO_"}
	for _, d := range providers.All() {
		prefixes = append(prefixes, d.Env)
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != rowEnv && k != hookEnv && slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(k, p) }) {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for _, kv := range lines {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// obtain has lego v5 obtain a certificate for c's names through provider p
// with a fresh ACME account, as a program on lego v5 (or Traefik) does,
// and fails the test unless the certificate verifies against the stack's
// CA for every name and the zone ends byte for byte as it began.
func (w *world) obtain(t *testing.T, p challenge.Provider, c cert) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	u := &user{key: key}
	cfg := lego.NewConfig(u)
	cfg.CADirURL = w.stack.CA.DirectoryURL
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(w.stack.CA.TLSRootsPEM())
	cfg.HTTPClient = &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	client, err := lego.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if u.reg, err = client.Registration.Register(ctx, registration.RegisterOptions{TermsOfServiceAgreed: true}); err != nil {
		t.Fatal(err)
	}
	// Traefik: propagation.disableANSChecks. The authoritative servers of
	// example.test would be asked on port 53; the recursive check against
	// the stack's DNS server stays on.
	if err := client.Challenge.SetDNS01Provider(p, dns01.DisableAuthoritativeNssPropagationRequirement()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := client.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: c.names, Bundle: true, KeyType: certcrypto.EC256})
	if err != nil {
		t.Fatalf("obtaining %s: %v", strings.Join(c.names, ", "), err)
	}
	t.Logf("issued %s in %s; API requests %v", strings.Join(c.names, ", "), time.Since(start).Round(time.Millisecond), w.stack.Fake.Requests())
	if err := w.stack.CA.VerifyChain(res.Certificate, c.names); err != nil {
		t.Error(err)
	}
	if len(w.stack.Fake.Requests()) == 0 {
		t.Errorf("no request reached the %s fake: the certificate was not obtained through it", w.stack.Provider)
	}
	if after := w.stack.Fake.Snapshot(localstack.Zone); !slices.Equal(w.before, after) {
		t.Errorf("the zone differs from the zone before:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(w.before, "\n"))
	}
	if out := w.log.String(); containsAny(out, w.stack.Secrets()) {
		t.Errorf("lego's log shows a credential:\n%s", out)
	}
}

func containsAny(s string, subs []string) bool {
	return slices.ContainsFunc(subs, func(sub string) bool { return sub != "" && strings.Contains(s, sub) })
}

// user is a lego v5 ACME account.
type user struct {
	key crypto.Signer
	reg *acme.ExtendedAccount
}

func (u *user) GetEmail() string                       { return "" }
func (u *user) GetRegistration() *acme.ExtendedAccount { return u.reg }
func (u *user) GetPrivateKey() crypto.Signer           { return u.key }
