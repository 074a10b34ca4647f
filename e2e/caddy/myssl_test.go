package caddy

// The MySSL event handler (events.handlers.myssl) in the built Caddy:
// after Caddy obtains each certificate from Pebble through DNS-01, MySSL
// (the fake of this process) is asked to scan its name, once, with the
// configured key, and the grade is logged; a grade below min_grade is a
// warning, and the certificate is served all the same.

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/myssl/myssltest"
)

const mysslKey = "myssl_k_caddy-e2e-2c8e51a0"

func TestMySSLAfterCertObtained(t *testing.T) {
	stack := startStack(t)
	fake := myssltest.NewServer()
	t.Cleanup(fake.Close)
	fake.AddKey(mysslKey)
	fake.SetScanStatus(true)
	// A scan is pending at its first read and finished at the next (10 s
	// later): Caddy obtains a and b at once, so a second scan started
	// before the first finished would meet the Free plan's limit of one.
	fake.SetAutoFinish(1)
	fake.SetResult("a.example.test", myssltest.Result{Grade: "A+", Score: 100, Expiry: time.Now().Add(90 * 24 * time.Hour), Issuer: "Pebble Intermediate CA"})
	fake.SetResult("b.example.test", myssltest.Result{Grade: "D", Score: 35, Expiry: time.Now().Add(90 * 24 * time.Hour), Issuer: "Pebble Intermediate CA"})

	var block strings.Builder
	d := stack.Descriptor
	for key := range stack.Fake.Settings() {
		fmt.Fprintf(&block, "\t\t\t%s {env.%s}\n", key, d.EnvName(d.Setting(key)))
	}
	config := `{
	admin off
	persist_config off
	default_bind 127.0.0.1
	http_port {$HTTP_PORT}
	https_port {$HTTPS_PORT}
	auto_https disable_redirects
	storage file_system {$CADDY_STORAGE}
	acme_ca {$ACME_CA}
	acme_ca_root {$ACME_CA_ROOT}
	events {
		on cert_obtained myssl {
			api_key {env.MYSSL_KEY}
			api_url {env.MYSSL_URL}
			min_grade B
		}
	}
}

a.example.test, b.example.test {
	tls {
		dns ` + d.Name + ` {
` + block.String() + `		}
		resolvers {$DNS_RESOLVER}
	}
	respond "hello from {host}"
}

*.w.example.test {
	tls {
		dns ` + d.Name + ` {
` + block.String() + `		}
		resolvers {$DNS_RESOLVER}
	}
	respond "hello from {host}"
}
`
	file := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(caddyEnv(t, stack), "MYSSL_KEY="+mysslKey, "MYSSL_URL="+fake.URL)
	port := lookupEnv(env, "HTTPS_PORT")
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(stack.CA.IssuerRootsPEM()) {
		t.Fatal("cannot parse Pebble's issuer roots")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var logs apitest.Buffer
	cmd := caddyCmd(ctx, env, "run", "--config", file, "--adapter", "caddyfile")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			t.Errorf("Caddy did not stop within 30s of SIGINT")
			cancel()
			<-exited
		}
		if t.Failed() {
			t.Logf("Caddy's log:\n%s", logs.String())
		}
	}()

	// Every name is served under its certificate (a wildcard of another
	// site, since Caddy gets no certificate of its own for a name a
	// wildcard of the same site covers); b's low grade holds nothing up.
	for name, san := range map[string]string{"a.example.test": "a.example.test", "b.example.test": "b.example.test", "x.w.example.test": "*.w.example.test"} {
		if err := fetchUntilServed(ctx, exited, roots, name, port, san); err != nil {
			t.Fatal(err)
		}
	}
	if err := fake.WaitScans(ctx, 2); err != nil {
		t.Fatal(err)
	}
	// The grades reach Caddy's log once the scans are read.
	want := []string{`"msg":"MySSL: scanned"`, `a.example.test:443 grade=A+ score=100`,
		`"msg":"MySSL: scan failed or graded too low; the certificate is kept"`, `b.example.test:443: graded D, below the minimum B`,
		`"msg":"MySSL: not scanned: a wildcard name is no host to connect to"`}
	for !containsAll(logs.String(), want) {
		select {
		case err := <-exited:
			t.Fatalf("Caddy exited (%v) before logging the grades", err)
		case <-ctx.Done():
			t.Fatalf("the log lacks one of %q", want)
		case <-time.After(100 * time.Millisecond):
		}
	}

	var hosts []string
	for _, s := range fake.Scans() {
		hosts = append(hosts, s.Hostname)
		if s.Key != mysslKey {
			t.Errorf("scan of %s with key %q", s.Hostname, s.Key)
		}
	}
	slices.Sort(hosts)
	if !slices.Equal(hosts, []string{"a.example.test", "b.example.test"}) {
		t.Errorf("scans of %v, want one each of a.example.test and b.example.test", hosts)
	}
	if fake.MaxRunning() != 1 || fake.CountStatus(429) != 0 {
		t.Errorf("%d scans at once, %d refused: want one at a time", fake.MaxRunning(), fake.CountStatus(429))
	}
	if strings.Contains(logs.String(), strings.TrimPrefix(mysslKey, "myssl_k_")) {
		t.Errorf("Caddy's log shows the MySSL key")
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestMySSLLoadErrors checks that a broken MySSL handler stops Caddy at
// load, naming the setting.
func TestMySSLLoadErrors(t *testing.T) {
	stack := startStack(t)
	tests := []struct {
		name, handler, want string
	}{
		{"no key", "myssl {\n\t\t\tmin_grade B\n\t\t}", "events.handlers.myssl: api_key is not set"},
		{"unset key", "myssl {env.MYSSL_KEY_UNSET}", "api_key is empty after replacing placeholders ({env.MYSSL_KEY_UNSET} is unset?)"},
		{"bad grade", "myssl " + mysslKey + " {\n\t\t\tmin_grade Z\n\t\t}", `is invalid: use A+ or A or B or C or D or F`},
		{"a DNS provider's setting", "myssl " + mysslKey + " {\n\t\t\tttl 60\n\t\t}", "unrecognized subdirective 'ttl'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := "{\n\tadmin off\n\tevents {\n\t\ton cert_obtained " + tt.handler + "\n\t}\n}\n\nexample.test {\n\trespond \"hello\"\n}\n"
			f := filepath.Join(t.TempDir(), "Caddyfile")
			if err := os.WriteFile(f, []byte(config), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := caddyCmd(ctx, caddyEnv(t, stack), "validate", "--config", f, "--adapter", "caddyfile").CombinedOutput()
			if err == nil || !strings.Contains(string(out), tt.want) {
				t.Errorf("caddy validate: %v, output lacks %q:\n%s", err, tt.want, out)
			}
		})
	}
}
