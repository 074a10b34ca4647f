package caddy

// Tests of the Caddy binary built from ./cmd/caddy, the way users run it:
// `caddy validate` on every config under testdata/caddy/, load errors, and
// certificates obtained through DNS-01 from an in-process Pebble through the
// fake mijn.host API (internal/localstack). Everything binds 127.0.0.1.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
)

// caddyBin is the Caddy built by TestMain.
var caddyBin string

// fixtures is where the Caddyfiles and JSON configs live.
const fixtures = "../../testdata/caddy"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "caddymodule-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	caddyBin = filepath.Join(dir, "caddy")
	// Built in the caddymodule module on its own, as a user builds it.
	build := exec.Command("go", "build", "-o", caddyBin, "./cmd/caddy")
	build.Dir = filepath.Join("..", "..", "caddymodule")
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building Caddy: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// caddyEnv is the environment the fixtures read: {$VAR} at parse time,
// {env.VAR} at provisioning. HOME and the XDG directories point into a
// temporary directory so Caddy writes nothing of the user's.
func caddyEnv(t *testing.T, stack *localstack.Stack) []string {
	t.Helper()
	home := t.TempDir()
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"CADDY_STORAGE=" + filepath.Join(home, "storage"),
		"HTTP_PORT=" + freePort(t),
		"HTTPS_PORT=" + freePort(t),
		"ACME_CA=" + stack.CA.DirectoryURL,
		"ACME_CA_ROOT=" + stack.CA.TLSRootsFile(),
		"DNS_RESOLVER=" + stack.DNS.Addr(),
		// Credentials the README examples name, for caddy validate.
		"REALTIMEREGISTER_API_KEY=k", "REALTIMEREGISTER_USERNAME=customer/login", "REALTIMEREGISTER_PASSWORD=p",
		"HOSTUP_API_KEY=k", "XYNTA_UID=u", "XYNTA_HASH=h", "MIJNHOST_API_KEY=k", "MYSSL_API_KEY=myssl_k_readme-example",
	}, stack.Env()...)
}

func startStack(t *testing.T, provider ...string) *localstack.Stack {
	t.Helper()
	opts := localstack.Options{CA: true}
	if len(provider) > 0 {
		opts.Provider = provider[0]
	}
	stack, err := localstack.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	return stack
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// caddyCmd runs the built Caddy with env until it exits or ctx ends.
func caddyCmd(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, caddyBin, args...)
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// adapterArgs returns the arguments that load config file f.
func adapterArgs(f string) []string {
	if strings.HasSuffix(f, ".json") {
		return []string{"--config", f}
	}
	return []string{"--config", f, "--adapter", "caddyfile"}
}

func TestValidateFixtures(t *testing.T) {
	stack := startStack(t)
	files, err := filepath.Glob(filepath.Join(fixtures, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var configs []string
	for _, f := range files {
		if strings.HasSuffix(f, "Caddyfile") || strings.HasSuffix(f, ".json") {
			configs = append(configs, f)
		}
	}
	if len(configs) < 4 {
		t.Fatalf("found only %v under %s", configs, fixtures)
	}
	for _, f := range configs {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := caddyCmd(ctx, caddyEnv(t, stack), append([]string{"validate"}, adapterArgs(f)...)...).CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("Valid configuration")) {
				t.Fatalf("caddy validate %s: %v\n%s", f, err, out)
			}
			if !strings.HasSuffix(f, ".json") {
				out, err := caddyCmd(ctx, nil, "fmt", f).Output()
				if want, _ := os.ReadFile(f); err != nil || !bytes.Equal(out, want) {
					t.Errorf("%s is not formatted as caddy fmt does (%v):\n%s", f, err, out)
				}
			}
		})
	}
}

// TestLoadErrors checks that a broken provider config stops Caddy at load,
// both `caddy validate` and `caddy run`, with a message that names the fault.
func TestLoadErrors(t *testing.T) {
	stack := startStack(t)
	const global = `{
	admin off
	default_bind 127.0.0.1
	http_port {$HTTP_PORT}
	https_port {$HTTPS_PORT}
	storage file_system {$CADDY_STORAGE}
	acme_ca {$ACME_CA}
	acme_ca_root {$ACME_CA_ROOT}
%s
}
`
	site := `
example.test {
	tls {
%s
	}
	respond "hello"
}
`
	tests := []struct {
		name    string
		config  string
		wantErr []string
	}{
		{"misspelled subdirective", fmt.Sprintf(global, "") + fmt.Sprintf(site, "\t\tdns mijnhost {\n\t\t\tapi_kye {env.MIJNHOST_API_KEY}\n\t\t}"),
			[]string{`dns.providers.mijnhost: unrecognized subdirective 'api_kye' (known: api_key, api_url, ttl, propagation_check, propagation_resolvers)`, "Caddyfile:15"}},
		{"unset key in a site", fmt.Sprintf(global, "") + fmt.Sprintf(site, "\t\tdns mijnhost {env.MIJNHOST_API_KEY_UNSET}"),
			[]string{"provision dns.providers.mijnhost: api_key is empty after replacing placeholders ({env.MIJNHOST_API_KEY_UNSET} is unset?)"}},
		{"unset key in the global dns option", fmt.Sprintf(global, "\tdns mijnhost {env.MIJNHOST_API_KEY_UNSET}\n\tacme_dns") + "example.test {\n\trespond \"hello\"\n}\n",
			[]string{"loading overall DNS provider module", "api_key is empty after replacing placeholders ({env.MIJNHOST_API_KEY_UNSET} is unset?)"}},
		{"no key", fmt.Sprintf(global, "") + fmt.Sprintf(site, "\t\tdns mijnhost"),
			[]string{"dns.providers.mijnhost: api_key is not set: set it to the API key from the mijn.host control panel"}},
		{"ttl below HostUp's minimum", fmt.Sprintf(global, "") + fmt.Sprintf(site, "\t\tdns hostup {\n\t\t\tapi_key x\n\t\t\tttl 30s\n\t\t}"),
			[]string{"dns.providers.hostup: ttl 30 is out of range: use whole seconds from 60 to 86400"}},
		{"key and username", fmt.Sprintf(global, "") + fmt.Sprintf(site, "\t\tdns realtimeregister {\n\t\t\tapi_key x\n\t\t\tusername y\n\t\t}"),
			[]string{"dns.providers.realtimeregister: api_key and username/password are both set: keep one"}},
		{"a setting of another provider", fmt.Sprintf(global, "") + fmt.Sprintf(site, "\t\tdns hostup {\n\t\t\tapi_key {env.HOSTUP_KEY_UNSET}x\n\t\t\tapi_url {env.HOSTUP_URL_UNSET}\n\t\t\tzone_service x\n\t\t}"),
			[]string{"unrecognized subdirective 'zone_service' (known: api_key, api_url, ttl, propagation_check, propagation_resolvers)"}},
		{"extra argument", fmt.Sprintf(global, "") + fmt.Sprintf(site, "\t\tdns mijnhost {env.MIJNHOST_API_KEY} more"),
			[]string{`dns.providers.mijnhost: unexpected argument 'more'`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "Caddyfile")
			if err := os.WriteFile(f, []byte(tt.config), 0o644); err != nil {
				t.Fatal(err)
			}
			env := caddyEnv(t, stack)
			for _, verb := range []string{"validate", "run"} {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				out, err := caddyCmd(ctx, env, verb, "--config", f, "--adapter", "caddyfile").CombinedOutput()
				hung := ctx.Err() != nil
				cancel()
				if err == nil || hung {
					t.Fatalf("caddy %s succeeded or hung (%v); want a load error\n%s", verb, err, out)
				}
				for _, want := range tt.wantErr {
					if !bytes.Contains(out, []byte(want)) {
						t.Errorf("caddy %s output lacks %q:\n%s", verb, want, out)
					}
				}
			}
		})
	}
}

// TestObtainAndServe runs Caddy on each fixture until it serves every name
// over HTTPS with a certificate from Pebble obtained through DNS-01, then
// stops it and checks that the zone is as it was.
func TestObtainAndServe(t *testing.T) {
	tests := []struct {
		file     string
		names    map[string]string // name to fetch -> SAN the served certificate must carry
		provider string            // default mijnhost
	}{
		{"wildcard.Caddyfile", map[string]string{
			"example.test":          "example.test",
			"www.example.test":      "*.example.test",
			"anything.example.test": "*.example.test",
		}, ""},
		{"sites.Caddyfile", map[string]string{
			"a.example.test": "a.example.test",
			"b.example.test": "b.example.test",
			"c.example.test": "c.example.test",
		}, ""},
		{"global-dns.Caddyfile", map[string]string{"global.example.test": "global.example.test"}, ""},
		// The provider's propagation check on, certmagic's off.
		{"propagation-check.Caddyfile", map[string]string{
			"p1.example.test": "p1.example.test",
			"p2.example.test": "p2.example.test",
			"p3.example.test": "p3.example.test",
			"p4.example.test": "p4.example.test",
			"p5.example.test": "p5.example.test",
			"p6.example.test": "p6.example.test",
		}, ""},
		{"realtimeregister.Caddyfile", map[string]string{"example.test": "example.test", "www.example.test": "*.example.test"}, "realtimeregister"},
		{"hostup.Caddyfile", map[string]string{"example.test": "example.test", "www.example.test": "*.example.test"}, "hostup"},
	}
	// Every registered provider, its block written from its descriptor's
	// settings: a new provider is covered by registering.
	for _, name := range localstack.Providers() {
		tests = append(tests, struct {
			file     string
			names    map[string]string
			provider string
		}{"generated:" + name, map[string]string{"example.test": "example.test", "www.example.test": "*.example.test"}, name})
	}
	stacks := map[string]*localstack.Stack{}
	parent := t
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			stack := stacks[tt.provider]
			if stack == nil {
				stack = startStack(parent, tt.provider)
				stacks[tt.provider] = stack
			}
			roots := x509.NewCertPool()
			if !roots.AppendCertsFromPEM(stack.CA.IssuerRootsPEM()) {
				t.Fatal("cannot parse Pebble's issuer roots")
			}
			before := stack.Fake.Snapshot(localstack.Zone)
			stack.Fake.ResetCounts()
			env := caddyEnv(t, stack)
			port := lookupEnv(env, "HTTPS_PORT")

			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var logs apitest.Buffer
			file := filepath.Join(fixtures, tt.file)
			if strings.HasPrefix(tt.file, "generated:") {
				file = generatedCaddyfile(t, stack)
			}
			cmd := caddyCmd(ctx, env, append([]string{"run"}, adapterArgs(file)...)...)
			cmd.Stdout, cmd.Stderr = &logs, &logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			stopped := false
			stop := func() {
				if stopped {
					return
				}
				stopped = true
				_ = cmd.Process.Signal(os.Interrupt)
				select {
				case <-exited:
				case <-time.After(30 * time.Second):
					t.Errorf("Caddy did not stop within 30s of SIGINT")
					cancel()
					<-exited
				}
			}
			defer func() {
				stop()
				if t.Failed() {
					t.Logf("Caddy's log:\n%s", logs.String())
				}
			}()

			var wg sync.WaitGroup
			for name, san := range tt.names {
				wg.Go(func() {
					if err := fetchUntilServed(ctx, exited, roots, name, port, san); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			t.Logf("%s: %d name(s) served over HTTPS after %v", tt.file, len(tt.names), time.Since(start).Round(time.Millisecond))

			stop()
			if after := stack.Fake.Snapshot(localstack.Zone); !slices.Equal(before, after) {
				t.Errorf("zone changed:\nbefore %q\nafter  %q", before, after)
			}
			t.Logf("%s: API requests %v", tt.file, stack.Fake.Requests())
			if m, ok := stack.Fake.(*mijnhosttest.Server); ok && m.Count(mijnhosttest.EndpointPutRecords) == 0 {
				t.Error("no PUT reached the fake: the certificates did not come through DNS-01")
			}
			if len(stack.Fake.Requests()) == 0 {
				t.Error("no request reached the fake: the certificates did not come through DNS-01")
			}
		})
	}
}

// generatedCaddyfile writes the apex + wildcard site of wildcard.Caddyfile
// for the stack's provider: its dns block sets every setting the fake
// needs from the environment variable the descriptor names for it.
func generatedCaddyfile(t *testing.T, stack *localstack.Stack) string {
	t.Helper()
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
}

example.test, *.example.test {
	tls {
		dns ` + d.Name + ` {
` + block.String() + `		}
		resolvers {$DNS_RESOLVER}
	}
	respond "hello from {host}"
}
`
	f := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(f, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// fetchUntilServed polls https://name:port/ (dialling 127.0.0.1, trusting
// only roots) until it answers 200 with "hello from name" under a
// certificate carrying san, Caddy exits, or ctx ends.
func fetchUntilServed(ctx context.Context, exited <-chan error, roots *x509.CertPool, name, port, san string) error {
	addr := net.JoinHostPort("127.0.0.1", port)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, addr)
			},
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			DisableKeepAlives: true,
		},
	}
	url := "https://" + net.JoinHostPort(name, port) + "/"
	var lastErr error
	for {
		lastErr = fetch(client, url, name, san)
		if lastErr == nil {
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("%s: Caddy exited (%v) before serving it; last error: %v", name, err, lastErr)
		case <-ctx.Done():
			return fmt.Errorf("%s: not served in time: %v", name, lastErr)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func fetch(client *http.Client, url, name, san string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if want := "hello from " + name; resp.StatusCode != http.StatusOK || string(body) != want {
		return fmt.Errorf("GET %s: %s %q, want 200 %q", url, resp.Status, body, want)
	}
	if leaf := resp.TLS.PeerCertificates[0]; !slices.Contains(leaf.DNSNames, san) {
		return fmt.Errorf("GET %s: served certificate has SANs %v, want %s", url, leaf.DNSNames, san)
	}
	return nil
}

func lookupEnv(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}
