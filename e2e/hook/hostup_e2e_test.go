package hook

// End-to-end tests of the HostUp provider: real certificates from the local
// Pebble CA, with DNS-01 answered at the fake HostUp API (whose active
// records the local DNS server serves), once through the acme-dns-hook
// binary driven by the lego CLI (--dns exec), once through the lego library
// with this project's lego provider while the API rate-limits hard.
// Everything runs on 127.0.0.1. The lego CLI must be built first (`make
// tools`, or set ACME_HOOK_LEGO); a missing lego fails the test, it is never
// skipped.

import (
	"fmt"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"net/http"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certificate"
	"github.com/go-acme/lego/v4/challenge/dns01"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/hostup/hostuptest"
	"github.com/acme-dns-hook/acme-dns-hook/legoprovider"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/hostup"
)

func TestHostUpLegoCLIWildcardCertificate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(*hostuptest.Server)
	}{
		{"calm API", nil},
		// Two requests a second: every hook process meets 429s and must
		// wait out Retry-After.
		{"rate-limited API", func(f *hostuptest.Server) { f.SetRateLimit(2, time.Second) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stack := newStack(t, localstack.Options{Provider: "hostup", CA: true})
			fake := stack.Fake.(*hostuptest.Server)
			before := stack.Fake.Snapshot(localstack.Zone)
			if tt.setup != nil {
				tt.setup(fake)
			}
			out := obtain(t, newE2E(t, stack, hookEnv(t, stack)), legoExec(), wildcardNames)
			assertNoSecrets(t, out, mijnhosttest.SeedKey)
			t.Logf("HostUp API requests %v, %d answered 429", fake.Requests(), fake.CountStatus(http.StatusTooManyRequests))
			// Two values at one name: two creates and two deletes by id.
			if c, d := fake.CountStatus(http.StatusCreated), fake.CountStatus(http.StatusNoContent); c != 2 || d != 2 {
				t.Errorf("%d records created and %d deleted, want 2 and 2", c, d)
			}
			if tt.setup != nil && fake.CountStatus(http.StatusTooManyRequests) == 0 {
				t.Errorf("the rate limit was never hit: the test proves nothing")
			}
			assertZoneUnchanged(t, stack, before)
		})
	}
}

// TestHostUpRateLimitStormTenNames issues a ten-name certificate through the
// lego library and this project's lego provider while the API answers a
// large share of requests with 429 and the four rate-limit headers. With the
// provider's default retry budget, every request gets through by honouring
// Retry-After, and the order ends in a certificate.
func TestHostUpRateLimitStormTenNames(t *testing.T) {
	t.Parallel() // LEGO_DISABLE_CNAME_SUPPORT is set by TestMain
	stack := newStack(t, localstack.Options{Provider: "hostup", CA: true})
	fake := stack.Fake.(*hostuptest.Server)
	before := stack.Fake.Snapshot(localstack.Zone)
	// Two requests a second: a client that waits out each 429 properly
	// still has one answer in three refused.
	fake.SetRateLimit(2, time.Second)

	p, err := legoprovider.NewDNSProviderConfig(&legoprovider.Config{
		Records:            &hostup.Provider{APIKey: mijnhosttest.SeedKey, APIURL: fake.URL}, // default retry budget
		TTL:                60,
		PollingInterval:    200 * time.Millisecond,
		PropagationTimeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	client, err := stack.LegoClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	err = client.Challenge.SetDNS01Provider(p,
		dns01.AddRecursiveNameservers([]string{stack.DNS.Addr()}),
		dns01.DisableAuthoritativeNssPropagationRequirement())
	if err != nil {
		t.Fatal(err)
	}

	names := tenNames
	start := time.Now()
	res, err := client.Certificate.Obtain(certificate.ObtainRequest{Domains: names, Bundle: true})
	if err != nil {
		t.Fatalf("no certificate after %v: %v\nHostUp API requests %v, %d answered 429", time.Since(start), err, fake.Requests(), fake.CountStatus(http.StatusTooManyRequests))
	}
	if err := stack.CA.VerifyChain(res.Certificate, names); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range fake.Requests() {
		total += n
	}
	limited := fake.CountStatus(http.StatusTooManyRequests)
	t.Logf("10 names issued in %v; HostUp API requests %v; %d of %d answered 429", time.Since(start).Round(time.Millisecond), fake.Requests(), limited, total)
	if limited < total/4 {
		t.Errorf("only %d of %d requests were refused: not a storm", limited, total)
	}
	if c, d := fake.CountStatus(http.StatusCreated), fake.CountStatus(http.StatusNoContent); c != 10 || d != 10 {
		t.Errorf("%d records created and %d deleted, want 10 and 10", c, d)
	}
	assertZoneUnchanged(t, stack, before)
}

// TestHostUpHookCommands runs the hook's commands for people and a
// present/cleanup pair in process against the HostUp fake.
func TestHostUpHookCommands(t *testing.T) {
	stack := newStack(t, localstack.Options{Provider: "hostup", Zones: []string{"example.net"}})
	stack.Fake.(*hostuptest.Server).SetPendingFor(0)
	before := stack.Fake.Snapshot(localstack.Zone)
	const value = "hostup-digest-0123456789abcdefghijklmnopqrs"
	runCommands(t, hookEnv(t, stack, "ACME_HOOK_PROPAGATION_TIMEOUT=20"), []commandTest{
		{[]string{"check"}, []string{"HostUp credentials work: 2 zone(s) in the account"}},
		{[]string{"zones"}, []string{"example.net.", "example.test."}},
		{[]string{"records", "example.test"}, []string{"_dmarc", `v=DMARC1; p=reject; rua=mailto:"dmarc"@example.test`, "10 mail.example.test.", "10 60 5060 sip.example.test."}},
		{[]string{"present", "_acme-challenge.example.test.", value}, nil},
		{[]string{"records", "example.test"}, []string{value}},
		{[]string{"cleanup", "_acme-challenge.example.test.", value}, nil},
		{[]string{"--help"}, []string{"HOSTUP_API_KEY", "HOSTUP_TTL"}},
	})
	assertZoneUnchanged(t, stack, before)
}

// TestHostUpHookFailsLoudly runs the hook's present against a HostUp fake
// that refuses: each failure must be a non-zero exit with a one-line cause
// that explains it and shows no key, and the zone must not change.
func TestHostUpHookFailsLoudly(t *testing.T) {
	t.Parallel()
	hookFailures[*hostuptest.Server]{
		provider: "hostup", fake: func(s *localstack.Stack) *hostuptest.Server { return s.Fake.(*hostuptest.Server) },
		secrets: []string{mijnhosttest.SeedKey, "hostup-wrong-key-0000"},
		rows: []hookFailure[*hostuptest.Server]{
			{name: "unknown key", env: []string{"HOSTUP_API_KEY=hostup-wrong-key-0000"},
				want: []string{"API key was rejected (check HOSTUP_API_KEY / api_key)", "HTTP 401: unauthorized"}},
			{name: "key without write:dns", setup: func(f *hostuptest.Server) { f.AddKeyWithScopes(mijnhosttest.SeedKey, "read:dns", "read:domains") },
				want: []string{"HTTP 403: forbidden", "lacks the scope write:dns", "keys used for ACME need read:dns, write:dns, read:domains"}},
			{name: "key without read:domains", setup: func(f *hostuptest.Server) { f.AddKeyWithScopes(mijnhosttest.SeedKey, "read:dns", "write:dns") },
				want: []string{"HTTP 403: forbidden", "lacks the scope read:domains"}},
			{name: "zone full", setup: func(f *hostuptest.Server) { f.SetRecordLimit(len(localstack.Seed())) },
				want: []string{fmt.Sprintf("zone example.test. would hold %d records, but HostUp allows at most %d per zone", len(localstack.Seed())+1, len(localstack.Seed()))},
				check: func(t *testing.T, f *hostuptest.Server) {
					if n := f.Count(hostuptest.EndpointCreateRecord); n != 0 {
						t.Errorf("%d creates sent to a full zone", n)
					}
				}},
		},
	}.run(t)
}

// TestHostUpLegoProviderFromEnv configures the lego provider from lego-style
// HOSTUP_* variables and presents and cleans up one challenge at the fake.
func TestHostUpLegoProviderFromEnv(t *testing.T) {
	stack := newStack(t, localstack.Options{Provider: "hostup"})
	fake := stack.Fake.(*hostuptest.Server)
	before := stack.Fake.Snapshot(localstack.Zone)
	for k, v := range map[string]string{
		"ACME_HOOK_PROVIDER": "hostup", "HOSTUP_API_KEY": mijnhosttest.SeedKey, "HOSTUP_API_URL": fake.URL,
		"HOSTUP_TTL": "300", "HOSTUP_PROPAGATION_TIMEOUT": "90", "HOSTUP_POLLING_INTERVAL": "5",
	} {
		t.Setenv(k, v)
	}
	p, err := legoprovider.NewDNSProvider()
	if err != nil {
		t.Fatal(err)
	}
	if timeout, interval := p.Timeout(); timeout != 90*time.Second || interval != 5*time.Second {
		t.Errorf("Timeout() = %v, %v; want 90s, 5s", timeout, interval)
	}
	if err := p.Present("www.example.test", "token", "token.thumbprint"); err != nil {
		t.Fatal(err)
	}
	recs := fake.Records(localstack.Zone)
	if last := recs[len(recs)-1]; last.Name != "_acme-challenge.www.example.test" || last.Type != "TXT" || last.TTL != 300 {
		t.Errorf("presented %+v", last)
	}
	if err := p.CleanUp("www.example.test", "token", "token.thumbprint"); err != nil {
		t.Fatal(err)
	}
	assertZoneUnchanged(t, stack, before)
}
