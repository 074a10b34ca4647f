package hook

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

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
)

// certificates are the name lists every client obtains a certificate for.
var certificates = []struct {
	name  string
	names []string
}{
	{"apex_and_wildcard", wildcardNames},
	{"ten_names", tenNames},
}

func TestIssueCertificates(t *testing.T) {
	t.Parallel()
	clients := []struct {
		name  string
		issue acmeClient
	}{
		{"lego_exec", legoExec()},
		{"lego_exec_RAW", legoExec("EXEC_MODE=RAW")},
		{"lego_httpreq", legoHTTPReq()},
		{"lego_httpreq_RAW", legoHTTPReq("HTTPREQ_MODE=RAW")},
		{"certbot", certbot},
		{"dehydrated_chained", dehydrated(true)},
		{"dehydrated_unchained", dehydrated(false)},
	}
	for _, c := range clients {
		for _, cert := range certificates {
			t.Run(c.name+"/"+cert.name, func(t *testing.T) {
				t.Parallel()
				stack, env := startStack(t, true)
				before := stack.Fake.Snapshot(localstack.Zone)
				obtain(t, newE2E(t, stack, env), c.issue, cert.names)
				if n := stack.Fake.(*mijnhosttest.Server).Count(mijnhosttest.EndpointPutRecords) + stack.Fake.(*mijnhosttest.Server).Count(mijnhosttest.EndpointPatchRecord); n == 0 {
					t.Errorf("the zone was never written: the certificate was not obtained through acme-dns-hook")
				}
				for _, r := range stack.Fake.(*mijnhosttest.Server).Records(localstack.Zone) {
					if strings.HasPrefix(r.Name, "_acme-challenge.") {
						t.Errorf("challenge record left behind: %+v", r)
					}
				}
				assertZoneUnchanged(t, stack, before)
			})
		}
	}
}

// legoHTTPReq starts `acme-dns-hook serve` and runs `lego --dns httpreq`
// against it.
func legoHTTPReq(extraEnv ...string) acmeClient {
	return func(t *testing.T, w *e2e, names []string) (string, []byte) {
		t.Helper()
		url := startServe(t, w.env)
		env := append(slices.Clone(w.env), "HTTPREQ_ENDPOINT="+url, "HTTPREQ_USERNAME="+serveUser, "HTTPREQ_PASSWORD="+servePass,
			"HTTPREQ_POLLING_INTERVAL=1", "HTTPREQ_PROPAGATION_TIMEOUT=30")
		return runLego(t, w, "httpreq", append(env, extraEnv...), names)
	}
}

// certbot runs `certbot certonly --manual` with the hook as auth and
// cleanup hooks.
func certbot(t *testing.T, w *e2e, names []string) (string, []byte) {
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
	out := runClient(t, "certbot", env, dir, []string{filepath.Join(dir, "logs", "letsencrypt.log")}, bin, args...)
	return filepath.Join(dir, "config", "live", names[0], "fullchain.pem"), out
}

// dehydrated runs dehydrated with the hook as HOOK, chained (one
// deploy_challenge call with every challenge) or not.
func dehydrated(chain bool) acmeClient {
	return func(t *testing.T, w *e2e, names []string) (string, []byte) {
		bin, base, args := dehydratedSetup(t, w, chain, names)
		out := runClient(t, "dehydrated", w.env, base, nil, bin, args...)
		return filepath.Join(base, "certs", names[0], "fullchain.pem"), out
	}
}

// dehydratedSetup writes a dehydrated configuration with the hook as HOOK
// in a directory of the test's own, registers an ACME account, and returns
// dehydrated's path, the directory, and the arguments that obtain a
// certificate for names.
func dehydratedSetup(t *testing.T, w *e2e, chain bool, names []string) (bin, base string, args []string) {
	t.Helper()
	bin = lookClient(t, "dehydrated")
	base = t.TempDir()
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
	args = []string{"-f", config, "-c"}
	for _, n := range names {
		args = append(args, "-d", n)
	}
	return bin, base, args
}

var servingRE = regexp.MustCompile(`serving POST /present and /cleanup on (http://127\.0\.0\.1:\d+)`)

// startServe starts `acme-dns-hook serve` on a free loopback port and
// returns its URL once it accepts connections. The process is interrupted
// when the test ends, and must then exit 0.
func startServe(t *testing.T, env []string) string {
	t.Helper()
	cmd := exec.Command(hookBin, "serve", "--listen", "127.0.0.1:0")
	cmd.Env = append(slices.Clone(env), "ACME_HOOK_SERVE_USERNAME="+serveUser, "ACME_HOOK_SERVE_PASSWORD="+servePass)
	out := &apitest.Buffer{}
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
