package hook

// Helpers shared by the tests of every ACME client and every provider: the
// local stack and the environments of hook and client processes, running
// clients (lego, certbot, dehydrated) and checking what they obtained, and
// the assertions every provider's tests make (the zone keeps its records, no
// output shows a credential, a failure is a one-line cause).

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
)

// clientTimeout bounds one run of an ACME client.
const clientTimeout = 3 * time.Minute

// The name lists of the certificates the tests obtain: apex + wildcard,
// and ten names.
var (
	wildcardNames = []string{localstack.Zone, "*." + localstack.Zone}
	tenNames      = []string{"example.test",
		"host1.example.test", "host2.example.test", "host3.example.test",
		"host4.example.test", "host5.example.test", "host6.example.test",
		"host7.example.test", "host8.example.test", "host9.example.test"}
)

// newStack starts the local stack with opts; it stops when the test ends.
func newStack(t *testing.T, opts localstack.Options) *localstack.Stack {
	t.Helper()
	stack, err := localstack.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	return stack
}

// hookEnv is the environment a hook process needs on stack: the stack's
// settings, a lock directory of the test's own and 1 s DNS polling, then
// extra (later settings win).
func hookEnv(t *testing.T, stack *localstack.Stack, extra ...string) []string {
	env := append(stack.Env(), "ACME_HOOK_LOCK_DIR="+t.TempDir(), "ACME_HOOK_POLLING_INTERVAL=1")
	return append(env, extra...)
}

// withoutVar returns env without the settings of the variable name.
func withoutVar(env []string, name string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
}

// clientEnv is the environment of a client or hook process: this process's,
// minus anything that could redirect a client or the hook (proxies, HOME,
// CA bundles, settings of either), plus a fresh HOME and hookEnv.
func clientEnv(t *testing.T, hookEnv []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		drop := strings.HasSuffix(strings.ToLower(k), "_proxy") || k == "HOME" || strings.HasPrefix(k, "XDG_") ||
			k == "REQUESTS_CA_BUNDLE" || k == "CURL_CA_BUNDLE" || k == "SSL_CERT_FILE" || k == "SSL_CERT_DIR"
		for _, p := range []string{"ACME_HOOK_", "MIJNHOST_", "REALTIMEREGISTER_", "HOSTUP_", "XYNTA_", "EXEC_", "HTTPREQ_", "LEGO_", "CERTBOT_", "MYSSL_", "RENEWED_"} {
			drop = drop || strings.HasPrefix(k, p)
		}
		if !drop {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+t.TempDir())
	return append(env, hookEnv...)
}

// e2e is one issuance's world: the local stack with Pebble, and the
// environment a client process runs with (the hook's settings included,
// since clients hand their environment down to the hook).
type e2e struct {
	stack *localstack.Stack
	env   []string
}

func newE2E(t *testing.T, stack *localstack.Stack, hookEnv []string) *e2e {
	return &e2e{stack: stack, env: clientEnv(t, hookEnv)}
}

// acmeClient obtains a certificate for names and returns the path of the
// PEM file holding the leaf and its chain, and the client's output.
type acmeClient func(t *testing.T, w *e2e, names []string) (certFile string, out []byte)

// obtain has client obtain a certificate for names and fails the test
// unless the client leaves one that verifies against the stack's CA. It
// returns the client's output.
func obtain(t *testing.T, w *e2e, client acmeClient, names []string) []byte {
	t.Helper()
	start := time.Now()
	certFile, out := client(t, w, names)
	t.Logf("issued %s in %s", strings.Join(names, ", "), time.Since(start).Round(time.Millisecond))
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatalf("the client exited 0 but left no certificate: %v\n%s", err, out)
	}
	if err := w.stack.CA.VerifyChain(pem, names); err != nil {
		t.Errorf("certificate %s does not verify: %v", certFile, err)
	}
	return out
}

// legoExec runs `lego --dns exec` with EXEC_PATH pointing at the hook.
func legoExec(extraEnv ...string) acmeClient {
	return func(t *testing.T, w *e2e, names []string) (string, []byte) {
		t.Helper()
		env := append(slices.Clone(w.env), "EXEC_PATH="+hookBin, "EXEC_SEQUENCE_INTERVAL=0", "EXEC_POLLING_INTERVAL=1", "EXEC_PROPAGATION_TIMEOUT=30")
		return runLego(t, w, "exec", append(env, extraEnv...), names)
	}
}

// runLego runs `lego --dns dns … run` for names against the stack's Pebble
// with env (the DNS provider's settings included), and returns the path
// of the certificate file and lego's output.
func runLego(t *testing.T, w *e2e, dns string, env []string, names []string) (string, []byte) {
	t.Helper()
	lego := legoBin(t)
	dir := t.TempDir()
	env = append(slices.Clone(env), "LEGO_CA_CERTIFICATES="+w.stack.CA.TLSRootsFile(), "LEGO_DISABLE_CNAME_SUPPORT=true")
	args := []string{"--server", w.stack.CA.DirectoryURL, "--accept-tos", "--email", "test@example.test", "--path", dir,
		"--dns", dns, "--dns.resolvers", w.stack.DNS.Addr(), "--dns.propagation-disable-ans"}
	for _, n := range names {
		args = append(args, "-d", n)
	}
	out := runClient(t, "lego", env, dir, nil, lego, append(args, "run")...)
	return filepath.Join(dir, "certificates", names[0]+".crt"), out
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

// lookClient returns the path of an installed client.
func lookClient(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed (%v): install it, e.g. `apt-get install certbot dehydrated` on Debian/Ubuntu", name, err)
	}
	return path
}

// runClient runs one client to completion and returns its output; unless
// it exits 0 it fails the test, showing the output and the given log files.
func runClient(t *testing.T, name string, env []string, dir string, logs []string, bin string, args ...string) []byte {
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
		return out
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
	return nil
}

// presentConcurrently runs n hook processes at once with env, as parallel
// certbot runs and cron jobs would, each presenting a value of its own at
// _acme-challenge.example.test.; each that fails fails the test.
func presentConcurrently(t *testing.T, env []string, n int) {
	t.Helper()
	env = clientEnv(t, env)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cmd := exec.Command(hookBin, "present", "_acme-challenge.example.test.", fmt.Sprintf("concurrent-value-%02d-0123456789abcdefghijklm", i))
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("process %d: %v\n%s", i, err, out)
			}
		})
	}
	wg.Wait()
}

// assertZoneUnchanged fails the test unless the stack's zone is before,
// line for line of the fake's snapshot. Lines of the zone now that contain
// ignore, when given, are left out.
func assertZoneUnchanged(t *testing.T, stack *localstack.Stack, before []string, ignore ...string) {
	t.Helper()
	after := stack.Fake.Snapshot(localstack.Zone)
	rest := slices.DeleteFunc(slices.Clone(after), func(l string) bool {
		return slices.ContainsFunc(ignore, func(s string) bool { return strings.Contains(l, s) })
	})
	if !slices.Equal(rest, before) {
		t.Errorf("the zone differs from the zone before:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
}

// assertNoSecrets fails the test if out shows one of secrets.
func assertNoSecrets(t *testing.T, out []byte, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("the output shows a credential:\n%s", out)
			return
		}
	}
}

// commandTest is a command of the hook, run in process, and what its
// standard output must hold.
type commandTest struct {
	args []string
	want []string
}

// runCommands runs each command in process with env and fails the test if
// one exits non-zero, lacks a want in its output, or shows the stack's API
// key.
func runCommands(t *testing.T, env []string, tests []commandTest) {
	t.Helper()
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
		if strings.Contains(stdout.String()+stderr.String(), mijnhosttest.SeedKey) {
			t.Errorf("%v shows the API key", tt.args)
		}
	}
}

// failValue is the challenge value the hook presents in hookFailure rows.
const failValue = "v-0123456789abcdefghijklmnopqrstuvwxyzABCDE"

// hookFailure is one way a provider's API makes the hook's present fail.
type hookFailure[F any] struct {
	name  string
	setup func(F)             // prepares the fake; nil: nothing
	fqdn  string              // the name presented; "": _acme-challenge.example.test.
	env   []string            // added to the hook's environment
	want  []string            // what the one-line cause must hold
	check func(*testing.T, F) // further checks afterwards; nil: none
}

// hookFailures is a provider's table of hookFailure rows.
type hookFailures[F any] struct {
	provider string
	fake     func(*localstack.Stack) F
	secrets  []string // what no output may show
	ignore   []string // zone lines holding one of them may change
	rows     []hookFailure[F]
}

// run runs the hook's present in process for each row, on a fresh stack of
// the provider (without Pebble), and fails the row unless present exits
// non-zero with a last line "acme-dns-hook: …" that holds every want, no
// output shows a secret, and the zone keeps every record it had.
func (ff hookFailures[F]) run(t *testing.T) {
	for _, tt := range ff.rows {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stack := newStack(t, localstack.Options{Provider: ff.provider})
			fake := ff.fake(stack)
			before := stack.Fake.Snapshot(localstack.Zone)
			if tt.setup != nil {
				tt.setup(fake)
			}
			fqdn := cmp.Or(tt.fqdn, "_acme-challenge.example.test.")
			env := append(hookEnv(t, stack, "ACME_HOOK_PROPAGATION_TIMEOUT=5"), tt.env...)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"present", fqdn, failValue}, envFunc(env), &stdout, &stderr)
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
			assertNoSecrets(t, append(stdout.Bytes(), stderr.Bytes()...), ff.secrets...)
			if tt.check != nil {
				tt.check(t, fake)
			}
			assertZoneUnchanged(t, stack, before, ff.ignore...)
		})
	}
}
