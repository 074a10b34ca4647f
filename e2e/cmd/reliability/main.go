// Command reliability tries every registered provider the way an unlucky
// user (or a careful attacker) would, on the local stack, and writes
// RELIABILITY.md: per provider, the fault classes the API was made to show
// and what was lost; the hook processes killed at random points and what
// sweep removed; concurrent hook processes with different environments;
// bad input the hook was given; and the fuzz and property-test counts.
// The goal, which the report shows or refutes, is that no record other
// than a challenge record is ever lost or altered.
//
// Run it from the repository root (make reliability):
//
//	go run ./e2e/cmd/reliability [-trials 20] [-kills 20] [-fuzztime 10s] [-out RELIABILITY.md]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/hostup/hostuptest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/realtimeregister/realtimeregistertest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/xynta/xyntatest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providertest"
)

type options struct {
	trials, kills, pairs, propertyOps int
	fuzztime                          time.Duration
	out, goCmd                        string
}

func main() {
	var o options
	flag.IntVar(&o.trials, "trials", 20, "operations per fault class and provider")
	flag.IntVar(&o.kills, "kills", 20, "hook processes killed at a random point, per provider")
	flag.IntVar(&o.pairs, "pairs", 5, "pairs of concurrent hook processes with different environments, per provider")
	flag.IntVar(&o.propertyOps, "property-ops", 200, "operations of the property test per provider")
	flag.DurationVar(&o.fuzztime, "fuzztime", 10*time.Second, "time per fuzz target")
	flag.StringVar(&o.out, "out", "RELIABILITY.md", "the report to write")
	flag.StringVar(&o.goCmd, "go", "go", "the go command")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(1)
	}
}

// row is one line of a table: what was tried, how often, and what came of it.
type row struct {
	class           string
	tries, failures int // operations tried, operations that returned an error
	lost            int // seed records lost or altered (the goal: 0)
	leftover        int // non-seed records left once every value was cleaned up
	note            string
}

func run(o options) error {
	dir, err := os.MkdirTemp("", "reliability")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	hook := filepath.Join(dir, "acme-dns-hook")
	build := exec.Command(o.goCmd, "build", "-o", hook, "./cmd/acme-dns-hook")
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the hook: %v\n%s", err, out)
	}
	var report bytes.Buffer
	fmt.Fprintf(&report, "# Reliability\n\nWritten by `%s` (`make reliability`) on %s, against the local stack\n"+
		"(each provider's fake API and a DNS server serving it). Every table counts what was lost: seed records\n"+
		"(every record other than challenge records) missing or changed in a single byte afterwards. The goal is 0.\n",
		strings.TrimSpace("go run ./e2e/cmd/reliability "+strings.Join(os.Args[1:], " ")), time.Now().UTC().Format("2006-01-02"))
	report.WriteString("\n\"Failed (reported)\" counts operations that returned an error to the caller (the hook exits 1): a\n" +
		"hanging API cannot succeed, every other class is retried. Not tried yet: Realtime Register's session\n" +
		"expiry (its fake supports it; the client's own tests cover it).\n")

	for _, name := range providertest.Names() {
		fmt.Fprintf(os.Stderr, "== %s\n", name)
		var rows []row
		for _, c := range faultClasses(name) {
			rows = append(rows, faultTrials(name, c, o.trials))
		}
		rows = append(rows, killTrials(hook, name, o.kills), pairTrials(hook, name, o.pairs))
		fmt.Fprintf(&report, "\n## %s\n\n| tried | operations | failed (reported) | seed records lost | left over after cleanup | |\n|---|---|---|---|---|---|\n", name)
		for _, r := range rows {
			fmt.Fprintf(&report, "| %s | %d | %d | **%d** | %d | %s |\n", r.class, r.tries, r.failures, r.lost, r.leftover, r.note)
		}
	}

	fmt.Fprintf(&report, "\n## Bad input\n\nEach input given to the built hook (mijn.host stack); it must exit 2 before any request.\n\n| class | inputs | exit 2, no request |\n|---|---|---|\n")
	for _, r := range badInput(hook) {
		fmt.Fprintf(&report, "| %s | %d | %d |\n", r.class, r.tries, r.tries-r.failures)
	}

	fmt.Fprintf(&report, "\n## Fuzzing and the property test\n\n| target | executions | result |\n|---|---|---|\n")
	for _, r := range fuzz(o) {
		fmt.Fprintf(&report, "| %s | %d | %s |\n", r.class, r.tries, r.note)
	}
	return os.WriteFile(o.out, report.Bytes(), 0o644)
}

// faultClass is a way the API misbehaves, made to happen before an
// operation; client overrides the provider's HTTP client.
type faultClass struct {
	name   string
	inject func(f providertest.Fake)
	client *http.Client
}

// faultClasses are the faults of provider name's fake, by class.
func faultClasses(name string) []faultClass {
	fail := func(n int, f any) func(providertest.Fake) {
		return func(fake providertest.Fake) {
			switch x := fake.(type) {
			case *mijnhosttest.Server:
				x.FailNext(n, f.(mijnhosttest.Fault))
			case *realtimeregistertest.Server:
				x.FailNext(n, f.(realtimeregistertest.Fault))
			case *hostuptest.Server:
				x.FailNext(n, f.(hostuptest.Fault))
			case *xyntatest.Server:
				x.FailNext(n, f.(xyntatest.Fault))
			}
		}
	}
	hang := faultClass{name: "hanging API (no answer within the client's timeout)",
		inject: func(f providertest.Fake) { f.SetLatency(time.Hour) }, client: &http.Client{Timeout: 200 * time.Millisecond}}
	switch name {
	case "mijnhost":
		return []faultClass{
			{name: "429 with Retry-After", inject: fail(1, mijnhosttest.FaultRateLimitRetryAfter)},
			{name: "5xx (two 500s)", inject: fail(2, mijnhosttest.FaultServerError)},
			{name: "502 HTML page", inject: fail(1, mijnhosttest.FaultBadGatewayHTML)},
			{name: "spurious 400 \"not managed\"", inject: fail(1, mijnhosttest.FaultSpuriousBadRequest)},
			{name: "dropped connection", inject: fail(1, mijnhosttest.FaultDropConnection)},
			hang,
		}
	case "realtimeregister":
		return []faultClass{
			{name: "429 with Retry-After", inject: fail(1, realtimeregistertest.FaultRateLimitRetryAfter)},
			{name: "5xx (500, then 503)", inject: func(f providertest.Fake) {
				fail(1, realtimeregistertest.FaultServerError)(f)
				fail(1, realtimeregistertest.FaultUnavailable)(f)
			}},
			{name: "502 HTML page", inject: fail(1, realtimeregistertest.FaultBadGatewayHTML)},
			{name: "dropped connection", inject: fail(1, realtimeregistertest.FaultDropConnection)},
			hang,
		}
	case "hostup":
		return []faultClass{
			{name: "429", inject: fail(1, hostuptest.FaultRateLimit)},
			{name: "5xx (500, then 502)", inject: func(f providertest.Fake) {
				fail(1, hostuptest.FaultServerError)(f)
				fail(1, hostuptest.FaultBadGateway)(f)
			}},
			{name: "dropped connection", inject: fail(1, hostuptest.FaultDropConnection)},
			{name: "answer lost after the change was made", inject: fail(1, hostuptest.FaultDropResponse)},
			hang,
		}
	case "xynta":
		return []faultClass{
			{name: "429 with Retry-After", inject: fail(1, xyntatest.FaultRateLimitRetryAfter)},
			{name: "5xx (two 500s)", inject: fail(2, xyntatest.FaultServerError)},
			{name: "502 HTML page", inject: fail(1, xyntatest.FaultBadGatewayHTML)},
			{name: "dropped connection", inject: fail(1, xyntatest.FaultDropConnection)},
			hang,
		}
	}
	return []faultClass{{name: "5xx (two 500s)", inject: func(f providertest.Fake) { f.FailServerErrors(2) }}, hang}
}

// faultTrials presents and cleans up a value per trial with the fault
// injected before the present, and counts what was lost.
func faultTrials(name string, c faultClass, trials int) row {
	r := row{class: c.name}
	d, err := providers.Lookup(name)
	if err != nil {
		return row{class: c.name, note: err.Error()}
	}
	f, err := providertest.StartFake(name, providertest.Zone, providertest.Seed(), nil)
	if err != nil {
		return row{class: c.name, note: err.Error()}
	}
	defer f.Close()
	if h, ok := f.(*hostuptest.Server); ok {
		h.SetPendingFor(0)
	}
	p, err := providers.New(d, providertest.Env(d, f), providers.Options{HTTPClient: c.client})
	if err != nil {
		return row{class: c.name, note: err.Error()}
	}
	seed := f.Snapshot(providertest.Zone)
	ctx := context.Background()
	zone := providertest.Zone + "."
	if c.client != nil {
		trials = min(trials, 5) // each hanging try waits out its timeout and the retries
	}
	for i := range trials {
		rec := []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: fmt.Sprintf("fault-trial-%02d", i)}}
		c.inject(f)
		r.tries++
		if _, err := p.AppendRecords(ctx, zone, rec); err != nil {
			r.failures++
		}
		f.SetLatency(0)
		f.FailServerErrors(0)
		r.lost += lost(seed, f.Snapshot(providertest.Zone))
		if _, err := p.DeleteRecords(ctx, zone, rec); err != nil {
			r.note = "cleanup failed: " + err.Error()
		}
	}
	r.leftover = len(f.Snapshot(providertest.Zone)) - len(seed) + r.lost
	return r
}

// lost counts the seed lines not in now, byte for byte.
func lost(seed, now []string) int {
	n := 0
	for _, l := range seed {
		if !slices.Contains(now, l) {
			n++
		}
	}
	return n
}

// hookCmd is the built hook with env on top of PATH and HOME.
func hookCmd(hook string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(hook, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	return cmd
}

// killTrials starts the hook's present and kills it with SIGKILL at a
// random point (before, during or after the write, or while it waits for
// DNS); the ACME client's cleanup runs for presents that finished, then
// sweep for the rest.
func killTrials(hook, name string, kills int) row {
	r := row{class: "hook killed with SIGKILL at a random point, then sweep"}
	stack, err := providertest.Start(name, providertest.Zone, providertest.Seed(), nil)
	if err != nil {
		r.note = err.Error()
		return r
	}
	defer stack.Close()
	if h, ok := stack.Fake.(*hostuptest.Server); ok {
		h.SetPendingFor(0)
	}
	stack.Fake.SetLatency(20 * time.Millisecond)
	seed := stack.Fake.Snapshot(providertest.Zone)
	lockDir, _ := os.MkdirTemp("", "reliability-locks")
	defer os.RemoveAll(lockDir)
	env := append(stack.Env(), "ACME_HOOK_LOCK_DIR="+lockDir, "ACME_HOOK_POLLING_INTERVAL=1")
	// One present undisturbed, to learn how long one takes: the kills fall
	// at random points within that time.
	start := time.Now()
	if out, err := hookCmd(hook, env, "present", "_acme-challenge.example.test.", "calibration-0123456789abcdefghijklmnopqrstu").CombinedOutput(); err != nil {
		r.note = fmt.Sprintf("present: %v: %s", err, bytes.TrimSpace(out))
		return r
	}
	span := time.Since(start)
	hookCmd(hook, env, "cleanup", "_acme-challenge.example.test.", "calibration-0123456789abcdefghijklmnopqrstu").Run()
	killed := 0
	for i := range kills {
		value := fmt.Sprintf("killed-%02d-0123456789abcdefghijklmnopqrstuvw", i)[:43]
		cmd := hookCmd(hook, env, "present", "_acme-challenge.example.test.", value)
		if err := cmd.Start(); err != nil {
			r.note = err.Error()
			return r
		}
		time.Sleep(rand.N(span)) // a random point, not a synchronisation
		r.tries++
		cmd.Process.Signal(os.Kill)
		err := cmd.Wait()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit) && !exit.Exited():
			killed++
		case err == nil:
			// present finished before the kill: its client cleans up.
			hookCmd(hook, env, "cleanup", "_acme-challenge.example.test.", value).Run()
		}
	}
	orphans := len(stack.Fake.Snapshot(providertest.Zone)) - len(seed)
	if out, err := hookCmd(hook, env, "sweep").CombinedOutput(); err != nil {
		r.note = fmt.Sprintf("sweep: %v: %s", err, bytes.TrimSpace(out))
	}
	now := stack.Fake.Snapshot(providertest.Zone)
	r.lost = lost(seed, now)
	r.leftover = len(now) - len(seed) + r.lost
	r.note += fmt.Sprintf("%d killed before they finished (at random points within the %s a present takes); %d values left behind before sweep", killed, span.Round(time.Millisecond), orphans)
	return r
}

// pairTrials runs pairs of hook processes at once, one as from a login
// shell (XDG_RUNTIME_DIR, its own HOME and TMPDIR, the API URL as given),
// one as from cron (none of those, the URL spelt otherwise), and counts
// values lost.
func pairTrials(hook, name string, pairs int) row {
	r := row{class: "concurrent hook processes with different environments"}
	stack, err := providertest.Start(name, providertest.Zone, providertest.Seed(), nil)
	if err != nil {
		r.note = err.Error()
		return r
	}
	defer stack.Close()
	if h, ok := stack.Fake.(*hostuptest.Server); ok {
		h.SetPendingFor(0) // count the values as soon as they are made
	}
	stack.Fake.SetLatency(20 * time.Millisecond)
	seed := stack.Fake.Snapshot(providertest.Zone)
	d := stack.Provider
	urlVar := d.EnvName(d.Setting("api_url"))
	base := stack.Fake.Settings()["api_url"]
	other := strings.Replace(strings.TrimSuffix(base, "/"), "http://127.0.0.1", "HTTP://127.0.0.1", 1)
	if !strings.HasSuffix(base, "/") {
		other += "/"
	}
	shell, _ := os.MkdirTemp("", "reliability-shell")
	cron, _ := os.MkdirTemp("", "reliability-cron")
	defer os.RemoveAll(shell)
	defer os.RemoveAll(cron)
	common := append(stack.Env(), "ACME_HOOK_WAIT=false")
	envs := [][]string{
		append(slices.Clone(common), "XDG_RUNTIME_DIR="+shell, "HOME="+shell, "TMPDIR="+shell),
		append(slices.DeleteFunc(slices.Clone(common), func(kv string) bool { return strings.HasPrefix(kv, urlVar+"=") }), urlVar+"="+other, "HOME="+cron, "TMPDIR="+cron),
	}
	values := make([]string, 2*pairs)
	for i := range values {
		values[i] = fmt.Sprintf("pair-%02d-0123456789abcdefghijklmnopqrstuvwxyz", i)[:43]
	}
	each := func(cmd string) (failures int) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i, v := range values {
			wg.Go(func() {
				if hookCmd(hook, envs[i%2], cmd, "_acme-challenge.example.test.", v).Run() != nil {
					mu.Lock()
					failures++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return failures
	}
	r.failures = each("present")
	r.tries = len(values)
	held := 0
	for _, rr := range stack.Fake.Zones()[providertest.Zone+"."] {
		if rr.Type == "TXT" && strings.HasPrefix(rr.Data, "pair-") {
			held++
		}
	}
	r.failures += each("cleanup")
	r.tries += len(values)
	now := stack.Fake.Snapshot(providertest.Zone)
	r.lost = lost(seed, now)
	r.leftover = len(now) - len(seed) + r.lost
	r.note = fmt.Sprintf("%d of %d values present after the concurrent presents", held, len(values))
	return r
}

// badInput gives the built hook inputs of each class and counts those it
// did not refuse with exit 2 before any request.
func badInput(hook string) []row {
	stack, err := providertest.Start("mijnhost", providertest.Zone, providertest.Seed(), nil)
	if err != nil {
		return []row{{class: err.Error()}}
	}
	defer stack.Close()
	lockDir, _ := os.MkdirTemp("", "reliability-locks")
	defer os.RemoveAll(lockDir)
	env := append(stack.Env(), "ACME_HOOK_LOCK_DIR="+lockDir)
	const good = "LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ"
	rng := rand.New(rand.NewPCG(1, 2))
	classes := []struct {
		name  string
		calls [][]string
	}{
		{"name with a leading dot or an empty label", namesCalls(good, genN(10, func(i int) string {
			return [...]string{".", "..", "a.."}[i%3] + "example.test"
		}))},
		{"name with a character outside LDH and _", namesCalls(good, genN(20, func(i int) string {
			return "_acme-challenge.a" + string(";,/\\\"'()<>@! *$"[rng.IntN(15)]) + "b.example.test."
		}))},
		{"name with control characters", namesCalls(good, genN(10, func(i int) string {
			return "_acme-challenge.a" + string(rune(rng.IntN(32))) + "b.example.test."
		}))},
		{"name too long (label over 63, name over 253)", namesCalls(good, []string{strings.Repeat("a", 64) + ".example.test", strings.Repeat("abcdefghi.", 26) + "example.test"})},
		{"invalid internationalised name", namesCalls(good, []string{"a\u200bb.example.test", "\u0301a.example.test", "a\u00adb.example.test"})},
		{"value not of DNS-01 shape", genN(12, func(i int) []string {
			return []string{"present", "_acme-challenge.example.test.", [...]string{"v", good + "A", good[:42] + "=", good[:42] + "\"", good[:42] + " ", "token.thumbprint"}[i%6]}
		})},
		{"malformed configuration (resolvers, API URL, TTL, lock timeout)", nil},
	}
	configs := [][]string{{"ACME_HOOK_RESOLVERS=bogus.invalid"}, {"ACME_HOOK_RESOLVERS=::1"}, {"MIJNHOST_API_URL=ftp://x/"}, {"MIJNHOST_TTL=0"}, {"ACME_HOOK_LOCK_TIMEOUT=soon"}, {"ACME_HOOK_WAIT=maybe"}}
	var rows []row
	for _, c := range classes {
		r := row{class: c.name}
		calls := c.calls
		envsFor := func(int) []string { return env }
		if calls == nil {
			calls = genN(len(configs), func(int) []string { return []string{"present", "_acme-challenge.example.test.", good} })
			envsFor = func(i int) []string { return append(slices.Clone(env), configs[i]...) }
		}
		for i, args := range calls {
			stack.Fake.ResetCounts()
			r.tries++
			err := hookCmd(hook, envsFor(i), args...).Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 || len(stack.Fake.Requests()) != 0 {
				r.failures++
			}
		}
		rows = append(rows, r)
	}
	return rows
}

func genN[T any](n int, f func(i int) T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func namesCalls(value string, names []string) [][]string {
	var out [][]string
	for _, n := range names {
		out = append(out, []string{"present", n, value})
	}
	return out
}

var execsRE = regexp.MustCompile(`execs: (\d+)`)

// fuzz runs each fuzz target for o.fuzztime and the property test, and
// reports their counts.
func fuzz(o options) []row {
	targets := [][2]string{{"./internal/dnsname", "FuzzName"}, {"./internal/dnsname", "FuzzValue"}, {"./internal/zone", "FuzzMerge"},
		{"./internal/api/mijnhost", "FuzzRecordRoundTrip"}, {"./internal/api/xynta", "FuzzRecordRoundTrip"}, {"./internal/api/realtimeregister", "FuzzTXTRoundTrip"}}
	var rows []row
	for _, t := range targets {
		cmd := exec.Command(o.goCmd, "test", "-run", "^$", "-fuzz", "^"+t[1]+"$", "-fuzztime", o.fuzztime.String(), t[0])
		cmd.Env = append(os.Environ(), "GOWORK=off")
		out, err := cmd.CombinedOutput()
		r := row{class: fmt.Sprintf("fuzz %s %s (%s)", strings.TrimPrefix(t[0], "./"), t[1], o.fuzztime), note: "passed"}
		if m := execsRE.FindAllSubmatch(out, -1); len(m) > 0 {
			r.tries, _ = strconv.Atoi(string(m[len(m)-1][1]))
		}
		if err != nil {
			r.note = "FAILED: " + lastLine(out)
		}
		rows = append(rows, r)
	}
	cmd := exec.Command(o.goCmd, "test", "-count=1", "-run", "TestKitPropertyRandomOps", "./internal/providertest", "-property.ops="+strconv.Itoa(o.propertyOps))
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	r := row{class: "property test: random appends, sets and deletes with injected 500s, every provider", tries: o.propertyOps * len(providertest.Names()), note: "passed: seed records byte for byte, names as the model says"}
	if err != nil {
		r.note = "FAILED: " + lastLine(out)
	}
	return append(rows, r)
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
