// Package legov5 obtains real certificates with the lego v5 library from the
// local stack's Pebble: through legov5provider for every registered
// provider, and through the acme-dns-hook binary reached by lego v5's own
// exec and httpreq providers, the two ways Traefik v3 (built on lego v5)
// reaches an external DNS solver. Everything runs on 127.0.0.1.
//
// Only lego v5's core packages and its providers/dns/exec and
// providers/dns/httpreq are imported: the lego v5 CLI (and the registry of
// its DNS providers, providers/dns) does not build here, because the Go
// module proxy refuses about 25 of its DNS-provider dependencies.
//
// lego v5 keeps its DNS resolvers in one client for the whole process
// (dns01.SetDefaultClient): the CNAME lookup of every challenge and the
// propagation check use it. Each row needs them pointed at its own stack's
// DNS server, so each row runs in a process of its own (inOwnProcess), and
// the rows run in parallel.
package legov5

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Environment variables between the test process and its row processes.
const (
	rowEnv  = "ACME_HOOK_E2E_LEGOV5_ROW"  // the name of the row the process runs
	hookEnv = "ACME_HOOK_E2E_LEGOV5_HOOK" // the acme-dns-hook binary built for the run
)

// hookBin is the acme-dns-hook binary built for this test run.
var hookBin string

// e2eParallel is how many rows run at once unless -parallel says otherwise:
// the rows mostly wait (lego v5 polls each authorization after a 5 s
// backoff, since Pebble sends no Retry-After), so more of them than
// GOMAXPROCS at once shortens the run on a small machine.
const e2eParallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv(rowEnv) != "" {
		hookBin = os.Getenv(hookEnv)
		os.Exit(m.Run())
	}
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", strconv.Itoa(max(e2eParallel, runtime.GOMAXPROCS(0))))
	}
	dir, err := os.MkdirTemp("", "acme-dns-hook-legov5")
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
	os.Setenv(hookEnv, hookBin) // for the row processes
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// inOwnProcess runs row in a process of its own: this test binary again,
// told by -test.run to run only the current test, which then calls row.
// The current test runs in parallel with the others; it fails with the
// row's output when the row fails.
func inOwnProcess(t *testing.T, row func(t *testing.T)) {
	t.Helper()
	if os.Getenv(rowEnv) == t.Name() {
		row(t)
		return
	}
	t.Parallel()
	var pattern []string
	for _, part := range strings.Split(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.Command(os.Args[0], "-test.run", strings.Join(pattern, "/"), "-test.v")
	cmd.Env = append(os.Environ(), rowEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the row's process failed (%v):\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()+" ") {
		t.Fatalf("the row's process did not run the row:\n%s", out)
	}
	if testing.Verbose() {
		t.Logf("the row's process:\n%s", out)
	}
}
