package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/myssl/myssltest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

const mysslKey = "myssl_k_cmd-test-8d1e44c2"

func mapEnv(kv map[string]string) settings.Env {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

// mysslFake starts a fake MySSL with the test's key, its status path on,
// and returns it with the environment that points at it.
func mysslFake(t *testing.T) (*myssltest.Server, map[string]string) {
	t.Helper()
	f := myssltest.NewServer()
	t.Cleanup(f.Close)
	f.AddKey(mysslKey)
	f.SetPlan(myssltest.Pro)
	f.SetScanStatus(true)
	return f, map[string]string{"MYSSL_API_KEY": mysslKey, "MYSSL_API_URL": f.URL}
}

func with(env map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<unset>" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

type ran struct {
	code           int
	stdout, stderr string
}

func runIn(env map[string]string, args ...string) ran {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, mapEnv(env), &stdout, &stderr)
	return ran{code, stdout.String(), stderr.String()}
}

// noKey fails the test if the output shows any form of the key's secret
// part (its myssl_k_ prefix is public).
func (r ran) noKey(t *testing.T) {
	t.Helper()
	if leaks := apitest.Leaks(r.stdout+r.stderr, strings.TrimPrefix(mysslKey, "myssl_k_")); len(leaks) > 0 {
		t.Errorf("the output shows the key (%v):\n%s%s", leaks, r.stdout, r.stderr)
	}
}

// certFile writes a certificate for names (and a key before it, as a
// combined PEM file would) and returns its path.
func certFile(t *testing.T, names ...string) string {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), DNSNames: names, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// scanned returns the hosts the fake was asked to scan, in order, and
// fails the test if a scan came with another key.
func scanned(t *testing.T, f *myssltest.Server) []string {
	t.Helper()
	var out []string
	for _, s := range f.Scans() {
		if s.Key != mysslKey {
			t.Errorf("scan of %s with key %q", s.Hostname, s.Key)
		}
		out = append(out, s.Hostname)
	}
	return out
}

func TestMySSLScanHosts(t *testing.T) {
	f, env := mysslFake(t)
	f.SetResult("a.example.com", myssltest.Result{Grade: "A+", Score: 100, Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Issuer: "R3"})
	f.SetResult("b.example.com", myssltest.Result{Grade: "C", Score: 60, Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Issuer: "R3"})

	r := runIn(env, "myssl", "scan", "--wait=1m", "--interval=1ms", "a.example.com", "b.example.com:8443")
	want := "a.example.com:443 grade=A+ score=100 expires=2030-01-02T03:04:05Z issuer=\"R3\" source=scan-status scan=12345\n" +
		"b.example.com:8443 grade=C score=60 expires=2030-01-02T03:04:05Z issuer=\"R3\" source=scan-status scan=12346\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("exit %d, stdout\n%s\nwant\n%s\nstderr:\n%s", r.code, r.stdout, want, r.stderr)
	}
	r.noKey(t)

	r = runIn(env, "myssl", "scan", "--min-grade", "a", "--interval=1ms", "--type=full", "a.example.com", "b.example.com:8443")
	if r.code != 1 || !strings.Contains(r.stderr, "acme-dns-hook: b.example.com:8443: graded C, below the minimum A") || strings.Contains(r.stderr, "certificate is kept") ||
		strings.Count(r.stdout, "\n") != 2 {
		t.Errorf("below the minimum: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := f.Scans(); len(got) != 4 || got[2].ScanType != "full" {
		t.Errorf("scans %+v", got)
	}
	// MYSSL_MIN_GRADE from the environment, met.
	if r := runIn(with(env, "MYSSL_MIN_GRADE", "B"), "myssl", "scan", "--interval=1ms", "a.example.com"); r.code != 0 || !strings.Contains(r.stdout, "grade=A+") {
		t.Errorf("MYSSL_MIN_GRADE=B: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Without waiting: the scan is started, its result not read.
	f.ResetCounts()
	if r := runIn(env, "myssl", "scan", "a.example.com"); r.code != 0 || !strings.Contains(r.stdout, "status=pending (result not waited for)") || f.Count(myssltest.EndpointGetScan) != 0 {
		t.Errorf("no wait: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestMySSLScanStatusPathMissing(t *testing.T) {
	f, env := mysslFake(t)
	f.SetScanStatus(false)
	f.AddDomain("example.com", 443)
	r := runIn(env, "myssl", "scan", "--wait", "--interval=1ms", "example.com", "other.example.com")
	if r.code != 1 || !strings.Contains(r.stdout, "example.com:443 grade=A score=90") || !strings.Contains(r.stdout, "source=domain-listing") ||
		!strings.Contains(r.stderr, "MySSL has no scan-status path") || !strings.Contains(r.stderr, "other.example.com:443 is not among the monitored domains") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestMySSLScanBadInput(t *testing.T) {
	f, env := mysslFake(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no host, no client", env, []string{"myssl", "scan"}, "myssl scan needs HOST[:PORT]..."},
		{"no key", with(env, "MYSSL_API_KEY", "<unset>"), []string{"myssl", "scan", "example.com"}, "MYSSL_API_KEY is not set"},
		{"not a MySSL key", with(env, "MYSSL_API_KEY", "sk-not-myssl-42"), []string{"myssl", "scan", "example.com"}, "MYSSL_API_KEY is invalid"},
		{"bad grade in the environment", with(env, "MYSSL_MIN_GRADE", "Z"), []string{"myssl", "scan", "example.com"}, `MYSSL_MIN_GRADE="Z" is invalid`},
		{"wildcard", env, []string{"myssl", "scan", "*.example.com"}, "wildcard name"},
		{"bad port", env, []string{"myssl", "scan", "example.com:99999"}, "port must be a number from 1 to 65535"},
		{"bad host", env, []string{"myssl", "scan", "exa;mple.com"}, "is not a DNS name"},
		{"unknown option", env, []string{"myssl", "scan", "--fast", "example.com"}, "unknown option --fast"},
		{"bad grade", env, []string{"myssl", "scan", "--min-grade", "A-", "example.com"}, `--min-grade "A-": use one of A+, A, B, C, D, F`},
		{"bad wait", env, []string{"myssl", "scan", "--wait=soon", "example.com"}, `--wait="soon"`},
		{"bad parallel", env, []string{"myssl", "scan", "--parallel", "0", "example.com"}, "--parallel"},
		{"missing value", env, []string{"myssl", "scan", "example.com", "--type"}, "--type needs a value"},
		{"no subcommand", env, []string{"myssl"}, "myssl needs scan or domains"},
		{"unknown subcommand", env, []string{"myssl", "watch"}, `unknown myssl command "watch"`},
		{"domains with an argument", env, []string{"myssl", "domains", "x"}, "myssl domains takes no arguments"},
		{"domains bad status", env, []string{"myssl", "domains", "--status", "gone"}, `--status "gone"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runIn(tt.env, tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tt.want)
			}
			if strings.Contains(r.stderr, "sk-not-myssl-42") {
				t.Errorf("the key shows: %s", r.stderr)
			}
		})
	}
	if reqs := f.Requests(); len(reqs) != 0 {
		t.Errorf("requests %v for bad input", reqs)
	}
}

func TestMySSLDomains(t *testing.T) {
	f, env := mysslFake(t)
	f.AddScannedDomain("example.com", 443, myssltest.Result{Grade: "A+", Score: 100, Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}, time.Date(2026, 1, 12, 10, 30, 0, 0, time.UTC))
	f.AddDomain("new.example.org", 8443)
	r := runIn(env, "myssl", "domains")
	want := "example.com:443 grade=A+ score=100 expires=2030-01-02T03:04:05Z id=1 last_scan=2026-01-12T10:30:00Z active=true frequency=daily\n" +
		"new.example.org:8443 id=2 active=true frequency=daily\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d, stdout\n%s\nwant\n%s%s", r.code, r.stdout, want, r.stderr)
	}
	if r := runIn(env, "myssl", "domains", "--grade=a+", "--search", "example"); r.code != 0 || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("filtered: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runIn(env, "myssl", "domains", "--status", "inactive"); r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "MySSL watches no domain that matches") {
		t.Errorf("none: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	f.RevokeKey(mysslKey)
	f.SetEcho(apitest.EchoAll)
	r = runIn(env, "myssl", "domains")
	if r.code != 1 || !strings.Contains(r.stderr, "HTTP 401: Invalid API key") {
		t.Errorf("revoked: exit %d\n%s", r.code, r.stderr)
	}
	r.noKey(t)
}

// TestMySSLDeployHooks runs the three deploy hooks with the key set and
// unset, and with a failing and a low-graded scan: one scan per name of
// the certificate, with the key; none without it; and the exit status
// each client needs to keep its certificate.
func TestMySSLDeployHooks(t *testing.T) {
	names := []string{"example.test", "*.example.test", "www.example.test"}
	hooks := []struct {
		name   string
		args   func(cert string) []string
		env    func(cert string) []string
		strict bool // failures exit non-zero (certbot only logs them)
		silent bool // without a key, says nothing
	}{
		{"certbot", func(string) []string { return []string{"myssl", "scan", "--interval=1ms"} },
			func(string) []string {
				return []string{"RENEWED_DOMAINS", strings.Join(names, " "), "RENEWED_LINEAGE", "/etc/letsencrypt/live/example.test"}
			}, true, false},
		{"lego", func(string) []string { return []string{"myssl", "scan", "--interval=1ms"} },
			func(cert string) []string {
				return []string{"LEGO_CERT_DOMAIN", "example.test", "LEGO_CERT_PATH", cert}
			}, false, false},
		{"dehydrated", func(cert string) []string {
			return []string{"deploy_cert", "example.test", "/x/privkey.pem", cert, "/x/fullchain.pem", "/x/chain.pem", "1700000000"}
		}, func(string) []string { return nil }, false, true},
	}
	for _, h := range hooks {
		t.Run(h.name, func(t *testing.T) {
			cert := certFile(t, names...)
			f, env := mysslFake(t)
			env = with(env, h.env(cert)...)

			r := runIn(env, h.args(cert)...)
			if r.code != 0 || !slices.Equal(scanned(t, f), []string{"example.test", "www.example.test"}) || strings.Count(r.stdout, "\n") != 2 {
				t.Fatalf("exit %d, scans %v\n%s%s", r.code, scanned(t, f), r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, `not scanned: "*.example.test" is a wildcard name`) {
				t.Errorf("the wildcard is not reported:\n%s", r.stderr)
			}

			// Low grade and a failed scan: reported; the status as the client needs.
			f.SetResult("example.test", myssltest.Result{Grade: "D", Score: 30, Expiry: time.Now()})
			f.SetResult("www.example.test", myssltest.Result{Fail: "connection refused"})
			r = runIn(with(env, "MYSSL_MIN_GRADE", "B"), h.args(cert)...)
			for _, want := range []string{"example.test:443: graded D, below the minimum B", "www.example.test:443: scan 12348 failed: connection refused", "(the certificate is kept)"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if wantCode := map[bool]int{true: 1, false: 0}[h.strict]; r.code != wantCode {
				t.Errorf("exit %d, want %d", r.code, wantCode)
			}
			if !h.strict && !strings.Contains(r.stderr, "acme-dns-hook: myssl: warning: ") {
				t.Errorf("not a warning:\n%s", r.stderr)
			}
			r.noKey(t)

			// A revoked key, repeated by MySSL in every form: reported, never shown.
			f.RevokeKey(mysslKey)
			f.SetEcho(apitest.EchoAll)
			r = runIn(env, h.args(cert)...)
			if !strings.Contains(r.stderr, "Invalid API key") {
				t.Errorf("revoked key: exit %d\n%s", r.code, r.stderr)
			}
			r.noKey(t)

			// Without a key: nothing asked of MySSL.
			f.ResetCounts()
			before := len(f.Scans())
			r = runIn(with(env, "MYSSL_API_KEY", "<unset>"), h.args(cert)...)
			if r.code != 0 || len(f.Requests()) != 0 || len(f.Scans()) != before {
				t.Errorf("without a key: exit %d, requests %v\n%s", r.code, f.Requests(), r.stderr)
			}
			if h.silent != (r.stderr == "") {
				t.Errorf("without a key, stderr %q", r.stderr)
			}
		})
	}
}

func TestMySSLHelp(t *testing.T) {
	r := runIn(nil, "--help")
	for _, want := range []string{"myssl scan [OPTIONS] HOST[:PORT]...", "MYSSL_API_KEY", "MYSSL_MIN_GRADE", "not a DNS provider"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	// MySSL is no provider: its key alone selects none.
	if r := runIn(map[string]string{"MYSSL_API_KEY": mysslKey}, "zones"); r.code != 2 || !strings.Contains(r.stderr, "no provider selected") {
		t.Errorf("zones with only a MySSL key: exit %d %s", r.code, r.stderr)
	}
}
