package main

// End-to-end tests of the HostUp provider: real certificates from the local
// Pebble CA, with DNS-01 answered at the fake HostUp API (whose active
// records the local DNS server serves), once through the acme-dns-hook
// binary driven by the lego CLI (--dns exec), once through the lego library
// with this project's lego provider while the API rate-limits hard.
// Everything runs on 127.0.0.1. The lego CLI must be built first (`make
// tools`, or set ACME_HOOK_LEGO); a missing lego fails the test, it is never
// skipped.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certificate"
	"github.com/go-acme/lego/v4/challenge/dns01"
	"github.com/go-acme/lego/v4/lego"
	"github.com/go-acme/lego/v4/registration"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/hostup/hostuptest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/legoprovider"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/hostup"
)

func TestHostUpLegoCLIWildcardCertificate(t *testing.T) {
	lego := hostupLegoBin(t)
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
			stack, err := localstack.Start(localstack.Options{Provider: "hostup", CA: true})
			if err != nil {
				t.Fatal(err)
			}
			defer stack.Close()
			fake := stack.HostUp()
			before := stack.Fake.Snapshot(localstack.Zone)
			if tt.setup != nil {
				tt.setup(fake)
			}

			dir := t.TempDir()
			names := []string{localstack.Zone, "*." + localstack.Zone}
			args := []string{"--server", stack.CA.DirectoryURL, "--accept-tos", "--email", "t@example.test", "--path", dir,
				"--dns", "exec", "--dns.resolvers", stack.DNS.Addr(), "--dns.propagation-disable-ans"}
			for _, n := range names {
				args = append(args, "-d", n)
			}
			args = append(args, "run")
			env := append(hostupCleanEnv(t), stack.Env()...)
			env = append(env,
				"ACME_HOOK_LOCK_DIR="+t.TempDir(), "ACME_HOOK_POLLING_INTERVAL=1",
				"LEGO_CA_CERTIFICATES="+stack.CA.TLSRootsFile(), "LEGO_DISABLE_CNAME_SUPPORT=true",
				"EXEC_PATH="+hookBin, "EXEC_SEQUENCE_INTERVAL=0", "EXEC_POLLING_INTERVAL=1", "EXEC_PROPAGATION_TIMEOUT=30")

			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			start := time.Now()
			cmd := exec.CommandContext(ctx, lego, args...)
			cmd.Env, cmd.Dir = env, dir
			cmd.WaitDelay = 10 * time.Second
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("lego failed: %v\n$ %s %s\n%s", err, lego, strings.Join(args, " "), out)
			}
			if bytes.Contains(out, []byte(localstack.APIKey)) {
				t.Errorf("the output shows the API key:\n%s", out)
			}
			pem, err := os.ReadFile(filepath.Join(dir, "certificates", localstack.Zone+".crt"))
			if err != nil {
				t.Fatalf("lego exited 0 but left no certificate: %v\n%s", err, out)
			}
			if err := stack.CA.VerifyChain(pem, names); err != nil {
				t.Errorf("the certificate does not verify: %v", err)
			}
			t.Logf("issued in %v; HostUp API requests %v, %d answered 429", time.Since(start).Round(time.Millisecond),
				fake.Requests(), fake.CountStatus(http.StatusTooManyRequests))
			// Two values at one name: two creates and two deletes by id.
			if c, d := fake.CountStatus(http.StatusCreated), fake.CountStatus(http.StatusNoContent); c != 2 || d != 2 {
				t.Errorf("%d records created and %d deleted, want 2 and 2", c, d)
			}
			if tt.setup != nil && fake.CountStatus(http.StatusTooManyRequests) == 0 {
				t.Errorf("the rate limit was never hit: the test proves nothing")
			}
			if after := stack.Fake.Snapshot(localstack.Zone); !slices.Equal(after, before) {
				t.Errorf("the zone after issuance differs from the zone before:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
			}
		})
	}
}

// TestHostUpRateLimitStormTenNames issues a ten-name certificate through the
// lego library and this project's lego provider while the API answers a
// large share of requests with 429 and the four rate-limit headers. With the
// provider's default retry budget, every request gets through by honouring
// Retry-After, and the order ends in a certificate.
func TestHostUpRateLimitStormTenNames(t *testing.T) {
	stack, err := localstack.Start(localstack.Options{Provider: "hostup", CA: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	t.Setenv("LEGO_DISABLE_CNAME_SUPPORT", "true") // lego would ask the system resolver otherwise
	fake := stack.HostUp()
	before := stack.Fake.Snapshot(localstack.Zone)
	// Two requests a second: a client that waits out each 429 properly
	// still has one answer in three refused.
	fake.SetRateLimit(2, time.Second)

	p, err := legoprovider.NewDNSProviderConfig(&legoprovider.Config{
		Records:            &hostup.Provider{APIKey: localstack.APIKey, APIURL: fake.URL}, // default retry budget
		TTL:                60,
		PollingInterval:    200 * time.Millisecond,
		PropagationTimeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	u := &hostupUser{key: key}
	cfg := lego.NewConfig(u)
	cfg.CADirURL = stack.CA.DirectoryURL
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(stack.CA.TLSRootsPEM())
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	client, err := lego.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if u.reg, err = client.Registration.Register(registration.RegisterOptions{TermsOfServiceAgreed: true}); err != nil {
		t.Fatal(err)
	}
	err = client.Challenge.SetDNS01Provider(p,
		dns01.AddRecursiveNameservers([]string{stack.DNS.Addr()}),
		dns01.DisableAuthoritativeNssPropagationRequirement())
	if err != nil {
		t.Fatal(err)
	}

	names := []string{localstack.Zone}
	for i := 1; i < 10; i++ {
		names = append(names, fmt.Sprintf("host%d.%s", i, localstack.Zone))
	}
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
	if after := stack.Fake.Snapshot(localstack.Zone); !slices.Equal(after, before) {
		t.Errorf("the zone after issuance differs from the zone before:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
}

// TestHostUpHookCommands runs the hook's commands for people and a
// present/cleanup pair in process against the HostUp fake.
func TestHostUpHookCommands(t *testing.T) {
	stack, err := localstack.Start(localstack.Options{Provider: "hostup", Zones: []string{"example.net"}})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	stack.HostUp().SetPendingFor(0)
	before := stack.Fake.Snapshot(localstack.Zone)
	env := append(stack.Env(), "ACME_HOOK_LOCK_DIR="+t.TempDir(), "ACME_HOOK_POLLING_INTERVAL=1", "ACME_HOOK_PROPAGATION_TIMEOUT=20")
	const value = "hostup-digest-0123456789abcdefghijklmnopqrs"
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"check"}, []string{"HostUp credentials work: 2 zone(s) in the account"}},
		{[]string{"zones"}, []string{"example.net.", "example.test."}},
		{[]string{"records", "example.test"}, []string{"_dmarc", `v=DMARC1; p=reject; rua=mailto:"dmarc"@example.test`, "10 mail.example.test.", "10 60 5060 sip.example.test."}},
		{[]string{"present", "_acme-challenge.example.test.", value}, nil},
		{[]string{"records", "example.test"}, []string{value}},
		{[]string{"cleanup", "_acme-challenge.example.test.", value}, nil},
		{[]string{"--help"}, []string{"HOSTUP_API_KEY", "HOSTUP_TTL"}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tt.args, envFunc(env), &stdout, &stderr); code != 0 {
			t.Fatalf("%v exited %d: %s", tt.args, code, stderr.String())
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("%v output lacks %q:\n%s", tt.args, w, stdout.String())
			}
		}
		if strings.Contains(stdout.String()+stderr.String(), localstack.APIKey) {
			t.Errorf("%v shows the API key", tt.args)
		}
	}
	if after := stack.Fake.Snapshot(localstack.Zone); !slices.Equal(after, before) {
		t.Errorf("the zone after present and cleanup differs:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
}

// TestHostUpHookFailsLoudly runs the hook's present against a HostUp fake
// that refuses: each failure must be a non-zero exit with a one-line cause
// that explains it and shows no key, and the zone must not change.
func TestHostUpHookFailsLoudly(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*hostuptest.Server)
		env   []string
		want  []string
	}{
		{"unknown key", nil, []string{"HOSTUP_API_KEY=hostup-wrong-key-0000"},
			[]string{"API key was rejected (check HOSTUP_API_KEY / api_key)", "HTTP 401: unauthorized"}},
		{"key without write:dns", func(f *hostuptest.Server) { f.AddKeyWithScopes(localstack.APIKey, "read:dns", "read:domains") }, nil,
			[]string{"HTTP 403: forbidden", "lacks the scope write:dns", "keys used for ACME need read:dns, write:dns, read:domains"}},
		{"key without read:domains", func(f *hostuptest.Server) { f.AddKeyWithScopes(localstack.APIKey, "read:dns", "write:dns") }, nil,
			[]string{"HTTP 403: forbidden", "lacks the scope read:domains"}},
		{"zone full", func(f *hostuptest.Server) { f.SetRecordLimit(len(localstack.Seed())) }, nil,
			[]string{fmt.Sprintf("zone example.test. would hold %d records, but HostUp allows at most %d per zone", len(localstack.Seed())+1, len(localstack.Seed()))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack, err := localstack.Start(localstack.Options{Provider: "hostup"})
			if err != nil {
				t.Fatal(err)
			}
			defer stack.Close()
			before := stack.Fake.Snapshot(localstack.Zone)
			if tt.setup != nil {
				tt.setup(stack.HostUp())
			}
			env := append(stack.Env(), "ACME_HOOK_LOCK_DIR="+t.TempDir(), "ACME_HOOK_PROPAGATION_TIMEOUT=5", "ACME_HOOK_POLLING_INTERVAL=1")
			env = append(env, tt.env...)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"present", "_acme-challenge.example.test.", "v-0123456789"}, envFunc(env), &stdout, &stderr)
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			last := lines[len(lines)-1]
			if code == 0 || !strings.HasPrefix(last, "acme-dns-hook: ") {
				t.Fatalf("exit %d, last line %q; stderr:\n%s", code, last, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(last, w) {
					t.Errorf("cause lacks %q: %s", w, last)
				}
			}
			for _, secret := range []string{localstack.APIKey, "hostup-wrong-key-0000"} {
				if strings.Contains(stdout.String()+stderr.String(), secret) {
					t.Errorf("output shows a key: %s", stderr.String())
				}
			}
			if n := stack.HostUp().Count(hostuptest.EndpointCreateRecord); tt.name == "zone full" && n != 0 {
				t.Errorf("%d creates sent to a full zone", n)
			}
			if after := stack.Fake.Snapshot(localstack.Zone); !slices.Equal(after, before) {
				t.Errorf("the zone changed:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
			}
		})
	}
}

// TestHostUpLegoProviderFromEnv configures the lego provider from lego-style
// HOSTUP_* variables and presents and cleans up one challenge at the fake.
func TestHostUpLegoProviderFromEnv(t *testing.T) {
	stack, err := localstack.Start(localstack.Options{Provider: "hostup"})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	fake := stack.HostUp()
	before := stack.Fake.Snapshot(localstack.Zone)
	for k, v := range map[string]string{
		"ACME_HOOK_PROVIDER": "hostup", "HOSTUP_API_KEY": localstack.APIKey, "HOSTUP_API_URL": fake.URL,
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
	if after := stack.Fake.Snapshot(localstack.Zone); !slices.Equal(after, before) {
		t.Errorf("the zone after cleanup differs:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
}

type hostupUser struct {
	key crypto.PrivateKey
	reg *registration.Resource
}

func (u *hostupUser) GetEmail() string                        { return "" }
func (u *hostupUser) GetRegistration() *registration.Resource { return u.reg }
func (u *hostupUser) GetPrivateKey() crypto.PrivateKey        { return u.key }

// hostupLegoBin returns the lego CLI: $ACME_HOOK_LEGO, or bin/lego of the
// repository.
func hostupLegoBin(t *testing.T) string {
	t.Helper()
	path := os.Getenv("ACME_HOOK_LEGO")
	if path == "" {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(root, "bin", "lego")
	}
	if fi, err := os.Stat(path); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("the lego CLI is not at %s: run `make tools` in the repository root, or set ACME_HOOK_LEGO to a lego binary", path)
	}
	return path
}

// hostupCleanEnv is this process's environment without anything that could
// redirect lego or the hook (proxies, HOME, settings of either), plus a
// fresh HOME.
func hostupCleanEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		drop := strings.HasSuffix(strings.ToLower(k), "_proxy") || k == "HOME" || strings.HasPrefix(k, "XDG_")
		for _, p := range []string{"ACME_HOOK_", "MIJNHOST_", "REALTIMEREGISTER_", "HOSTUP_", "XYNTA_", "EXEC_", "LEGO_"} {
			drop = drop || strings.HasPrefix(k, p)
		}
		if !drop {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+t.TempDir())
}
