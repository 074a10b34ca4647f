package certmagic

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/libdns/libdns"
	"github.com/mholt/acmez/v3"
	"go.uber.org/zap"

	"github.com/acme-dns-hook/acme-dns-hook/certmagicsolver"
	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/mijnhost"
)

// issuing is a certmagic Config with one ACME issuer at the stack's
// Pebble (a fresh ACME account), its certificates stored in a temporary
// directory.
type issuing struct {
	cfg     *certmagic.Config
	issuer  *certmagic.ACMEIssuer
	storage *certmagic.FileStorage
}

func newIssuing(t *testing.T, stack *localstack.Stack, solver acmez.Solver) *issuing {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(stack.CA.TLSRootsPEM()) {
		t.Fatal("cannot parse Pebble's HTTPS root")
	}
	var cfg *certmagic.Config
	cache := certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return cfg, nil },
		Logger:           zap.NewNop(),
	})
	t.Cleanup(cache.Stop)
	storage := &certmagic.FileStorage{Path: t.TempDir()}
	cfg = certmagic.New(cache, certmagic.Config{Storage: storage, Logger: zap.NewNop()})
	issuer := certmagic.NewACMEIssuer(cfg, certmagic.ACMEIssuer{
		CA:           stack.CA.DirectoryURL,
		Email:        "certmagic-test@example.test", // with none, certmagic would prompt on stdin
		Agreed:       true,
		TrustedRoots: roots,
		DNS01Solver:  solver,
		Logger:       zap.NewNop(),
	})
	cfg.Issuers = []certmagic.Issuer{issuer}
	return &issuing{cfg: cfg, issuer: issuer, storage: storage}
}

// verify checks that the stored certificate of the first name carries
// every name and chains to Pebble's root.
func (is *issuing) verify(t *testing.T, stack *localstack.Stack, names []string) {
	t.Helper()
	certPEM, err := is.storage.Load(context.Background(), certmagic.StorageKeys.SiteCert(is.issuer.IssuerKey(), names[0]))
	if err != nil {
		t.Errorf("%s: reading the stored certificate: %v", names[0], err)
		return
	}
	if err := stack.CA.VerifyChain(certPEM, names); err != nil {
		t.Errorf("%s: %v", names[0], err)
	}
}

func mijnhostProvider(stack *localstack.Stack) *mijnhost.Provider {
	return &mijnhost.Provider{APIKey: mijnhosttest.SeedKey, APIURL: stack.Fake.(*mijnhosttest.Server).URL}
}

// requestCounts returns the fake's counters by endpoint, zero ones left
// out.
func requestCounts(stack *localstack.Stack) map[string]int {
	out := map[string]int{}
	for k, v := range stack.Fake.Requests() {
		if v > 0 {
			out[k] = v
		}
	}
	return out
}

func total(counts map[string]int) int {
	n := 0
	for _, v := range counts {
		n += v
	}
	return n
}

// TestCertmagicBatchingSolver obtains one 10-name certificate through
// certmagic with certmagicsolver as its DNS-01 solver, as a Go program
// does: the certificate must be issued, the zone must end byte for byte as
// it began, and the API must see exactly 5 requests: 1 zone listing, 1
// read + 1 write to present every name, 1 read + 1 write to clean up
// (Close writes the deletion the debounce still holds).
func TestCertmagicBatchingSolver(t *testing.T) {
	const n = 10
	stack, err := localstack.Start(localstack.Options{CA: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	solver := certmagicsolver.New(mijnhostProvider(stack), certmagicsolver.Options{Resolvers: []string{stack.DNS.Addr()}})
	is := newIssuing(t, stack, solver)

	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("batch%d.example.test", i+1)
	}
	before := stack.Fake.Snapshot(localstack.Zone)
	stack.Fake.ResetCounts()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	cert, err := is.issuer.Issue(ctx, csrFor(t, names))
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if err := stack.CA.VerifyChain(cert.Certificate, names); err != nil {
		t.Error(err)
	}
	if err := solver.Close(); err != nil {
		t.Fatal(err)
	}
	if after := stack.Fake.Snapshot(localstack.Zone); !slices.Equal(before, after) {
		t.Errorf("zone changed:\nbefore %q\nafter  %q", before, after)
	}
	got := requestCounts(stack)
	t.Logf("%d-name certificate in %v; API requests %v (%d)", n, elapsed.Round(time.Millisecond), got, total(got))
	want := map[string]int{mijnhosttest.EndpointListDomains: 1, mijnhosttest.EndpointGetRecords: 2, mijnhosttest.EndpointPutRecords: 2}
	if !maps.Equal(got, want) {
		t.Errorf("API requests %v, want %v", got, want)
	}
}

// TestCertmagicCaddyShape obtains n single-name certificates at once
// through certmagic, as Caddy does for n site names (one order per name,
// certmagic's own rate limiter at its default of 10 orders per 10 s), with
// certmagic's DNS01Solver over one provider and its propagation check off.
// The n presents reach the provider at nearly the same moment, as do the n
// cleanups; the zone engine's group-commit window and shared queues must
// coalesce them into one zone read and one write for the presents, the
// same for the cleanups, with at most one zone listing.
//
// "At nearly the same moment" is made exact: the provider holds each
// AppendRecords (and each DeleteRecords) call until all n have arrived,
// then lets them go together, so the counts do not depend on how far apart
// a loaded machine spreads certmagic's orders.
func TestCertmagicCaddyShape(t *testing.T) {
	const n = 10
	stack, err := localstack.Start(localstack.Options{CA: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p := &together{Provider: mijnhostProvider(stack), appends: newGate(n), deletes: newGate(n), ctx: ctx}
	is := newIssuing(t, stack, &certmagic.DNS01Solver{DNSManager: certmagic.DNSManager{
		DNSProvider:        p,
		Resolvers:          []string{stack.DNS.Addr()},
		PropagationTimeout: -1,
		Logger:             zap.NewNop(),
	}})

	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("site%d.example.test", i+1)
	}
	before := stack.Fake.Snapshot(localstack.Zone)
	stack.Fake.ResetCounts()

	start := time.Now()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { errs[i] = is.cfg.ObtainCertSync(ctx, name) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i, name := range names {
		if errs[i] != nil {
			t.Errorf("%s: %v", name, errs[i])
			continue
		}
		is.verify(t, stack, []string{name})
	}
	if t.Failed() {
		return
	}
	// certmagic deletes each record on a context of its own, after
	// ObtainCertSync may have returned: the counts are final once every
	// deletion returned.
	if err := p.deletes.finished(ctx); err != nil {
		t.Fatal(err)
	}
	if after := stack.Fake.Snapshot(localstack.Zone); !slices.Equal(before, after) {
		t.Errorf("zone changed:\nbefore %q\nafter  %q", before, after)
	}
	got := requestCounts(stack)
	t.Logf("%d single-name certificates in %v; API requests %v (%d)", n, elapsed.Round(time.Millisecond), got, total(got))
	if got[mijnhosttest.EndpointListDomains] > 1 || got[mijnhosttest.EndpointGetRecords] != 2 || got[mijnhosttest.EndpointPutRecords] != 2 || total(got)-got[mijnhosttest.EndpointListDomains] != 4 {
		t.Errorf("API requests %v, want 1 read + 1 write for the presents, the same for the cleanups, at most 1 listing", got)
	}
}

// together is a real provider whose AppendRecords calls each wait until n
// of them have arrived, and whose DeleteRecords calls likewise.
type together struct {
	*mijnhost.Provider
	appends, deletes *gate
	ctx              context.Context // bounds the waits
}

func (p *together) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if err := p.appends.arrive(p.ctx); err != nil {
		return nil, err
	}
	defer p.appends.leave()
	return p.Provider.AppendRecords(ctx, zone, recs)
}

func (p *together) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if err := p.deletes.arrive(p.ctx); err != nil {
		return nil, err
	}
	defer p.deletes.leave()
	return p.Provider.DeleteRecords(ctx, zone, recs)
}

// gate lets n callers through together, once all n have arrived, and
// tells when all n have left.
type gate struct {
	mu       sync.Mutex
	n, in    int
	out      int
	open     chan struct{}
	finishes chan struct{}
}

func newGate(n int) *gate {
	return &gate{n: n, open: make(chan struct{}), finishes: make(chan struct{})}
}

func (g *gate) arrive(ctx context.Context) error {
	g.mu.Lock()
	if g.in++; g.in == g.n {
		close(g.open)
	}
	g.mu.Unlock()
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("only %d of %d calls arrived: %w", g.in, g.n, ctx.Err())
	}
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.out++; g.out == g.n {
		close(g.finishes)
	}
}

func (g *gate) finished(ctx context.Context) error {
	select {
	case <-g.finishes:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("not every call returned: %w", ctx.Err())
	}
}

// csrFor returns a certificate request for names with a new P-256 key.
func csrFor(t *testing.T, names []string) *x509.CertificateRequest {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: names}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}
