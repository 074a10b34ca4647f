package legov5

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/go-acme/lego/v5/challenge"
	legoexec "github.com/go-acme/lego/v5/providers/dns/exec"
	"github.com/go-acme/lego/v5/providers/dns/httpreq"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
)

// TestHookTraefikPaths obtains certificates with the lego v5 library
// through the acme-dns-hook binary, the two ways Traefik v3 reaches it:
// lego v5's exec provider running the hook (default and EXEC_MODE=RAW),
// and lego v5's httpreq provider posting to `acme-dns-hook serve` (default
// and HTTPREQ_MODE=RAW). Both lego providers are built by NewDNSProvider
// from the process environment, which the hook inherits, as in Traefik.
// The stack runs the default provider of the local stack; one certificate
// is for a domain hosted elsewhere whose challenges are delegated by CNAME
// into the account.
func TestHookTraefikPaths(t *testing.T) {
	// In the default modes lego follows a delegating CNAME itself and hands
	// the hook its target; in the RAW modes the hook gets the domain and
	// follows the CNAME itself.
	modes := []struct {
		name string
		new  func(t *testing.T, w *world, hookEnv []string) (challenge.Provider, error)
	}{
		{"exec", execProvider("")},
		{"exec_RAW", execProvider("RAW")},
		{"httpreq", httpreqProvider("")},
		{"httpreq_RAW", httpreqProvider("RAW")},
	}
	for _, m := range modes {
		for _, c := range []cert{apexAndWildcard, tenNames, delegated} {
			t.Run(m.name+"/"+c.name, func(t *testing.T) {
				inOwnProcess(t, func(t *testing.T) {
					w := newWorld(t, "", c)
					hookEnv := append(w.stack.Env(), "ACME_HOOK_LOCK_DIR="+t.TempDir(), "ACME_HOOK_POLLING_INTERVAL=1", "ACME_HOOK_PROPAGATION_TIMEOUT=20")
					p, err := m.new(t, w, hookEnv)
					if err != nil {
						t.Fatal(err)
					}
					w.obtain(t, p, c)
				})
			})
		}
	}
}

// execProvider returns lego v5's exec provider running the hook, with the
// hook's settings in the environment lego runs it with.
func execProvider(mode string) func(*testing.T, *world, []string) (challenge.Provider, error) {
	return func(t *testing.T, w *world, hookEnv []string) (challenge.Provider, error) {
		setEnv(t, append(hookEnv, "EXEC_PATH="+hookBin, "EXEC_MODE="+mode,
			"EXEC_SEQUENCE_INTERVAL=0", "EXEC_POLLING_INTERVAL=1", "EXEC_PROPAGATION_TIMEOUT=30")...)
		return legoexec.NewDNSProvider()
	}
}

// httpreqProvider starts `acme-dns-hook serve` with the hook's settings and
// returns lego v5's httpreq provider posting to it; lego's environment
// holds only httpreq's settings.
func httpreqProvider(mode string) func(*testing.T, *world, []string) (challenge.Provider, error) {
	return func(t *testing.T, w *world, hookEnv []string) (challenge.Provider, error) {
		url := startServe(t, hookEnv, w.stack.Secrets())
		setEnv(t, "HTTPREQ_ENDPOINT="+url, "HTTPREQ_USERNAME="+serveUser, "HTTPREQ_PASSWORD="+servePass, "HTTPREQ_MODE="+mode,
			"HTTPREQ_POLLING_INTERVAL=1", "HTTPREQ_PROPAGATION_TIMEOUT=30")
		return httpreq.NewDNSProvider()
	}
}

// The HTTP Basic credentials of `acme-dns-hook serve` in the tests.
const serveUser, servePass = "traefik", "serve-password-7c41e0"

var servingRE = regexp.MustCompile(`serving POST /present and /cleanup on (http://127\.0\.0\.1:\d+)`)

// startServe starts `acme-dns-hook serve` on a free loopback port with env
// (and PATH, HOME, TMPDIR) and returns its URL, read from the line it
// prints once it listens. When the test ends the process is interrupted
// and must exit 0, having shown none of secrets nor its own password.
func startServe(t *testing.T, env, secrets []string) string {
	t.Helper()
	cmd := exec.Command(hookBin, "serve", "--listen", "127.0.0.1:0")
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Env = append(cmd.Env, "ACME_HOOK_SERVE_USERNAME="+serveUser, "ACME_HOOK_SERVE_PASSWORD="+servePass)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting acme-dns-hook serve: %v", err)
	}
	out := &apitest.Buffer{}
	listening := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(pr)
		for s.Scan() {
			out.Write(append(s.Bytes(), '\n'))
			if m := servingRE.FindStringSubmatch(s.Text()); m != nil {
				listening <- m[1]
			}
		}
		io.Copy(io.Discard, pr)
	}()
	exited := make(chan struct{})
	go func() { cmd.Wait(); pw.Close(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		<-exited
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("acme-dns-hook serve exited %d on SIGINT; output:\n%s", code, out)
		} else if t.Failed() {
			t.Logf("acme-dns-hook serve's output:\n%s", out)
		}
		if containsAny(out.String(), append([]string{servePass}, secrets...)) {
			t.Errorf("acme-dns-hook serve's output shows a credential:\n%s", out)
		}
	})
	select {
	case url := <-listening:
		return url
	case <-exited:
		t.Fatalf("acme-dns-hook serve exited (%v) before listening; output:\n%s", cmd.ProcessState, out)
	case <-time.After(30 * time.Second):
		t.Fatalf("acme-dns-hook serve does not listen after 30 s; output:\n%s", out)
	}
	return ""
}
