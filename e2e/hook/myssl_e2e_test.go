package hook

// End-to-end tests of the MySSL deploy hooks: certbot's --deploy-hook,
// lego's --run-hook and --renew-hook, and dehydrated's deploy_cert, each
// run by the real client right after it obtained a real certificate from
// the local stack's Pebble (through acme-dns-hook and the fake mijn.host
// API), against the fake MySSL API (myssltest) of this process.

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/myssl/myssltest"
)

const mysslKey = "myssl_k_e2e-6b0f4c1d9e"

// The certificate the rows obtain, and the hosts MySSL must be asked to
// scan for it: every name but the wildcard, once each.
var (
	mysslNames = []string{"example.test", "www.example.test", "*.example.test"}
	mysslHosts = []string{"example.test", "www.example.test"}
)

// mysslHook is the deploy hook command certbot and lego run.
func mysslHook() string { return hookBin + " myssl scan --interval=100ms" }

// certbotWith is certbot (see e2e_test.go) with further arguments.
func certbotWith(extra ...string) acmeClient {
	return func(t *testing.T, w *e2e, names []string) (string, []byte) {
		bin := lookClient(t, "certbot")
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
		out := runClient(t, "certbot", env, dir, []string{filepath.Join(dir, "logs", "letsencrypt.log")}, bin, append(args, extra...)...)
		return filepath.Join(dir, "config", "live", names[0], "fullchain.pem"), out
	}
}

// legoArgs are the arguments of a lego CLI run against the stack with the
// hook as its DNS solver (as legoExec), keeping its files in dir.
func legoCLIArgs(w *e2e, dir string, names []string) []string {
	args := []string{"--server", w.stack.CA.DirectoryURL, "--accept-tos", "--email", "test@example.test", "--path", dir,
		"--dns", "exec", "--dns.resolvers", w.stack.DNS.Addr(), "--dns.propagation-disable-ans"}
	for _, n := range names {
		args = append(args, "-d", n)
	}
	return args
}

func legoCLIEnv(w *e2e) []string {
	return append(slices.Clone(w.env), "EXEC_PATH="+hookBin, "EXEC_SEQUENCE_INTERVAL=0", "EXEC_POLLING_INTERVAL=1", "EXEC_PROPAGATION_TIMEOUT=30",
		"LEGO_CA_CERTIFICATES="+w.stack.CA.TLSRootsFile(), "LEGO_DISABLE_CNAME_SUPPORT=true")
}

// legoRunHook runs `lego … run --run-hook "acme-dns-hook myssl scan …"`.
func legoRunHook(t *testing.T, w *e2e, names []string) (string, []byte) {
	dir := t.TempDir()
	out := runClient(t, "lego run", legoCLIEnv(w), dir, nil, legoBin(t), append(legoCLIArgs(w, dir, names), "run", "--run-hook", mysslHook())...)
	return filepath.Join(dir, "certificates", names[0]+".crt"), out
}

// legoRenewHook runs `lego … run` without a hook, then `lego … renew
// --renew-hook "acme-dns-hook myssl scan …"`, forced. It fails the test if
// the first run asked MySSL anything.
func legoRenewHook(fake *myssltest.Server) acmeClient {
	return func(t *testing.T, w *e2e, names []string) (string, []byte) {
		dir := t.TempDir()
		runClient(t, "lego run", legoCLIEnv(w), dir, nil, legoBin(t), append(legoCLIArgs(w, dir, names), "run")...)
		if reqs := fake.Requests(); len(reqs) != 0 {
			t.Errorf("lego run without a hook reached MySSL: %v", reqs)
		}
		out := runClient(t, "lego renew", legoCLIEnv(w), dir, nil, legoBin(t), append(legoCLIArgs(w, dir, names),
			"renew", "--days=-1", "--ari-disable", "--no-random-sleep", "--renew-hook", mysslHook())...)
		return filepath.Join(dir, "certificates", names[0]+".crt"), out
	}
}

// TestMySSLDeployHooks has each client obtain a certificate for
// mysslNames and run its deploy hook with the MySSL key set and a host
// graded below MYSSL_MIN_GRADE, and with the key unset. The client must
// keep the certificate and exit 0 either way; with the key MySSL gets
// exactly one scan per name with that key, and the hook says which host
// graded too low; without it MySSL is asked nothing.
func TestMySSLDeployHooks(t *testing.T) {
	t.Parallel()
	clients := []struct {
		name  string
		issue func(*myssltest.Server) acmeClient
		// statusPath: the fake serves the unconfirmed scan-status path;
		// without it, the hosts are monitored and the grade comes from the
		// listing.
		statusPath bool
		want       []string // further lines the client's output must hold with the key set
	}{
		{"certbot_deploy_hook", func(*myssltest.Server) acmeClient { return certbotWith("--deploy-hook", mysslHook()) }, true,
			[]string{"reported error code 1"}}, // certbot only logs a failing deploy hook
		{"lego_run_hook", func(*myssltest.Server) acmeClient { return legoRunHook }, false, []string{"source=domain-listing", "acme-dns-hook: myssl: warning: "}},
		{"lego_renew_hook", legoRenewHook, true, []string{"source=scan-status", "acme-dns-hook: myssl: warning: "}},
		{"dehydrated_deploy_cert", func(*myssltest.Server) acmeClient { return dehydrated(true) }, true, []string{"acme-dns-hook: myssl: warning: "}},
	}
	for _, c := range clients {
		for _, withKey := range []bool{true, false} {
			name := c.name + map[bool]string{true: "/key", false: "/no_key"}[withKey]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				fake := myssltest.NewServer()
				t.Cleanup(fake.Close)
				fake.AddKey(mysslKey)
				fake.SetScanStatus(c.statusPath)
				if !c.statusPath {
					for _, h := range mysslHosts {
						fake.AddDomain(h, 443)
					}
				}
				fake.SetResult("example.test", myssltest.Result{Grade: "A", Score: 92, Expiry: time.Now().Add(90 * 24 * time.Hour), Issuer: "Pebble Intermediate CA"})
				fake.SetResult("www.example.test", myssltest.Result{Grade: "D", Score: 35, Expiry: time.Now().Add(90 * 24 * time.Hour), Issuer: "Pebble Intermediate CA"})

				stack, env := startStack(t, true)
				env = append(env, "MYSSL_API_URL="+fake.URL, "MYSSL_MIN_GRADE=B", "MYSSL_WAIT=60")
				if withKey {
					keyFile := filepath.Join(t.TempDir(), "myssl.key")
					if err := os.WriteFile(keyFile, []byte(mysslKey+"\n"), 0o600); err != nil {
						t.Fatal(err)
					}
					env = append(env, "MYSSL_API_KEY_FILE="+keyFile)
				}
				out := obtain(t, newE2E(t, stack, env), c.issue(fake), mysslNames)
				assertNoSecrets(t, out, append(stack.Secrets(), mysslKey)...)

				if !withKey {
					if reqs := fake.Requests(); len(reqs) != 0 {
						t.Errorf("MySSL was asked %v without a key\n%s", reqs, out)
					}
					return
				}
				var hosts []string
				for _, s := range fake.Scans() {
					hosts = append(hosts, s.Hostname)
					if s.Key != mysslKey || s.Port != 443 {
						t.Errorf("scan of %s:%d with key %q", s.Hostname, s.Port, s.Key)
					}
				}
				slices.Sort(hosts)
				if !slices.Equal(hosts, mysslHosts) {
					t.Errorf("scans of %v, want one of each of %v\n%s", hosts, mysslHosts, out)
				}
				want := append([]string{
					"example.test:443 grade=A score=92",
					"www.example.test:443 grade=D score=35",
					"www.example.test:443: graded D, below the minimum B",
					"(the certificate is kept)",
				}, c.want...)
				for _, w := range want {
					if !bytes.Contains(out, []byte(w)) {
						t.Errorf("the client's output lacks %q:\n%s", w, out)
					}
				}
				if fake.MaxRunning() != 1 || fake.CountStatus(429) != 0 {
					t.Errorf("%d scans at once, %d refused: want one at a time", fake.MaxRunning(), fake.CountStatus(429))
				}
			})
		}
	}
}
