package hook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
)

// hookBin is the acme-dns-hook binary built for this test run; the
// end-to-end tests hand it to real ACME clients.
var hookBin string

// e2eParallel is how many tests run at once unless -parallel says
// otherwise. The end-to-end rows mostly wait, not compute: lego polls each
// authorization every 5 s (Pebble sends no Retry-After) and every row has
// a stack of its own, so more of them at once than GOMAXPROCS (the
// default) shortens the run several times over on a small machine.
const e2eParallel = 16

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", strconv.Itoa(max(e2eParallel, runtime.GOMAXPROCS(0))))
	}
	dir, err := os.MkdirTemp("", "acme-dns-hook-test")
	if err != nil {
		panic(err)
	}
	hookBin = filepath.Join(dir, "acme-dns-hook")
	// Built in the root module on its own, as `go install` builds it.
	build := exec.Command("go", "build", "-race", "-o", hookBin, "./cmd/acme-dns-hook")
	build.Dir = filepath.Join("..", "..")
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building acme-dns-hook: %v\n%s", err, out)
		os.Exit(1)
	}
	// The lego library, run in process by some tests, reads this from the
	// process environment; set once here, the tests can run in parallel
	// (client processes get their environment from clientEnv).
	os.Setenv("LEGO_DISABLE_CNAME_SUPPORT", "true") // lego would ask the system resolver otherwise
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	seedOnce     sync.Once
	seedSnapshot []string // the seeded zone as the fake stores it
)

// startStack starts the local stack (with Pebble when ca is set) and returns
// it with the environment a hook process needs on it.
func startStack(t *testing.T, ca bool) (*localstack.Stack, []string) {
	t.Helper()
	stack := newStack(t, localstack.Options{CA: ca, Zones: []string{"example.net"}})
	seedOnce.Do(func() { seedSnapshot = stack.Fake.Snapshot(localstack.Zone) })
	return stack, hookEnv(t, stack, "ACME_HOOK_PROPAGATION_TIMEOUT=20")
}

// envFunc marks KEY=VALUE lines as the whole environment of a hook run.
func envFunc(lines []string) []string { return lines }

// run runs the built hook binary with args and env (KEY=VALUE lines on top
// of this process's PATH, HOME and TMPDIR, nothing else), and returns its
// exit status; -1 if it could not run.
func run(ctx context.Context, args []string, env []string, stdout, stderr io.Writer) int {
	cmd := exec.CommandContext(ctx, hookBin, args...)
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	fmt.Fprintf(stderr, "running %s: %v\n", hookBin, err)
	return -1
}

// The HTTP Basic credentials of `acme-dns-hook serve` in the tests.
const serveUser, servePass = "lego", "serve-password-5d2f9a"

// challenges returns the _acme-challenge TXT values in the zone, by name.
func challenges(stack *localstack.Stack, zone string) map[string][]string {
	out := map[string][]string{}
	for _, r := range stack.Fake.(*mijnhosttest.Server).Records(zone) {
		if r.Type == "TXT" && strings.HasPrefix(r.Name, "_acme-challenge.") {
			out[r.Name] = append(out[r.Name], r.Value)
		}
	}
	return out
}

func TestInvocations(t *testing.T) {
	const v1, v2 = "digest-one-0123456789abcdefghijklmnopqrstuv", "digest-two-0123456789abcdefghijklmnopqrstuv"
	sum := sha256.Sum256([]byte("tok.thumb"))
	rawValue := base64.RawURLEncoding.EncodeToString(sum[:])
	type call struct {
		args []string
		env  []string
	}
	tests := []struct {
		name  string
		calls []call
		want  map[string][]string // challenge records afterwards
	}{
		{"lego exec present and cleanup", []call{
			{[]string{"present", "_acme-challenge.example.test.", v1}, nil},
			{[]string{"present", "_acme-challenge.example.test.", v2, "120"}, nil}, // old lego passes a TTL too
		}, map[string][]string{"_acme-challenge.example.test.": {v1, v2}}},
		{"lego exec cleanup removes one value", []call{
			{[]string{"present", "_acme-challenge.example.test.", v1}, nil},
			{[]string{"present", "_acme-challenge.example.test.", v2}, nil},
			{[]string{"cleanup", "_acme-challenge.example.test.", v1}, nil},
		}, map[string][]string{"_acme-challenge.example.test.": {v2}}},
		{"lego exec RAW mode", []call{
			{[]string{"present", "--", "www.example.test", "tok", "tok.thumb"}, []string{"EXEC_MODE=RAW"}},
		}, map[string][]string{"_acme-challenge.www.example.test.": {rawValue}}},
		{"certbot hooks by name and by environment", []call{
			{[]string{"certbot-auth"}, []string{"CERTBOT_DOMAIN=example.test", "CERTBOT_VALIDATION=" + v1}},
			{nil, []string{"CERTBOT_DOMAIN=example.test", "CERTBOT_VALIDATION=" + v2}},
			{nil, []string{"CERTBOT_DOMAIN=example.test", "CERTBOT_VALIDATION=" + v1, "CERTBOT_AUTH_OUTPUT="}},
		}, map[string][]string{"_acme-challenge.example.test.": {v2}}},
		{"dehydrated chained triples, same domain twice", []call{
			{[]string{"deploy_challenge", "example.test", "t1", v1, "example.test", "t2", v2, "mail.example.test", "t3", v1}, nil},
			{[]string{"clean_challenge", "mail.example.test", "t3", v1}, nil},
			{[]string{"deploy_cert", "example.test", "k", "c", "f", "ch", "ts"}, nil},
			{[]string{"this_hookscript_is_broken__dehydrated_is_working_fine__please_ignore_unknown_hooks_in_your_script"}, nil},
		}, map[string][]string{"_acme-challenge.example.test.": {v1, v2}}},
		{"acme.sh-style add and rm, two zones", []call{
			{[]string{"add", "_acme-challenge.example.test", v1}, nil},
			{[]string{"add", "_acme-challenge.example.net", v2}, nil},
			{[]string{"rm", "_acme-challenge.example.test", v1}, nil},
		}, map[string][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack, env := startStack(t, false)
			for _, c := range tt.calls {
				var stdout, stderr bytes.Buffer
				if code := run(context.Background(), c.args, envFunc(append(env, c.env...)), &stdout, &stderr); code != 0 {
					t.Fatalf("%v exited %d: %s", c.args, code, stderr.String())
				}
			}
			if got := challenges(stack, localstack.Zone); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("challenge records %v, want %v", got, tt.want)
			}
			assertZoneUnchanged(t, stack, seedSnapshot, "_acme-challenge.")
		})
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      []string
		wantCode int
		want     string
	}{
		{"unknown command", []string{"presnt", "a", "b"}, nil, 2, `unknown command "presnt"`},
		{"missing value", []string{"present", "_acme-challenge.example.test."}, nil, 2, "present needs FQDN VALUE"},
		{"bad RAW", []string{"present", "--", "example.test", "tok"}, nil, 2, "RAW mode needs -- DOMAIN TOKEN KEYAUTH"},
		{"dehydrated partial triple", []string{"deploy_challenge", "example.test", "t"}, nil, 2, "needs DOMAIN TOKENFILE VALUE triples"},
		{"certbot without env", []string{"certbot-auth"}, nil, 2, "needs CERTBOT_DOMAIN and CERTBOT_VALIDATION"},
		{"unknown provider", []string{"--provider", "nope", "zones"}, nil, 2, `unknown provider "nope"`},
		{"bad ttl", []string{"present", "_acme-challenge.example.test.", goodValue}, []string{"MIJNHOST_TTL=1h"}, 2, `MIJNHOST_TTL="1h" is invalid`},
		{"bad resolvers", []string{"present", "_acme-challenge.example.test.", goodValue}, []string{"ACME_HOOK_RESOLVERS=::nope::"}, 2, "ACME_HOOK_RESOLVERS"},
		{"bad wait", []string{"present", "_acme-challenge.example.test.", goodValue}, []string{"ACME_HOOK_WAIT=maybe"}, 2, `ACME_HOOK_WAIT="maybe" is invalid`},
		{"name outside the account", []string{"present", "_acme-challenge.example.org.", goodValue}, nil, 1, "no zone of this account holds _acme-challenge.example.org."},
		{"rejected key", []string{"present", "_acme-challenge.example.test.", goodValue}, []string{"MIJNHOST_API_KEY=wrong-key-0123456789"}, 1, "API key was rejected"},
		{"missing key", []string{"present", "_acme-challenge.example.test.", goodValue}, []string{"MIJNHOST_API_KEY="}, 2, "MIJNHOST_API_KEY is not set"},
		// Names and values are checked before anything is asked of the API.
		{"name with a leading dot", []string{"present", ".example.test.", goodValue}, nil, 2, `".example.test." is not a DNS name: it starts with a dot`},
		{"empty label", []string{"add", "_acme-challenge..example.test", goodValue}, nil, 2, "empty label"},
		{"semicolon in a name", []string{"present", "_acme-challenge.a;b.example.test.", goodValue}, nil, 2, `holds ';'`},
		{"control characters in a name", []string{"present", "_acme-challenge.[2Jx.example.test.", goodValue}, nil, 2, `"_acme-challenge.\x1b[2Jx.example.test." is not a DNS name`},
		{"bad internationalised name", []string{"present", "_acme-challenge.a​b.example.test.", goodValue}, nil, 2, "not a valid internationalised name"},
		{"value not of DNS-01 shape", []string{"present", "_acme-challenge.example.test.", "v"}, nil, 2, "not a DNS-01 challenge value"},
		{"value with a quote", []string{"present", "_acme-challenge.example.test.", goodValue[:42] + `"`}, nil, 2, "not a DNS-01 challenge value"},
		{"RAW domain with a leading dot", []string{"present", "--", ".example.test", "tok", "tok.thumb"}, nil, 2, "is not a DNS name"},
		{"certbot domain with a space", []string{"certbot-auth"}, []string{"CERTBOT_DOMAIN=exa mple.test", "CERTBOT_VALIDATION=" + goodValue}, 2, "spaces or control characters"},
		{"dehydrated bad value", []string{"deploy_challenge", "example.test", "t", "not-a-digest"}, nil, 2, "not a DNS-01 challenge value"},
		{"records of a bad zone", []string{"records", "exa;mple.test"}, nil, 2, "is not a DNS name"},
		// Configuration errors exit 2 before any request.
		{"resolver that does not resolve", []string{"present", "_acme-challenge.example.test.", goodValue}, []string{"ACME_HOOK_RESOLVERS=bogus.invalid"}, 2, `resolver "bogus.invalid"`},
		{"API URL not http", []string{"present", "_acme-challenge.example.test.", goodValue}, []string{"MIJNHOST_API_URL=ftp://mijn.host/"}, 2, `MIJNHOST_API_URL="ftp://mijn.host/" is invalid`},
		{"unusable lock directory", []string{"present", "_acme-challenge.example.test.", goodValue}, []string{"ACME_HOOK_LOCK_DIR=/proc/acme-dns-hook-locks"}, 2, "ACME_HOOK_LOCK_DIR"},
		{"bad lock timeout", []string{"present", "_acme-challenge.example.test.", goodValue}, []string{"ACME_HOOK_LOCK_TIMEOUT=soon"}, 2, `ACME_HOOK_LOCK_TIMEOUT="soon" is invalid`},
		{"bad serve address", []string{"serve", "--listen", "nohostport"}, []string{"ACME_HOOK_SERVE_USERNAME=u", "ACME_HOOK_SERVE_PASSWORD=password-123"}, 2, "--listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack, env := startStack(t, false)
			env = append(env, tt.env...)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, envFunc(env), &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr.String(), tt.wantCode, tt.want)
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "acme-dns-hook: ") {
				t.Errorf("last line is not the one-line cause: %q", last)
			}
			assertNoSecrets(t, append(stdout.Bytes(), stderr.Bytes()...), mijnhosttest.SeedKey, "wrong-key-0123456789")
			if strings.ContainsAny(stderr.String(), "\x1b\u200b") {
				t.Errorf("stderr shows the input raw: %q", stderr.String())
			}
			if tt.wantCode == 2 {
				if reqs := stack.Fake.Requests(); len(reqs) != 0 {
					t.Errorf("exit 2 after requests %v: bad input or configuration must be refused before anything is asked", reqs)
				}
			}
			if n := stack.Fake.(*mijnhosttest.Server).Count(mijnhosttest.EndpointPutRecords); n != 0 {
				t.Errorf("%d PUTs: bad input changed the zone", n)
			}
		})
	}
}

func TestPeopleCommands(t *testing.T) {
	_, env := startStack(t, false)
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte(mijnhosttest.SeedKey+"\n"), 0o600)
	env = append(withoutVar(env, "MIJNHOST_API_KEY"), "MIJNHOST_API_KEY_FILE="+keyFile)
	runCommands(t, env, []commandTest{
		{[]string{"zones"}, []string{"example.net.", "example.test."}},
		{[]string{"records", "example.test"}, []string{"_dmarc", `v=DMARC1; p=reject; rua=mailto:"dmarc"@example.test`, "10 mail.example.test."}},
		{[]string{"check"}, []string{"mijn.host credentials work: 2 zone(s)"}},
		{[]string{"--version"}, []string{"acme-dns-hook dev"}},
		{[]string{"--help"}, []string{"lego --dns exec", "MIJNHOST_API_KEY", "ACME_HOOK_RESOLVERS"}},
	})
}

// TestConcurrentProcesses runs 20 hook processes at once on one zone, as
// parallel certbot runs and cron jobs would: the file lock must keep every
// record.
func TestConcurrentProcesses(t *testing.T) {
	t.Parallel()
	stack, env := startStack(t, false)
	const n = 20
	presentConcurrently(t, env, n)
	if got := len(challenges(stack, localstack.Zone)["_acme-challenge.example.test."]); got != n {
		t.Fatalf("%d TXT records after %d concurrent processes, want %d", got, n, n)
	}
	if !slices.Equal(stack.Fake.Snapshot(localstack.Zone)[:len(seedSnapshot)], seedSnapshot) {
		t.Errorf("unrelated records changed")
	}
}
