package main

// End-to-end tests: real ACME clients (the lego CLI with --dns exec and
// --dns httpreq, certbot --manual, dehydrated) obtain real certificates from
// the local stack's Pebble CA, calling the acme-dns-hook binary built by
// TestMain to answer DNS-01 at the fake mijn.host API. Everything runs on
// 127.0.0.1.
//
// The clients must be installed: `make tools` builds the pinned lego CLI into
// bin/lego (or set ACME_HOOK_LEGO), and certbot and dehydrated come from the
// system (Debian: apt-get install certbot dehydrated). A missing client fails
// its rows; it is never skipped.

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/localstack"
)

// clientTimeout bounds one run of an ACME client.
const clientTimeout = 3 * time.Minute

// certificates are the name lists every client obtains a certificate for.
var certificates = []struct {
	name  string
	names []string
}{
	{"apex_and_wildcard", []string{"example.test", "*.example.test"}},
	{"ten_names", []string{"example.test",
		"host1.example.test", "host2.example.test", "host3.example.test",
		"host4.example.test", "host5.example.test", "host6.example.test",
		"host7.example.test", "host8.example.test", "host9.example.test"}},
}

// e2e is one issuance's world: the local stack with Pebble, and the
// environment a client process runs with (the stack's hook settings
// included, since clients hand their environment down to the hook).
type e2e struct {
	stack *localstack.Stack
	env   []string
}

// acmeClient obtains a certificate for names and returns the path of the
// PEM file holding the leaf and its chain.
type acmeClient func(t *testing.T, w *e2e, names []string) string

func TestIssueCertificates(t *testing.T) {
	clients := []struct {
		name  string
		issue acmeClient
	}{
		{"lego_exec", legoExec(nil)},
		{"lego_exec_RAW", legoExec([]string{"EXEC_MODE=RAW"})},
		{"lego_httpreq", legoHTTPReq(nil)},
		{"lego_httpreq_RAW", legoHTTPReq([]string{"HTTPREQ_MODE=RAW"})},
		{"certbot", certbot},
		{"dehydrated_chained", dehydrated(true)},
		{"dehydrated_unchained", dehydrated(false)},
	}
	for _, c := range clients {
		for _, cert := range certificates {
			t.Run(c.name+"/"+cert.name, func(t *testing.T) {
				t.Parallel()
				stack, hookEnv := startStack(t, true)
				w := &e2e{stack: stack, env: clientEnv(t, hookEnv)}
				before := stack.MijnHost.Records(localstack.Zone)

				start := time.Now()
				certFile := c.issue(t, w, cert.names)
				t.Logf("%s issued %s in %s", c.name, strings.Join(cert.names, ", "), time.Since(start).Round(time.Millisecond))

				pem, err := os.ReadFile(certFile)
				if err != nil {
					t.Fatalf("%s exited 0 but left no certificate: %v", c.name, err)
				}
				if err := stack.CA.VerifyChain(pem, cert.names); err != nil {
					t.Errorf("certificate %s does not verify: %v", certFile, err)
				}
				if n := stack.MijnHost.Count(mijnhosttest.EndpointPutRecords) + stack.MijnHost.Count(mijnhosttest.EndpointPatchRecord); n == 0 {
					t.Errorf("the zone was never written: the certificate was not obtained through acme-dns-hook")
				}
				after := stack.MijnHost.Records(localstack.Zone)
				for _, r := range after {
					if strings.HasPrefix(r.Name, "_acme-challenge.") {
						t.Errorf("challenge record left behind: %+v", r)
					}
				}
				if !slices.Equal(before, after) {
					t.Errorf("the zone after issuance differs from the zone before:\n%s\nwant\n%s", formatZone(after), formatZone(before))
				}
			})
		}
	}
}

// legoExec runs `lego --dns exec` with EXEC_PATH pointing at the hook.
func legoExec(extraEnv []string) acmeClient {
	return func(t *testing.T, w *e2e, names []string) string {
		lego := legoBin(t)
		dir := t.TempDir()
		env := append(slices.Clone(w.env), legoEnv(w)...)
		env = append(env, "EXEC_PATH="+hookBin, "EXEC_SEQUENCE_INTERVAL=0", "EXEC_POLLING_INTERVAL=1", "EXEC_PROPAGATION_TIMEOUT=30")
		env = append(env, extraEnv...)
		runClient(t, "lego", env, dir, nil, lego, legoCLIArgs(w, dir, "exec", names)...)
		return filepath.Join(dir, "certificates", names[0]+".crt")
	}
}

// legoHTTPReq starts `acme-dns-hook serve` and runs `lego --dns httpreq`
// against it.
func legoHTTPReq(extraEnv []string) acmeClient {
	return func(t *testing.T, w *e2e, names []string) string {
		lego := legoBin(t)
		url := startServe(t, w.env)
		dir := t.TempDir()
		env := append(slices.Clone(w.env), legoEnv(w)...)
		env = append(env, "HTTPREQ_ENDPOINT="+url, "HTTPREQ_USERNAME="+serveUser, "HTTPREQ_PASSWORD="+servePass,
			"HTTPREQ_POLLING_INTERVAL=1", "HTTPREQ_PROPAGATION_TIMEOUT=30")
		env = append(env, extraEnv...)
		runClient(t, "lego", env, dir, nil, lego, legoCLIArgs(w, dir, "httpreq", names)...)
		return filepath.Join(dir, "certificates", names[0]+".crt")
	}
}

func legoEnv(w *e2e) []string {
	return []string{"LEGO_CA_CERTIFICATES=" + w.stack.CA.TLSRootsFile(), "LEGO_DISABLE_CNAME_SUPPORT=true"}
}

func legoCLIArgs(w *e2e, dir, provider string, names []string) []string {
	args := []string{"--server", w.stack.CA.DirectoryURL, "--accept-tos", "--email", "test@example.test", "--path", dir,
		"--dns", provider, "--dns.resolvers", w.stack.DNS.Addr(), "--dns.propagation-disable-ans"}
	for _, n := range names {
		args = append(args, "-d", n)
	}
	return append(args, "run")
}

// legoBin returns the lego CLI: $ACME_HOOK_LEGO, or bin/lego of the repository.
func legoBin(t *testing.T) string {
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
		t.Fatalf("the lego CLI is not at %s: run `make tools` in the repository root to build it, or set ACME_HOOK_LEGO to a lego binary", path)
	}
	return path
}

// certbot runs `certbot certonly --manual` with the hook as auth and
// cleanup hooks.
func certbot(t *testing.T, w *e2e, names []string) string {
	bin := lookClient(t, "certbot")
	// certbot checks that the first word of a hook command is an executable,
	// quotes included, and runs the command with a shell: no quoting possible.
	if strings.ContainsAny(hookBin, " \t\n'\"\\$`;&|<>()*?[]") {
		t.Fatalf("the hook's path %q cannot be a certbot hook command", hookBin)
	}
	dir := t.TempDir()
	env := append(slices.Clone(w.env), "REQUESTS_CA_BUNDLE="+w.stack.CA.TLSRootsFile())
	args := []string{"certonly", "--server", w.stack.CA.DirectoryURL,
		"--config-dir", filepath.Join(dir, "config"), "--work-dir", filepath.Join(dir, "work"), "--logs-dir", filepath.Join(dir, "logs"),
		"--non-interactive", "--agree-tos", "--register-unsafely-without-email",
		"--manual", "--preferred-challenges", "dns",
		"--manual-auth-hook", hookBin + " certbot-auth",
		"--manual-cleanup-hook", hookBin + " certbot-cleanup"}
	for _, n := range names {
		args = append(args, "-d", n)
	}
	runClient(t, "certbot", env, dir, []string{filepath.Join(dir, "logs", "letsencrypt.log")}, bin, args...)
	return filepath.Join(dir, "config", "live", names[0], "fullchain.pem")
}

// dehydrated runs dehydrated with the hook as HOOK, chained (one
// deploy_challenge call with every challenge) or not.
func dehydrated(chain bool) acmeClient {
	return func(t *testing.T, w *e2e, names []string) string {
		bin := lookClient(t, "dehydrated")
		base := t.TempDir()
		hookChain := map[bool]string{true: "yes", false: "no"}[chain]
		config := filepath.Join(base, "config")
		tmpl, err := template.ParseFiles(filepath.Join("testdata", "dehydrated.config"))
		if err != nil {
			t.Fatal(err)
		}
		fields := map[string]string{"CA": w.stack.CA.DirectoryURL, "Hook": hookBin, "Chain": hookChain, "Base": base, "CACert": w.stack.CA.TLSRootsFile()}
		for k, v := range fields {
			if strings.ContainsAny(v, " \t\n\"'$`\\") {
				t.Fatalf("dehydrated config: %s %q contains a character the config file cannot hold", k, v)
			}
		}
		f, err := os.Create(config)
		if err != nil {
			t.Fatal(err)
		}
		if err := tmpl.Execute(f, fields); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		runClient(t, "dehydrated --register", w.env, base, nil, bin, "-f", config, "--register", "--accept-terms")
		args := []string{"-f", config, "-c"}
		for _, n := range names {
			args = append(args, "-d", n)
		}
		runClient(t, "dehydrated", w.env, base, nil, bin, args...)
		return filepath.Join(base, "certs", names[0], "fullchain.pem")
	}
}

func lookClient(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed (%v): install it, e.g. `apt-get install certbot dehydrated` on Debian/Ubuntu", name, err)
	}
	return path
}

// clientEnv is the environment of a client process: this process's, minus
// anything that could redirect a client or the hook (proxies, HOME, settings
// of either), plus a fresh HOME and the hook's settings for the stack.
func clientEnv(t *testing.T, hookEnv []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		drop := strings.HasSuffix(strings.ToLower(k), "_proxy") || k == "HOME" || strings.HasPrefix(k, "XDG_") ||
			k == "REQUESTS_CA_BUNDLE" || k == "CURL_CA_BUNDLE" || k == "SSL_CERT_FILE" || k == "SSL_CERT_DIR"
		for _, p := range []string{"ACME_HOOK_", "MIJNHOST_", "REALTIMEREGISTER_", "HOSTUP_", "XYNTA_", "EXEC_", "HTTPREQ_", "LEGO_", "CERTBOT_"} {
			drop = drop || strings.HasPrefix(k, p)
		}
		if !drop {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+t.TempDir())
	return append(env, hookEnv...)
}

// runClient runs one client to completion and fails the test, showing its
// output and the given log files, unless it exits 0.
func runClient(t *testing.T, name string, env []string, dir string, logs []string, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env, cmd.Dir = env, dir
	cmd.WaitDelay = 10 * time.Second // hooks still holding the output pipe
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Logf("%s: %s", name, time.Since(start).Round(time.Millisecond))
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s failed after %s: %v", name, time.Since(start).Round(time.Millisecond), err)
	if ctx.Err() != nil {
		fmt.Fprintf(&b, " (killed at the %s timeout)", clientTimeout)
	}
	fmt.Fprintf(&b, "\n$ %s %s\n%s", bin, strings.Join(args, " "), out)
	for _, l := range logs {
		data, err := os.ReadFile(l)
		if err != nil {
			fmt.Fprintf(&b, "\n(log %s: %v)", l, err)
			continue
		}
		fmt.Fprintf(&b, "\n----- %s -----\n%s", l, data)
	}
	t.Fatal(b.String())
}

var servingRE = regexp.MustCompile(`serving POST /present and /cleanup on (http://127\.0\.0\.1:\d+)`)

// startServe starts `acme-dns-hook serve` on a free loopback port and
// returns its URL once it accepts connections. The process is interrupted
// when the test ends, and must then exit 0.
func startServe(t *testing.T, env []string) string {
	t.Helper()
	cmd := exec.Command(hookBin, "serve", "--listen", "127.0.0.1:0")
	cmd.Env = append(slices.Clone(env), "ACME_HOOK_SERVE_USERNAME="+serveUser, "ACME_HOOK_SERVE_PASSWORD="+servePass)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting acme-dns-hook serve: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			cmd.Process.Signal(os.Interrupt)
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Errorf("acme-dns-hook serve did not stop within 15s of SIGINT; output:\n%s", out)
				return
			}
		}
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("acme-dns-hook serve exited %d; output:\n%s", code, out)
		} else if t.Failed() {
			t.Logf("acme-dns-hook serve output:\n%s", out)
		}
	})
	deadline := time.After(30 * time.Second)
	for {
		if m := servingRE.FindStringSubmatch(out.String()); m != nil {
			conn, err := net.DialTimeout("tcp", strings.TrimPrefix(m[1], "http://"), 5*time.Second)
			if err != nil {
				t.Fatalf("acme-dns-hook serve says it listens on %s but refuses connections: %v", m[1], err)
			}
			conn.Close()
			return m[1]
		}
		select {
		case <-done:
			t.Fatalf("acme-dns-hook serve exited (%v) before listening; output:\n%s", cmd.ProcessState, out)
		case <-deadline:
			t.Fatalf("acme-dns-hook serve is not listening after 30s; output:\n%s", out)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func formatZone(recs []mijnhosttest.Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "  %-28s %5d %-5s %s\n", r.Name, r.TTL, r.Type, r.Value)
	}
	return b.String()
}
