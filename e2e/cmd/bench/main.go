// Command bench measures what certificates cost through each DNS-01 solver
// of this project and each way users run it, side by side with lego's
// built-in mijn.host provider at its defaults and tuned: lego's library
// (legoprovider, with and without batched presents), the lego CLI with the
// hook binary (exec; httpreq + serve), certmagic as a library (its
// DNS01Solver, and this project's batching solver), and the Caddy shape (N
// single-name certificates at once through certmagic and this project's
// Caddy module, with certmagic's rate limiter at its default and raised,
// certmagic's check on or the module's propagation_check). It reports API
// requests (listing, zone reads, zone writes), wall-clock time, the time
// inside the DNS provider, lego's validation backoff, and the issue-13
// targets, each judged from the run's figures. Every certificate is real:
// it is issued by an in-process Pebble that validates against the local DNS
// server, which serves what the fake mijn.host API stores; every zone is
// checked byte for byte after each run. The fake answers every request
// after a fixed latency (-latency).
//
// Run it with `make bench` from the repository root (the lego CLI rows need
// bin/lego: `make tools`). It prints a table and rewrites BENCHMARKS.md and
// its chart (an SVG it draws itself), after also running the zone engine's
// Go benchmark (go test -bench). A full run takes about 40 minutes on two
// cores, most of it lego's client waiting; -quick is a smoke run of a
// minute or two (each solver's smallest workload once) that writes nothing
// unless -out is given; -solvers, -workloads and the -*repeats flags
// narrow a run.
package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/go-acme/lego/v4/challenge"
	"github.com/go-acme/lego/v4/challenge/dns01"
	legolog "github.com/go-acme/lego/v4/log"
	legomijnhost "github.com/go-acme/lego/v4/providers/dns/mijnhost"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/legoprovider"
	"github.com/acme-dns-hook/acme-dns-hook/legov5provider"
)

// extraZones are the account's other zones, for the 5-zone workload.
var extraZones = []string{"example2.test", "example3.test", "example4.test", "example5.test"}

type options struct {
	latency      time.Duration
	repeats      int
	repeats50    int
	slowRepeats  int
	slow50       int
	legoRepeats  int
	quick        bool
	out, chart   string
	goCmd        string
	legoCmd      string
	pebbleLog    string
	zoneBench    bool
	solvers      string
	workloads    string
	cmdLine      string
	writeResults bool
}

func main() {
	var o options
	flag.DurationVar(&o.latency, "latency", 50*time.Millisecond, "latency the fake mijn.host API adds to every request")
	flag.IntVar(&o.repeats, "repeats", 5, "runs per workload of the fast solvers (certmagic with its check off, the batching solver, the Caddy shape)")
	flag.IntVar(&o.repeats50, "repeats-50", 3, "runs of the 50-name workload for the fast solvers")
	flag.IntVar(&o.slowRepeats, "slow-repeats", 3, "runs per workload of the slow solvers (certmagic at its defaults)")
	flag.IntVar(&o.slow50, "slow-repeats-50", 1, "runs of the 50-name workload for the slow solvers and the Caddy shape with certmagic's rate limiter at its default")
	flag.IntVar(&o.legoRepeats, "lego-repeats", 5, "runs per workload of every lego solver (library and CLI)")
	flag.BoolVar(&o.quick, "quick", false, "smoke run: each solver's smallest workload, one run each, short zone benchmark; writes files only with -out")
	flag.StringVar(&o.out, "out", "BENCHMARKS.md", "the Markdown report to write (\"\" to write none)")
	flag.StringVar(&o.chart, "chart", "e2e/cmd/bench/walltime.svg", "the SVG chart to write, referenced from -out by this path")
	flag.StringVar(&o.goCmd, "go", "go", "the go command, to build the hook binary and run the zone engine's benchmark")
	flag.StringVar(&o.legoCmd, "lego", "bin/lego", "the lego CLI (v4.34.0, `make tools`), for the lego CLI rows")
	flag.StringVar(&o.pebbleLog, "pebble-log", "", "append Pebble's log to this file (for debugging)")
	flag.BoolVar(&o.zoneBench, "zonebench", true, "also run go test -bench for the zone engine")
	flag.StringVar(&o.solvers, "solvers", "", "comma-separated solver keys to run (default: "+strings.Join(defaultSolvers, ",")+"; also "+strings.Join(extraSolvers, ",")+")")
	flag.StringVar(&o.workloads, "workloads", "", "comma-separated workload keys to run (default all: "+strings.Join(workloadKeys(), ",")+"; each solver runs only those it takes)")
	flag.Parse()
	explicit := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	if o.quick {
		o.repeats, o.repeats50, o.slowRepeats, o.slow50, o.legoRepeats = 1, 1, 1, 1, 1
		if !explicit["out"] {
			o.out = ""
		}
	}
	o.writeResults = o.out != ""
	o.cmdLine = strings.TrimSpace("go run ./e2e/cmd/bench " + strings.Join(os.Args[1:], " "))
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// defaultSolvers run unless -solvers says otherwise; extraSolvers only
// when named.
var (
	defaultSolvers = []string{"lego-builtin", "lego-builtin-tuned", "lego-legoprovider", "lego-legoprovider-batch",
		"lego-cli-exec", "lego-cli-httpreq", "certmagic", "certmagic-nocheck", "certmagic-batching",
		"caddy", "caddy-raised", "caddy-pcheck", "caddy-pcheck-raised"}
	extraSolvers = []string{"lego-v5-legov5provider"}
)

func run(o options) error {
	if o.repeats < 1 || o.repeats50 < 1 || o.slowRepeats < 1 || o.slow50 < 1 || o.legoRepeats < 1 {
		return errors.New("repeats must be at least 1")
	}
	keys := defaultSolvers
	if o.solvers != "" {
		keys = strings.Split(o.solvers, ",")
		for i := range keys {
			keys[i] = strings.TrimSpace(keys[i])
			if !slices.Contains(defaultSolvers, keys[i]) && !slices.Contains(extraSolvers, keys[i]) {
				return fmt.Errorf("unknown solver %q (have %s, %s)", keys[i], strings.Join(defaultSolvers, ", "), strings.Join(extraSolvers, ", "))
			}
		}
	}
	wls, err := pickWorkloads(o.workloads)
	if err != nil {
		return err
	}
	facts := machineFacts(o)
	legolog.Logger = log.New(io.Discard, "", 0)
	// lego would otherwise follow CNAMEs through the system resolver.
	if err := os.Setenv("LEGO_DISABLE_CNAME_SUPPORT", "true"); err != nil {
		return err
	}

	var pebbleLog *log.Logger
	if o.pebbleLog != "" {
		f, err := os.OpenFile(o.pebbleLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		pebbleLog = log.New(f, "", log.LstdFlags|log.Lmicroseconds)
	}
	stack, err := localstack.Start(localstack.Options{CA: true, Zones: extraZones, PebbleLog: pebbleLog})
	if err != nil {
		return err
	}
	defer stack.Close()
	seedExtraZones(stack)
	pebbleTLS := x509.NewCertPool()
	if !pebbleTLS.AppendCertsFromPEM(stack.CA.TLSRootsPEM()) {
		return errors.New("cannot parse Pebble's HTTPS root")
	}
	tmp, err := os.MkdirTemp("", "acme-dns-hook-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	e := &env{stack: stack, pebbleTLS: pebbleTLS, tmp: tmp, o: o, legoBin: o.legoCmd}
	e.setUpLegoV5()
	facts.pebble = pebbleSettings()
	if slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, "lego-cli-") }) {
		if err := checkLego(o.legoCmd); err != nil {
			return err
		}
		if e.legoBin, err = filepath.Abs(o.legoCmd); err != nil {
			return err
		}
		if e.hookBin, err = buildHook(o.goCmd, tmp); err != nil {
			return err
		}
	}

	_, builtinCfg, err := e.legoBuiltinProvider(nil)
	if err != nil {
		return err
	}
	facts.builtin = builtinCfg
	lpTimeout, lpInterval, err := e.legoproviderTimeout()
	if err != nil {
		return err
	}
	builtin := func(tune func(*legomijnhost.Config)) func() (challengeProvider, []dns01.ChallengeOption, error) {
		return func() (challengeProvider, []dns01.ChallengeOption, error) {
			p, _, err := e.legoBuiltinProvider(tune)
			return p, nil, err
		}
	}
	var all []*solver
	add := func(key string, make func() (*solver, error)) error {
		if !slices.Contains(keys, key) {
			return nil
		}
		s, err := make()
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		all = append(all, s)
		return nil
	}
	steps := []struct {
		key  string
		make func() (*solver, error)
	}{
		{"lego-builtin", func() (*solver, error) {
			return e.legoSolver("lego-builtin", "lego + built-in mijnhost",
				fmt.Sprintf("lego v4.34.0 providers/dns/mijnhost at its defaults: Sequential, sequence interval %v, polling interval %v, propagation timeout %v, TTL %d",
					builtinCfg.SequenceInterval, builtinCfg.PollingInterval, builtinCfg.PropagationTimeout, builtinCfg.TTL), builtin(nil)), nil
		}},
		{"lego-builtin-tuned", func() (*solver, error) {
			return e.legoSolver("lego-builtin-tuned", "lego + built-in, tuned",
				"as lego + built-in mijnhost, with MIJNHOST_SEQUENCE_INTERVAL=0 and MIJNHOST_POLLING_INTERVAL=0, the least lego accepts (whole seconds, negative refused): still Sequential, no pause between challenges, no sleep before each check", builtin(tuned)), nil
		}},
		{"lego-legoprovider", func() (*solver, error) {
			return e.legoSolver("lego-legoprovider", "lego + legoprovider",
				fmt.Sprintf("this project's legoprovider over libdns/mijnhost at its defaults, built as NewDNSProvider builds it (the libdns provider without the engine's group-commit window): not sequential, polling interval %v, propagation timeout %v, each present written before it returns, cleanups held per zone and deleted by the zone's last one", lpInterval, lpTimeout),
				e.newLegoprovider(legoprovider.Config{})), nil
		}},
		{"lego-legoprovider-batch", func() (*solver, error) {
			return e.legoSolver("lego-legoprovider-batch", "lego + legoprovider, batched presents",
				"as lego + legoprovider, with BatchPresents (MIJNHOST_BATCH_PRESENTS=true, opt-in): presents queued and written with one write per zone when lego first asks for Timeout; its PreCheck installed (dns01.WrapPreCheck)",
				e.newLegoprovider(legoprovider.Config{BatchPresents: true})), nil
		}},
		{"lego-v5-legov5provider", func() (*solver, error) {
			return e.legoV5Solver("lego-v5-legov5provider", "lego v5 + legov5provider",
				"this project's legov5provider over libdns/mijnhost on the lego v5.6.0 library at its defaults, as legoprovider",
				e.newLegov5provider(legov5provider.Config{})), nil
		}},
		{"lego-cli-exec", func() (*solver, error) {
			return e.cliSolver("lego-cli-exec", "lego CLI exec + hook",
				"the lego v4.34.0 CLI (`"+o.legoCmd+" --dns exec … run`, a process per certificate) running the acme-dns-hook binary per call (EXEC_SEQUENCE_INTERVAL=0, EXEC_POLLING_INTERVAL=0, EXEC_PROPAGATION_TIMEOUT=30; the hook waits for DNS before it returns, ACME_HOOK_POLLING_INTERVAL=1; zone list cached beside the run's own lock files)", "exec"), nil
		}},
		{"lego-cli-httpreq", func() (*solver, error) {
			return e.cliSolver("lego-cli-httpreq", "lego CLI httpreq + serve",
				"the lego v4.34.0 CLI (`"+o.legoCmd+" --dns httpreq … run`) against `acme-dns-hook serve` (one process per run, started before the clock; HTTPREQ_POLLING_INTERVAL=0, HTTPREQ_PROPAGATION_TIMEOUT=30; serve answers after the API call, lego checks DNS)", "httpreq"), nil
		}},
		{"certmagic", func() (*solver, error) {
			return e.certmagicSolver("certmagic", "certmagic + libdns/mijnhost",
				"one certificate per run through certmagic v0.25.6's ACMEIssuer with its DNS01Solver over libdns/mijnhost at certmagic's defaults: propagation check every 2s (fixed, sleeping before the first look), timeout 2m",
				classSlow, []string{"1", "2", "10"}, "certmagic at its defaults runs 1, 2 and 10 names: its check costs a fixed 2 s per name, one name after another (over 100 s a run at 50 names)", 0)
		}},
		{"certmagic-nocheck", func() (*solver, error) {
			return e.certmagicSolver("certmagic-nocheck", "certmagic, check off",
				"as certmagic, but PropagationTimeout -1 (Caddy: propagation_timeout -1): no propagation check, the record is trusted once AppendRecords returns",
				classFast, nil, "", -1)
		}},
		{"certmagic-batching", func() (*solver, error) {
			return e.batchingSolver("certmagic-batching", "certmagic + batching solver",
				"one certificate per run through certmagic's ACMEIssuer with this project's certmagicsolver (acmez Solver + Waiter) over libdns/mijnhost at its defaults: presents queued, each zone written once at the first Wait, every name checked at once (look first, then every 250ms) at the local DNS server (Options.Resolvers), deletions held until the last cleanup (the held deletion is written by Close after the clock stops; its requests are counted)")
		}},
		{"caddy", func() (*solver, error) {
			return e.caddySolver("caddy", "Caddy shape",
				"N single-name certificates at once through certmagic (Config.ObtainCertSync per name, each with its own Config, ACMEIssuer, DNS01Solver and dns.providers.mijnhost module of this project, built from JSON and provisioned as Caddy does; one ACME account, one process), certmagic's check at its defaults, certmagic's rate limiter at its default (10 orders per 10 s per CA and account; each run starts 10 s or more after the row's previous one)",
				false, true)
		}},
		{"caddy-raised", func() (*solver, error) {
			return e.caddySolver("caddy-raised", "Caddy shape, limiter raised",
				fmt.Sprintf("as Caddy shape, with certmagic's rate limiter raised (RateLimitEvents = %d)", raisedLimit), false, false)
		}},
		{"caddy-pcheck", func() (*solver, error) {
			return e.caddySolver("caddy-pcheck", "Caddy shape, provider check",
				"as Caddy shape, with certmagic's check off (propagation_timeout -1) and the module's propagation_check 2m on (asking the local DNS server: propagation_resolvers), certmagic's rate limiter at its default",
				true, true)
		}},
		{"caddy-pcheck-raised", func() (*solver, error) {
			return e.caddySolver("caddy-pcheck-raised", "Caddy shape, provider check, limiter raised",
				fmt.Sprintf("as Caddy shape, provider check, with certmagic's rate limiter raised (RateLimitEvents = %d)", raisedLimit), true, false)
		}},
	}
	for _, st := range steps {
		if err := add(st.key, st.make); err != nil {
			return err
		}
	}
	// keep the order of -solvers
	slices.SortStableFunc(all, func(a, b *solver) int { return slices.Index(keys, a.key) - slices.Index(keys, b.key) })

	fmt.Printf("bench: %s\n", o.cmdLine)
	fmt.Printf("bench: %s, API latency %v per request\n", facts.summary(), o.latency)
	fmt.Printf("bench: Pebble: %s\n", facts.pebble)
	stack.Fake.(*mijnhosttest.Server).SetLatency(o.latency)

	res := &results{opts: o, facts: facts, solvers: all}
	// The cells, in report order; with -quick each solver's smallest
	// workload only.
	for _, wl := range wls {
		for _, s := range all {
			n := s.runsFor(o, wl)
			if n == 0 || (o.quick && o.workloads == "" && !isFirstWorkload(s, wl)) {
				continue
			}
			res.cells = append(res.cells, &cell{solver: s, workload: wl, want: n})
		}
	}
	for _, wl := range wls {
		if slices.ContainsFunc(res.cells, func(c *cell) bool { return c.workload.key == wl.key }) {
			res.workloads = append(res.workloads, wl)
		}
	}
	// Warm every solver up once, untimed: the first certificate of a
	// process pays for account registration (certmagic), connection set-up
	// and DNS client caches, which no later run does.
	for _, s := range all {
		names := []string{fmt.Sprintf("warmup-%s.example.test", s.key)}
		if _, err := e.once(s, names); err != nil {
			return fmt.Errorf("%s: warm-up: %w", s.label, err)
		}
	}
	// Runs interleave: for each workload, run i of every solver, then
	// run i+1, so that a drift in the machine's load spreads over all.
	for _, wl := range res.workloads {
		for i := 0; ; i++ {
			more := false
			for _, c := range res.cells {
				if c.workload.key != wl.key || i >= c.want || c.err != nil {
					continue
				}
				more = true
				s := c.solver
				r, err := e.measure(s, wl, fmt.Sprintf("w%s%s%d", wl.key, shortKey(s.key), i), &c.discarded)
				if err != nil {
					// One more try, reported: a full run is unattended, and
					// one stall of a shared machine should not void a row.
					fmt.Printf("%-8s %-44s run %d/%d: failed, trying once more: %v\n", wl.key, s.label, i+1, c.want, err)
					c.failures = append(c.failures, firstLine(err.Error()))
					r, err = e.measure(s, wl, fmt.Sprintf("w%s%s%dr", wl.key, shortKey(s.key), i), &c.discarded)
				}
				if err != nil {
					c.err = err
					fmt.Printf("%-8s %-44s run %d/%d: FAILED: %v\n", wl.key, s.label, i+1, c.want, err)
					continue
				}
				c.runs = append(c.runs, r)
				fmt.Printf("%-8s %-44s run %d/%d: wall %7.2fs  provider %6.2fs  pauses %6.2fs  wait %6.2fs  backoff %s  requests %s\n",
					wl.key, s.label, i+1, c.want, r.wall.Seconds(), r.m.provider.Seconds(), r.m.pauses.Seconds(), r.m.waits.Seconds(), backoffText(s, r), formatRequests(r.requests))
			}
			if !more {
				break
			}
		}
	}
	facts.loadEnd = loadavg()
	if o.zoneBench {
		res.zoneCmd, res.zoneOut, res.zoneErr = zoneBenchmark(o)
	}
	fmt.Println()
	fmt.Print(res.text())
	if !o.writeResults {
		return nil
	}
	if o.chart != "" {
		if err := os.WriteFile(o.chart, []byte(res.svg()), 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(o.out, []byte(res.markdown()), 0o644); err != nil {
		return err
	}
	fmt.Printf("\nbench: wrote %s", o.out)
	if o.chart != "" {
		fmt.Printf(" and %s", o.chart)
	}
	fmt.Println()
	return nil
}

// legoproviderTimeout is what legoprovider at its defaults tells lego.
func (e *env) legoproviderTimeout() (timeout, interval time.Duration, err error) {
	p, _, err := e.newLegoprovider(legoprovider.Config{})()
	if err != nil {
		return 0, 0, err
	}
	timeout, interval = p.(challenge.ProviderTimeout).Timeout()
	return timeout, interval, nil
}

func isFirstWorkload(s *solver, wl workload) bool {
	if s.workloads == nil {
		return wl.key == workloads()[0].key
	}
	return wl.key == s.workloads[0]
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	return line
}

func backoffText(s *solver, r runResult) string {
	if !r.m.backoffKnown {
		return "-"
	}
	return fmt.Sprintf("%d (%.1fs)", r.m.backoffs, r.m.backoffTime.Seconds())
}

func shortKey(k string) string {
	var b strings.Builder
	for _, part := range strings.Split(k, "-") {
		b.WriteByte(part[0])
	}
	return b.String()
}

// seedExtraZones gives every extra zone the records example.test starts
// with, so that no zone is ever empty (the fake, like the real API as far as
// is known, refuses to store an empty record set).
func seedExtraZones(stack *localstack.Stack) {
	for _, z := range extraZones {
		var recs []mijnhosttest.Record
		for _, rr := range localstack.Seed() {
			recs = append(recs, mijnhosttest.Record{Type: rr.Type, Name: rr.Name, Value: rr.Data, TTL: int(rr.TTL / time.Second)})
		}
		stack.Fake.(*mijnhosttest.Server).AddDomain(z, recs...)
	}
}

// once obtains certificates for names, untimed and unchecked but for
// errors.
func (e *env) once(s *solver, names []string) ([]issued, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	e.run++
	r, err := s.prepare(ctx, names)
	if err != nil {
		return nil, err
	}
	out, err := r.obtain()
	if r.settle != nil {
		err = errors.Join(err, r.settle())
	}
	return out, err
}

// run is one measured run.
type runResult struct {
	wall     time.Duration
	m        measured
	requests map[string]int
}

// measure obtains the workload's certificates and checks them: each chain
// verifies for its names, every zone ends exactly as it began, and every
// name was validated (a run in which Pebble reused an earlier authorization
// is discarded and repeated).
func (e *env) measure(s *solver, wl workload, tag string, discarded *int) (runResult, error) {
	zones := append([]string{localstack.Zone}, extraZones...)
	fake := e.stack.Fake.(*mijnhosttest.Server)
	for attempt := 0; ; attempt++ {
		names := wl.list(tag + strings.Repeat("x", attempt))
		before := map[string][]string{}
		for _, z := range zones {
			before[z] = e.stack.Fake.Snapshot(z)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		e.run++
		rn, err := s.prepare(ctx, names)
		if err != nil {
			cancel()
			return runResult{}, fmt.Errorf("setting up: %w", err)
		}
		s.m.reset()
		fake.ResetCounts()
		start := time.Now()
		certs, err := rn.obtain()
		end := time.Now()
		if rn.settle != nil {
			err = errors.Join(err, rn.settle())
		}
		cancel()
		r := runResult{wall: end.Sub(start), m: s.m.read(start, end), requests: fake.Requests()}
		r.m.backoffKnown = s.inProcess
		if err != nil {
			return r, err
		}
		for _, c := range certs {
			if err := e.stack.CA.VerifyChain(c.pem, c.names); err != nil {
				return r, fmt.Errorf("certificate of %s: %w", strings.Join(c.names, ", "), err)
			}
		}
		if len(certs) == 0 {
			return r, errors.New("no certificate")
		}
		for _, z := range zones {
			if after := e.stack.Fake.Snapshot(z); !slices.Equal(before[z], after) {
				return r, fmt.Errorf("zone %s changed:\nbefore %q\nafter  %q", z, before[z], after)
			}
		}
		if r.m.presents == len(names) && r.m.cleanups == len(names) {
			return r, nil
		}
		*discarded++
		fmt.Printf("%-8s %-44s %d presents and %d cleanups for %d names (Pebble reused an authorization): run discarded\n",
			wl.key, s.label, r.m.presents, r.m.cleanups, len(names))
		if attempt >= 3 {
			return r, errors.New("Pebble kept reusing authorizations")
		}
	}
}

// workload is one certificate shape.
type workload struct {
	key   string
	title string
	names int
	zones int
	// list returns the names; tag makes them unique per run where the shape
	// allows, so that Pebble has no valid authorization to reuse.
	list func(tag string) []string
}

func workloads() []workload {
	spread := func(n, zones int) func(string) []string {
		return func(tag string) []string {
			all := append([]string{localstack.Zone}, extraZones...)[:zones]
			var out []string
			for i := 0; i < n; i++ {
				out = append(out, fmt.Sprintf("n%d-%s.%s", i+1, tag, all[i%zones]))
			}
			return out
		}
	}
	return []workload{
		{"1", "1 name", 1, 1, spread(1, 1)},
		{"2", "apex + wildcard", 2, 1, func(string) []string { return []string{localstack.Zone, "*." + localstack.Zone} }},
		{"10", "10 names, 1 zone", 10, 1, spread(10, 1)},
		{"50", "50 names, 1 zone", 50, 1, spread(50, 1)},
		{"10x5", "10 names, 5 zones", 10, 5, spread(10, 5)},
	}
}

func workloadKeys() []string {
	var out []string
	for _, w := range workloads() {
		out = append(out, w.key)
	}
	return out
}

func pickWorkloads(keys string) ([]workload, error) {
	all := workloads()
	if keys == "" {
		return all, nil
	}
	var out []workload
	for _, k := range strings.Split(keys, ",") {
		i := slices.IndexFunc(all, func(w workload) bool { return w.key == strings.TrimSpace(k) })
		if i < 0 {
			return nil, fmt.Errorf("unknown workload %q (have %s)", k, strings.Join(workloadKeys(), ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// zoneBenchmark runs the zone engine's Go benchmark and returns its command
// and output.
func zoneBenchmark(o options) (string, string, error) {
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem", "./internal/zone/"}
	if o.quick {
		args = append(args[:len(args)-1], "-benchtime", "100x", "./internal/zone/")
	}
	cmdLine := o.goCmd + " " + strings.Join(args, " ")
	fmt.Printf("\nbench: %s\n", cmdLine)
	var out bytes.Buffer
	cmd := exec.Command(o.goCmd, args...)
	cmd.Stdout = io.MultiWriter(&out, os.Stdout)
	cmd.Stderr = io.MultiWriter(&out, os.Stderr)
	err := cmd.Run()
	return cmdLine, out.String(), err
}

// facts describe the machine and the run.
type facts struct {
	date             time.Time
	goVersion        string
	nproc            int
	cpu              string
	loadStart        string
	loadEnd          string
	kernel           string
	pebble           string
	builtin          *builtinConfig
	gomaxprocs       int
	latency          time.Duration
	repeats, slowRep int
	slow50           int
}

func machineFacts(o options) *facts {
	f := &facts{
		date:       time.Now().UTC(),
		goVersion:  runtime.Version(),
		nproc:      runtime.NumCPU(),
		gomaxprocs: runtime.GOMAXPROCS(0),
		cpu:        cpuModel(),
		loadStart:  loadavg(),
		latency:    o.latency,
		repeats:    o.repeats,
		slowRep:    o.slowRepeats,
		slow50:     o.slow50,
	}
	if out, err := exec.Command("nproc").Output(); err == nil {
		fmt.Sscan(string(out), &f.nproc)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		f.kernel = runtime.GOOS + "/" + runtime.GOARCH + " " + strings.TrimSpace(string(b))
	} else {
		f.kernel = runtime.GOOS + "/" + runtime.GOARCH
	}
	return f
}

func (f *facts) summary() string {
	return fmt.Sprintf("%s, %s, nproc %d, %s, load average at start %s", f.date.Format("2006-01-02 15:04 MST"), f.goVersion, f.nproc, f.cpu, f.loadStart)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// pebbleSettings states how the stack's Pebble runs (e2e/pebbletest),
// reading back the environment it set.
func pebbleSettings() string {
	var env []string
	for _, k := range []string{"PEBBLE_VA_NOSLEEP", "PEBBLE_WFE_NONCEREJECT", "PEBBLE_AUTHZREUSE", "PEBBLE_VA_ALWAYS_VALID"} {
		env = append(env, k+"="+os.Getenv(k))
	}
	return "in-process pebble/v2 v2.10.1 (e2e/pebbletest), " + strings.Join(env, " ") +
		", no Retry-After on authorizations and orders, ECDSA issuer chain of 1, DNS-01 validated over TCP against the local DNS server"
}
