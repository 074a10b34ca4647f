// Command bench measures what one certificate costs through each DNS-01
// solver of this project, side by side with lego's built-in mijn.host
// provider: API requests by endpoint, wall-clock time, and the time spent
// inside the DNS provider apart from the ACME protocol. Every certificate is
// real: it is issued by an in-process Pebble that validates against the
// local DNS server, which serves what the fake mijn.host API stores. The fake
// answers every request after a fixed latency (-latency).
//
// Run it with `make bench` from the repository root. It prints a table and
// rewrites BENCHMARKS.md and its chart (an SVG it draws itself), after also
// running the zone engine's Go benchmark (go test -bench). A full run takes
// well over half an hour, most of it lego's client waiting; -quick is a smoke
// run of a minute or two that writes nothing unless -out is given.
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
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/certmagic"
	legolog "github.com/go-acme/lego/v4/log"

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
	slowRepeats  int
	slow50       int
	quick        bool
	out, chart   string
	goCmd        string
	zoneBench    bool
	solvers      string
	workloads    string
	cmdLine      string
	writeResults bool
}

func main() {
	var o options
	flag.DurationVar(&o.latency, "latency", 50*time.Millisecond, "latency the fake mijn.host API adds to every request")
	flag.IntVar(&o.repeats, "repeats", 5, "runs per workload for the fast solvers (certmagic with propagation checks off)")
	flag.IntVar(&o.slowRepeats, "slow-repeats", 3, "runs per workload for the slow solvers (every lego solver, certmagic at defaults)")
	flag.IntVar(&o.slow50, "slow-repeats-50", 1, "runs of the 50-name workload for the slow solvers")
	flag.BoolVar(&o.quick, "quick", false, "smoke run: 1 and 2 names, one run each, short zone benchmark; writes files only with -out")
	flag.StringVar(&o.out, "out", "BENCHMARKS.md", "the Markdown report to write (\"\" to write none)")
	flag.StringVar(&o.chart, "chart", "e2e/cmd/bench/walltime.svg", "the SVG chart to write, referenced from -out by this path")
	flag.StringVar(&o.goCmd, "go", "go", "the go command, to run the zone engine's benchmark")
	flag.BoolVar(&o.zoneBench, "zonebench", true, "also run go test -bench for the zone engine")
	flag.StringVar(&o.solvers, "solvers", "", "comma-separated solver keys to run (default all: "+strings.Join(solverKeys, ",")+")")
	flag.StringVar(&o.workloads, "workloads", "", "comma-separated workload keys to run (default all: "+strings.Join(workloadKeys(), ",")+")")
	flag.Parse()
	explicit := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	if o.quick {
		o.repeats, o.slowRepeats, o.slow50 = 1, 1, 1
		if o.workloads == "" {
			o.workloads = "1,2"
		}
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

var solverKeys = []string{"lego-builtin", "lego-legoprovider", "lego-v5-legov5provider", "certmagic", "certmagic-nocheck"}

func run(o options) error {
	if o.repeats < 1 || o.slowRepeats < 1 || o.slow50 < 1 {
		return errors.New("repeats must be at least 1")
	}
	facts := machineFacts(o)
	legolog.Logger = log.New(io.Discard, "", 0)
	// lego would otherwise follow CNAMEs through the system resolver.
	if err := os.Setenv("LEGO_DISABLE_CNAME_SUPPORT", "true"); err != nil {
		return err
	}
	// certmagic's own limiter (10 orders per 10 s per CA and account) would
	// throttle back-to-back runs; it protects public CAs, not this Pebble.
	certmagic.RateLimitEvents = 1000

	stack, err := localstack.Start(localstack.Options{CA: true, Zones: extraZones})
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
	e := &env{stack: stack, pebbleTLS: pebbleTLS, tmp: tmp}
	e.setUpLegoV5()
	facts.pebble = pebbleSettings()

	_, builtinCfg, err := e.legoBuiltinProvider()
	if err != nil {
		return err
	}
	facts.builtin = builtinCfg
	all := []*solver{
		e.legoSolver("lego-builtin", "lego + built-in mijnhost",
			fmt.Sprintf("lego v4.34.0 providers/dns/mijnhost at its defaults: Sequential, sequence interval %v, polling interval %v, propagation timeout %v, TTL %d",
				builtinCfg.SequenceInterval, builtinCfg.PollingInterval, builtinCfg.PropagationTimeout, builtinCfg.TTL),
			true, func() (p challengeProvider, err error) { p, _, err = e.legoBuiltinProvider(); return }),
		e.legoSolver("lego-legoprovider", "lego + legoprovider",
			"this project's legoprovider over libdns/mijnhost at lego's defaults (as NewDefaultConfig): not sequential, polling interval 2s, propagation timeout 60s, TTL 120",
			true, e.newLegoprovider(legoprovider.Config{})),
		e.legoV5Solver("lego-v5-legov5provider", "lego v5 + legov5provider",
			"this project's legov5provider over libdns/mijnhost on the lego v5.6.0 library, configured as legoprovider above: not sequential, polling interval 2s, propagation timeout 60s, TTL 120",
			true, e.newLegov5provider(legov5provider.Config{})),
	}
	cm, err := e.certmagicSolver("certmagic", "certmagic + libdns/mijnhost",
		"certmagic v0.25.6 ACMEIssuer with DNS01Solver over libdns/mijnhost at certmagic's defaults: propagation check every 2s (fixed), timeout 2m, no propagation delay",
		true, 0)
	if err != nil {
		return err
	}
	cmFast, err := e.certmagicSolver("certmagic-nocheck", "certmagic, checks off",
		"as certmagic, but PropagationTimeout -1 (Caddy: propagation_timeout -1): no propagation check, the record is trusted once AppendRecords returns",
		false, -1)
	if err != nil {
		return err
	}
	all = append(all, cm, cmFast)
	solvers, err := pick(all, o.solvers)
	if err != nil {
		return err
	}
	wls, err := pickWorkloads(o.workloads)
	if err != nil {
		return err
	}

	fmt.Printf("bench: %s\n", o.cmdLine)
	fmt.Printf("bench: %s, API latency %v per request\n", facts.summary(), o.latency)
	fmt.Printf("bench: Pebble: %s\n", facts.pebble)
	stack.Fake.(*mijnhosttest.Server).SetLatency(o.latency)

	res := &results{opts: o, facts: facts, solvers: solvers, workloads: wls}
	// Warm every solver up once, untimed: the first certificate of a process
	// pays for account registration (certmagic), connection set-up and
	// DNS client caches, which no later run does.
	for _, s := range solvers {
		if _, err := e.once(s, []string{fmt.Sprintf("warmup-%s.example.test", s.key)}); err != nil {
			return fmt.Errorf("%s: warm-up: %w", s.label, err)
		}
	}
	for _, wl := range wls {
		for _, s := range solvers {
			c := &cell{solver: s, workload: wl}
			res.cells = append(res.cells, c)
			n := o.repeats
			if s.slow {
				n = o.slowRepeats
				if wl.names >= 50 {
					n = o.slow50
				}
			}
			for i := 0; i < n; i++ {
				r, err := e.measure(s, wl, fmt.Sprintf("w%s%s%d", wl.key, shortKey(s.key), i), &c.discarded)
				if err != nil {
					c.err = err
					fmt.Printf("%-8s %-28s run %d/%d: FAILED: %v\n", wl.key, s.label, i+1, n, err)
					break
				}
				c.runs = append(c.runs, r)
				polls := ""
				if s.lego {
					polls = fmt.Sprintf("  validation backoffs %d", r.m.backoffs)
				}
				fmt.Printf("%-8s %-28s run %d/%d: wall %7.2fs  provider %6.2fs  pauses %6.2fs  requests %s%s\n",
					wl.key, s.label, i+1, n, r.wall.Seconds(), r.m.provider.Seconds(), r.m.pauses.Seconds(), formatRequests(r.requests), polls)
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

func shortKey(k string) string {
	var b strings.Builder
	for _, part := range strings.Split(k, "-") {
		b.WriteByte(part[0])
	}
	return b.String()
}

func pick(all []*solver, keys string) ([]*solver, error) {
	if keys == "" {
		return all, nil
	}
	var out []*solver
	for _, k := range strings.Split(keys, ",") {
		i := slices.IndexFunc(all, func(s *solver) bool { return s.key == strings.TrimSpace(k) })
		if i < 0 {
			return nil, fmt.Errorf("unknown solver %q (have %s)", k, strings.Join(solverKeys, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
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

// once obtains one certificate, untimed and unchecked but for errors.
func (e *env) once(s *solver, names []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	obtain, err := s.prepare(ctx, names)
	if err != nil {
		return nil, err
	}
	return obtain()
}

// run is one measured certificate.
type runResult struct {
	wall     time.Duration
	m        measured
	requests map[string]int
}

// measure obtains one certificate for the workload and checks it: the chain
// verifies for every name, every zone ends exactly as it began, and every
// name was validated (a run in which Pebble reused an earlier authorization
// is discarded and repeated).
func (e *env) measure(s *solver, wl workload, tag string, discarded *int) (runResult, error) {
	zones := append([]string{localstack.Zone}, extraZones...)
	for attempt := 0; ; attempt++ {
		names := wl.list(tag + strings.Repeat("x", attempt))
		before := map[string][]string{}
		for _, z := range zones {
			before[z] = e.stack.Fake.Snapshot(z)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		obtain, err := s.prepare(ctx, names)
		if err != nil {
			cancel()
			return runResult{}, fmt.Errorf("setting up: %w", err)
		}
		s.m.reset()
		e.stack.Fake.(*mijnhosttest.Server).ResetCounts()
		start := time.Now()
		certPEM, err := obtain()
		wall := time.Since(start)
		cancel()
		r := runResult{wall: wall, m: s.m.read(), requests: e.stack.Fake.(*mijnhosttest.Server).Requests()}
		if err != nil {
			return r, err
		}
		if err := e.stack.CA.VerifyChain(certPEM, names); err != nil {
			return r, fmt.Errorf("certificate: %w", err)
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
		fmt.Printf("%-8s %-28s %d presents and %d cleanups for %d names (Pebble reused an authorization): run discarded\n",
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
