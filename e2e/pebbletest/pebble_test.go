package pebbletest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"
	"github.com/go-acme/lego/v4/certificate"
	"github.com/go-acme/lego/v4/challenge/dns01"
	"github.com/go-acme/lego/v4/lego"
	"github.com/go-acme/lego/v4/registration"
	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/authdns"
)

// txtServer publishes TXT values for names under example.test. through the
// project's authoritative DNS server, the one every end-to-end test uses.
type txtServer struct {
	addr string

	mu  sync.Mutex
	txt map[string][]string // lower-case FQDN -> values
}

func startTXTServer(t *testing.T) *txtServer {
	t.Helper()
	s := &txtServer{txt: map[string][]string{}}
	srv, err := authdns.Start("127.0.0.1:0", s.zones)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	s.addr = srv.Addr()
	return s
}

func (s *txtServer) zones() map[string][]libdns.RR {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rrs []libdns.RR
	for name, values := range s.txt {
		for _, v := range values {
			rrs = append(rrs, libdns.RR{Name: libdns.RelativeName(name, "example.test."), Type: "TXT", Data: v})
		}
	}
	return map[string][]libdns.RR{"example.test.": rrs}
}

func (s *txtServer) add(fqdn, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(dns.Fqdn(fqdn))
	if !slices.Contains(s.txt[k], value) {
		s.txt[k] = append(s.txt[k], value)
	}
}

func (s *txtServer) remove(fqdn, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(dns.Fqdn(fqdn))
	s.txt[k] = slices.DeleteFunc(s.txt[k], func(v string) bool { return v == value })
}

// dnsProvider is a lego challenge.Provider that publishes into a txtServer.
// With wrong set it publishes a value that cannot validate.
type dnsProvider struct {
	srv   *txtServer
	wrong bool
}

func (p *dnsProvider) Present(domain, _, keyAuth string) error {
	info := dns01.GetChallengeInfo(domain, keyAuth)
	value := info.Value
	if p.wrong {
		value = "not-the-right-digest-" + value[:10]
	}
	p.srv.add(info.EffectiveFQDN, value)
	return nil
}

func (p *dnsProvider) CleanUp(domain, _, keyAuth string) error {
	info := dns01.GetChallengeInfo(domain, keyAuth)
	p.srv.remove(info.EffectiveFQDN, info.Value)
	if p.wrong {
		p.srv.remove(info.EffectiveFQDN, "not-the-right-digest-"+info.Value[:10])
	}
	return nil
}

// Timeout makes lego poll quickly (it sleeps one interval before checking).
func (p *dnsProvider) Timeout() (time.Duration, time.Duration) {
	return 30 * time.Second, 100 * time.Millisecond
}

type acmeUser struct {
	key crypto.PrivateKey
	reg *registration.Resource
}

func (u *acmeUser) GetEmail() string                        { return "" }
func (u *acmeUser) GetRegistration() *registration.Resource { return u.reg }
func (u *acmeUser) GetPrivateKey() crypto.PrivateKey        { return u.key }

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func startStack(t *testing.T) (*CA, *txtServer) {
	t.Helper()
	dnsSrv := startTXTServer(t)
	var logger *log.Logger
	if testing.Verbose() {
		logger = log.New(testLogWriter{t}, "pebble ", log.Lmicroseconds)
	}
	c, err := Start(Options{DNSServer: dnsSrv.addr, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, dnsSrv
}

func newLegoClient(t *testing.T, c *CA, p *dnsProvider) *lego.Client {
	t.Helper()
	accountKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	user := &acmeUser{key: accountKey}

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.TLSRootsPEM()) {
		t.Fatal("TLSRootsPEM is not valid PEM")
	}
	cfg := lego.NewConfig(user)
	cfg.CADirURL = c.DirectoryURL
	cfg.HTTPClient = &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	cfg.Certificate.KeyType = certcrypto.EC256

	client, err := lego.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	user.reg, err = client.Registration.Register(registration.RegisterOptions{TermsOfServiceAgreed: true})
	if err != nil {
		t.Fatal(err)
	}
	err = client.Challenge.SetDNS01Provider(p,
		dns01.AddRecursiveNameservers([]string{p.srv.addr}),
		dns01.DisableAuthoritativeNssPropagationRequirement())
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func TestObtainCertificateDNS01(t *testing.T) {
	c, dnsSrv := startStack(t)
	if !strings.HasPrefix(c.DirectoryURL, "https://127.0.0.1:") || !strings.HasSuffix(c.DirectoryURL, "/dir") {
		t.Fatalf("DirectoryURL = %q", c.DirectoryURL)
	}
	if b, err := os.ReadFile(c.TLSRootsFile()); err != nil || string(b) != string(c.TLSRootsPEM()) {
		t.Fatalf("TLSRootsFile content mismatch (err %v)", err)
	}

	client := newLegoClient(t, c, &dnsProvider{srv: dnsSrv})
	names := []string{"example.test", "*.example.test"}
	start := time.Now()
	res, err := client.Certificate.Obtain(certificate.ObtainRequest{Domains: names, Bundle: true})
	if err != nil {
		t.Fatalf("Obtain: %v", err)
	}
	t.Logf("issued %v in %v", names, time.Since(start))

	if err := c.VerifyChain(res.Certificate, append(names, "www.example.test")); err != nil {
		t.Fatal(err)
	}
	if err := c.VerifyChain(res.Certificate, []string{"other.test"}); err == nil {
		t.Fatal("VerifyChain accepted a name that is not in the certificate")
	}

	// The chain must not verify against a different Pebble instance's roots.
	other, _ := startStack(t)
	if err := other.VerifyChain(res.Certificate, names); err == nil {
		t.Fatal("VerifyChain accepted a chain from another CA")
	}

	// The management API serves the same issuing root.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.TLSRootsPEM())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get(c.ManagementURL + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(c.IssuerRootsPEM()), strings.TrimSpace(string(body))) {
		t.Fatalf("management /roots/0: status %d, body does not match IssuerRootsPEM", resp.StatusCode)
	}
}

func TestWrongTXTValueFails(t *testing.T) {
	c, dnsSrv := startStack(t)
	client := newLegoClient(t, c, &dnsProvider{srv: dnsSrv, wrong: true})
	_, err := client.Certificate.Obtain(certificate.ObtainRequest{Domains: []string{"bad.example.test"}, Bundle: true})
	if err == nil {
		t.Fatal("Obtain succeeded although the published TXT value is wrong")
	}
	t.Logf("expected error: %v", err)
	if !strings.Contains(err.Error(), "unauthorized") && !strings.Contains(err.Error(), "Correct value not found") {
		t.Fatalf("error is not a validation failure: %v", err)
	}
}

func TestStartRequiresDNSServer(t *testing.T) {
	if _, err := Start(Options{}); err == nil {
		t.Fatal("Start without DNSServer succeeded")
	}
}

func TestVerifyChainRejectsGarbage(t *testing.T) {
	c, _ := startStack(t)
	if err := c.VerifyChain([]byte("not pem"), []string{"example.test"}); err == nil {
		t.Fatal("VerifyChain accepted garbage")
	}
	if err := c.VerifyChain(c.IssuerRootsPEM(), []string{"example.test"}); err == nil {
		t.Fatal("VerifyChain accepted a root certificate as leaf for example.test")
	}
}
