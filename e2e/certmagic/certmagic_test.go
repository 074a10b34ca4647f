package certmagic

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/mijnhost"
)

// TestCertmagicManyNames uses the provider the way a Go program embedding
// certmagic does: 30 certificates obtained at once through DNS-01 from
// Pebble. Every one must be issued, the zone must end as it began, and the
// concurrent challenges must be coalesced into fewer zone writes than names.
//
// Two settings make "at once" real: certmagic's own limiter (by default 10
// orders per 10 s per CA and account) is raised to n, and the fake API
// answers after 500 ms, as a slow remote API does. The engine coalesces the
// operations that queue up while a write is in flight, so against an API
// that answers instantly there is little to coalesce; how many queue up
// depends on how close together certmagic's calls arrive, which a loaded
// machine spreads out (at 200 ms, 36 writes for 30 names were seen on a
// machine running three other test suites).
func TestCertmagicManyNames(t *testing.T) {
	const n = 30
	certmagic.RateLimitEvents = n
	stack, err := localstack.Start(localstack.Options{CA: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	is := newIssuing(t, stack, &certmagic.DNS01Solver{DNSManager: certmagic.DNSManager{
		DNSProvider: &mijnhost.Provider{APIKey: mijnhosttest.SeedKey, APIURL: stack.Fake.(*mijnhosttest.Server).URL},
		Resolvers:   []string{stack.DNS.Addr()},
		Logger:      zap.NewNop(),
	}})

	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("n%d.example.test", i+1)
	}
	before := stack.Fake.Snapshot(localstack.Zone)
	stack.Fake.(*mijnhosttest.Server).SetLatency(500 * time.Millisecond)
	stack.Fake.(*mijnhosttest.Server).ResetCounts()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

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
	if after := stack.Fake.Snapshot(localstack.Zone); !slices.Equal(before, after) {
		t.Errorf("zone changed:\nbefore %q\nafter  %q", before, after)
	}
	puts := stack.Fake.(*mijnhosttest.Server).Count(mijnhosttest.EndpointPutRecords)
	t.Logf("%d certificates in %v; %d zone writes (PUT) for %d presents + %d cleanups (%.2f per name); API requests %v",
		n, elapsed.Round(time.Millisecond), puts, n, n, float64(puts)/n, stack.Fake.(*mijnhosttest.Server).Requests())
	if puts >= n {
		t.Errorf("%d PUTs for %d names: concurrent challenges were not coalesced (want fewer than one per name)", puts, n)
	}
}
