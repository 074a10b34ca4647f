package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/zone"
)

// cell is one solver on one workload.
type cell struct {
	solver    *solver
	workload  workload
	runs      []runResult
	err       error
	discarded int
	want      int // runs asked for
	// failures are the errors of runs that failed and were tried once
	// more.
	failures []string
}

type results struct {
	opts      options
	facts     *facts
	solvers   []*solver
	workloads []workload
	cells     []*cell

	zoneCmd, zoneOut string
	zoneErr          error
}

func (r *results) get(solverKey, wlKey string) *cell {
	for _, c := range r.cells {
		if c.solver.key == solverKey && c.workload.key == wlKey && c.err == nil && len(c.runs) > 0 {
			return c
		}
	}
	return nil
}

// --- statistics ---

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (c *cell) series(f func(runResult) float64) []float64 {
	out := make([]float64, len(c.runs))
	for i, r := range c.runs {
		out[i] = f(r)
	}
	return out
}

func (c *cell) med(f func(runResult) float64) float64 { return median(c.series(f)) }

func (c *cell) span(f func(runResult) float64) (lo, hi float64) {
	s := c.series(f)
	return slices.Min(s), slices.Max(s)
}

func wallOf(r runResult) float64     { return r.wall.Seconds() }
func providerOf(r runResult) float64 { return r.m.provider.Seconds() }
func pausesOf(r runResult) float64   { return r.m.pauses.Seconds() }
func waitsOf(r runResult) float64    { return r.m.waits.Seconds() }

// restOf is the wall time outside the provider, the sequence pauses,
// acmez's Wait and lego's validation backoff.
func restOf(r runResult) float64 {
	return (r.wall - r.m.busy - r.m.pauses - r.m.backoffTime).Seconds()
}
func backoffsOf(r runResult) float64    { return float64(r.m.backoffs) }
func backoffTimeOf(r runResult) float64 { return r.m.backoffTime.Seconds() }
func totalOf(r runResult) float64 {
	n := 0
	for _, v := range r.requests {
		n += v
	}
	return float64(n)
}

// The fake's endpoints as the report names them: the account's zone
// listing, zone reads and zone writes (whole-zone PUT, or PATCH of one
// record as lego's built-in provider would).
var (
	listEPs  = []string{mijnhosttest.EndpointListDomains}
	readEPs  = []string{mijnhosttest.EndpointGetRecords}
	writeEPs = []string{mijnhosttest.EndpointPutRecords, mijnhosttest.EndpointPatchRecord}
	otherEPs = []string{mijnhosttest.EndpointOther}
)

func sumEPs(m map[string]int, eps []string) int {
	n := 0
	for _, ep := range eps {
		n += m[ep]
	}
	return n
}

func listsOf(r runResult) float64  { return float64(sumEPs(r.requests, listEPs)) }
func readsOf(r runResult) float64  { return float64(sumEPs(r.requests, readEPs)) }
func writesOf(r runResult) float64 { return float64(sumEPs(r.requests, writeEPs)) }
func othersOf(r runResult) float64 { return float64(sumEPs(r.requests, otherEPs)) }

// phase splits a run's requests: before the first cleanup began
// (presenting) and from then on (cleaning up); ok is false when the run
// has no split.
func phase(r runResult, eps []string, cleaning bool) (float64, bool) {
	if r.m.presentReqs == nil {
		return 0, false
	}
	before := sumEPs(r.m.presentReqs, eps)
	if cleaning {
		return float64(sumEPs(r.requests, eps) - before), true
	}
	return float64(before), true
}

func formatRequests(m map[string]int) string {
	r := runResult{requests: m}
	s := fmt.Sprintf("%s (list %s, read %s, write %s", num(totalOf(r)), num(listsOf(r)), num(readsOf(r)), num(writesOf(r)))
	if o := othersOf(r); o > 0 {
		s += ", other " + num(o)
	}
	return s + ")"
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func secs(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case v < 10:
		return fmt.Sprintf("%.2f s", v)
	default:
		return fmt.Sprintf("%.1f s", v)
	}
}

func ratio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	if v >= 10 {
		return fmt.Sprintf("%.0f×", v)
	}
	return fmt.Sprintf("%.1f×", v)
}

// vsBuiltin is how many times less wall time and how many times fewer
// requests than lego's built-in provider at its defaults on the same
// workload.
func (r *results) vsBuiltin(c *cell) (wall, reqs float64) {
	b := r.get("lego-builtin", c.workload.key)
	if b == nil || c.solver.caddy { // the Caddy shape obtains N certificates, not one
		return math.NaN(), math.NaN()
	}
	return b.med(wallOf) / c.med(wallOf), b.med(totalOf) / c.med(totalOf)
}

func (c *cell) wallCell() string {
	lo, hi := c.span(wallOf)
	if len(c.runs) == 1 {
		return secs(c.med(wallOf)) + " (1 run)"
	}
	return fmt.Sprintf("%s (%s–%s, %d runs)", secs(c.med(wallOf)), strings.TrimSuffix(secs(lo), " s"), secs(hi), len(c.runs))
}

// backoff is lego's validation backoff: median count and time.
func (c *cell) backoff() string {
	if !c.solver.lego {
		return "none"
	}
	if !c.solver.inProcess {
		return "not seen"
	}
	return fmt.Sprintf("%s (%s)", num(c.med(backoffsOf)), secs(c.med(backoffTimeOf)))
}

func (c *cell) dnsWait() string {
	if !c.solver.hasDNSWait {
		return "in ACME"
	}
	return secs(c.med(waitsOf))
}

func (c *cell) pauses() string {
	if !c.solver.lego {
		return "none"
	}
	return secs(c.med(pausesOf))
}

// --- text table ---

func (r *results) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "API latency %v; medians over runs, (min–max); requests are medians\n\n", r.opts.latency)
	fmt.Fprintf(&b, "%-17s %-44s %-32s %9s %8s %8s %16s %9s %6s %6s %5s %5s %5s %5s\n", "workload", "solver", "wall", "provider", "pauses", "DNS wait", "backoff", "ACME etc", "×wall", "×req", "req", "list", "read", "write")
	for _, c := range r.cells {
		if c.err != nil || len(c.runs) == 0 {
			fmt.Fprintf(&b, "%-17s %-44s FAILED: %v\n", c.workload.title, c.solver.label, c.err)
			continue
		}
		w, q := r.vsBuiltin(c)
		fmt.Fprintf(&b, "%-17s %-44s %-32s %9s %8s %8s %16s %9s %6s %6s %5s %5s %5s %5s\n", c.workload.title, c.solver.label, c.wallCell(),
			secs(c.med(providerOf)), c.pauses(), c.dnsWait(), c.backoff(), secs(c.med(restOf)), ratio(w), ratio(q),
			num(c.med(totalOf)), num(c.med(listsOf)), num(c.med(readsOf)), num(c.med(writesOf)))
	}
	b.WriteString("\nTargets\n")
	for _, t := range r.targets() {
		fmt.Fprintf(&b, "  [%s] %s: %s\n", t.verdict, t.target, t.figure)
	}
	return b.String()
}

// --- Markdown ---

func (r *results) markdown() string {
	f := r.facts
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Benchmarks: API calls and time per certificate")
	p("")
	p("<!-- Written by `make bench` (e2e/cmd/bench); edits are overwritten. -->")
	p("")
	p("What certificates cost through each DNS-01 solver of this project and each way of running it (lego's library and CLI, certmagic as a library and in Caddy's shape), side by side with lego's built-in mijn.host provider at its defaults and tuned.")
	p("Every certificate is real: an in-process Pebble issues it after validating DNS-01 against the local DNS server, which serves what the fake mijn.host API stores.")
	p("The fake answers **every API request after %v**, standing in for the round trip to mijn.host; everything else runs on loopback.", r.opts.latency)
	p("")
	p("## How this was run")
	p("")
	p("```")
	p("make bench    # = %s", r.opts.cmdLine)
	p("```")
	p("")
	p("| | |")
	p("|---|---|")
	p("| date | %s |", f.date.Format("2006-01-02 15:04 MST"))
	p("| machine | `nproc` %d (GOMAXPROCS %d), %s, %s |", f.nproc, f.gomaxprocs, f.cpu, f.kernel)
	p("| Go | %s |", f.goVersion)
	p("| load average (1, 5, 15 min) | %s at start, %s at the end of the certificate runs |", f.loadStart, f.loadEnd)
	p("| API latency | %v per request, every endpoint (`-latency`) |", r.opts.latency)
	p("| Pebble, the same for every solver | %s |", f.pebble)
	p("| runs | %d per workload for every lego row (`-lego-repeats`); %d for the fast rows (%d at 50 names: `-repeats`, `-repeats-50`); %d for certmagic at its defaults (`-slow-repeats`); %d at 50 names for the Caddy shape with certmagic's limiter at its default, which spreads the orders over 40 s and more (`-slow-repeats-50`); each solver obtained one untimed warm-up certificate first, and the runs of a workload interleave (run 1 of every row, then run 2, …) |", r.opts.legoRepeats, r.opts.repeats, r.opts.repeats50, r.opts.slowRepeats, r.opts.slow50)
	p("")
	p("Solvers:")
	p("")
	for _, s := range r.solvers {
		p("- **%s** (`%s`): %s.", s.label, s.key, s.settings)
	}
	p("")
	p("The lego library rows use the lego v4.34.0 library the way its CLI does (`Certificate.Obtain`, a fresh ACME account per run, registered before the clock starts); lego's DNS check asks the local DNS server (`dns01.AddRecursiveNameservers`, `DisableAuthoritativeNssPropagationRequirement`, `LEGO_DISABLE_CNAME_SUPPORT=true`). The lego CLI rows run the CLI the same way from the command line (`--dns.resolvers` the local DNS server, `--dns.propagation-disable-ans`, `LEGO_CA_CERTIFICATES` Pebble's HTTPS root, `LEGO_DISABLE_CNAME_SUPPORT=true`); their wall time is the lego process's, start to exit, its account registration included, and the hook binary is built once (`go build ./cmd/acme-dns-hook`).")
	p("The built-in provider's HTTP client gets a transport that sends its requests for `https://mijn.host/api/v2/` to the fake, which serves the same paths and checks the same `API-Key` header.")
	p("The certmagic library rows go through `ACMEIssuer.Issue` (acmez underneath) with one ACME account each and certmagic's internal rate limiter raised (`RateLimitEvents = %d`), one certificate per run. The Caddy shape rows obtain one certificate per name, all at once, through `Config.ObtainCertSync` (certmagic's obtain path as Caddy calls it: storage lock, key, `Issue`, storage), with one certmagic Config, issuer, DNS01Solver and Caddy module instance per certificate and one ACME account per row; certmagic's rate limiter (per CA and account) is left at its default (10 orders per 10 s) in two of them and raised in the other two.", raisedLimit)
	p("Every run uses fresh provider instances (nothing cached from an earlier certificate), ECDSA P-256 certificate keys (made before the clock starts, except in the Caddy shape and the CLI rows, where certmagic and lego make them), names unique to the run (except apex + wildcard), and is checked: every chain verifies for its names, every zone ends byte for byte as it began, and every name was validated (a run in which Pebble reused an authorization is discarded and repeated).")
	p("The zone engine shares an account's zone list for a minute among every provider instance of the process with the same settings; each run's provider instances set the records' TTL to 120 s plus the run's number, so that every run lists the account's zones once, as a fresh process does (the lego CLI rows are fresh processes, with a lock directory and zone-list cache of their own per run).")
	var skips []string
	for _, s := range r.solvers {
		if s.skip != "" && !slices.Contains(skips, s.skip) {
			skips = append(skips, s.skip)
		}
	}
	if len(skips) > 0 {
		p("")
		p("Rows that skip workloads, and why: %s.", strings.Join(skips, "; "))
	}
	if d := r.discarded(); d > 0 {
		p("%d run(s) were discarded and repeated for a reused authorization.", d)
	}
	for _, c := range r.cells {
		for _, f := range c.failures {
			p("A run of %s at %s failed and was tried once more: %s", c.solver.label, c.workload.title, mdEscape(f))
		}
	}
	p("")
	p("Workloads: one certificate of 1 name; apex + wildcard (2 names, one TXT name holding two values); 10 and 50 names in one zone (for the Caddy shape: 10 and 50 single-name certificates of one zone at once); 10 names spread over 5 zones (2 each; the four extra zones start with the same 11 records as `example.test`).")
	p("")
	p("## Wall time against name count")
	p("")
	if r.opts.chart != "" {
		p("![wall time per certificate against the number of names, per solver](%s)", r.opts.chart)
		p("")
		p("Medians with min–max bars, both axes logarithmic; the hollow markers are the 10-name certificate spread over 5 zones; the Caddy shape's points are the wall time of all N certificates.")
		p("")
	}
	p("## Results")
	p("")
	p("Medians over the runs, wall time with (min–max). **provider**: time during which at least one DNS provider call was under way (lego `Present`/`CleanUp`; libdns `AppendRecords`/`DeleteRecords`, the Caddy module's propagation check included; for the CLI rows the hook process or serve's HTTP call, timed from outside), API round trips and the provider's own waiting included. **pauses**: lego's sequence pauses between one challenge's cleanup and the next one's present (sequential providers only; \"none\" for certmagic). **DNS wait**: time during which at least one certmagic propagation wait (acmez `Wait`) was under way; lego's propagation sleep and check happen inside its `Solve` and are part of ACME etc. **backoff**: how many times lego slept its validation backoff and how long, from its first look at the authorization after asking for validation to its last (medians; \"not seen\" where lego runs in a process of its own). **ACME etc.**: the rest of the wall time — the ACME client and Pebble (orders, challenge polling, finalisation) and, for lego, its DNS propagation sleep and check. **×wall**, **×req**: lego's built-in median at its defaults divided by this row's (not for the Caddy shape, which obtains N certificates instead of one). **requests**: median of the fake's counters, reset before each run, in all and as **list** (the account's zone listing), **read** (zone reads) and **write** (zone writes); a run's deletions that a solver still held when the certificate was issued are counted too.")
	p("")
	p("| workload | solver | wall | provider | pauses | DNS wait | backoff | ACME etc. | ×wall | ×req | requests | list | read | write |")
	p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, c := range r.cells {
		if c.err != nil || len(c.runs) == 0 {
			p("| %s | %s | failed: %s | | | | | | | | | | | |", c.workload.title, c.solver.label, mdEscape(fmt.Sprint(c.err)))
			continue
		}
		w, q := r.vsBuiltin(c)
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | **%s** | %s | %s | %s |", c.workload.title, c.solver.label, c.wallCell(),
			secs(c.med(providerOf)), c.pauses(), c.dnsWait(), c.backoff(), secs(c.med(restOf)), ratio(w), ratio(q),
			num(c.med(totalOf)), num(c.med(listsOf)), num(c.med(readsOf)), num(c.med(writesOf)))
	}
	p("")
	p("## Targets")
	p("")
	p("The issue's targets (#13), each computed from this run's figures.")
	p("")
	p("| target | figure | |")
	p("|---|---|---|")
	for _, t := range r.targets() {
		p("| %s | %s | **%s** |", t.target, mdEscape(t.figure), t.verdict)
	}
	p("")
	r.why(p)
	p("")
	p("## Zone engine: merging into a 2,000-record zone")
	p("")
	if r.zoneCmd == "" {
		p("Not run (`-zonebench=false`).")
	} else {
		p("```")
		p("%s", r.zoneCmd)
		p("```")
		p("")
		p("Each iteration appends TXT records (1, or 50 in one call) to a zone of 2,000 records through the engine's exported API and deletes them again: two zone writes, each one read, the merge and one whole-zone write to a backend held in memory (`internal/zone/bench_test.go`). Times and allocations are per iteration, both writes together, and include the backend's own copy of the zone on each read and write.")
		p("")
		p("```")
		for _, line := range strings.Split(strings.TrimSpace(r.zoneOut), "\n") {
			if strings.HasPrefix(line, "Benchmark") || strings.HasPrefix(line, "goos") || strings.HasPrefix(line, "goarch") || strings.HasPrefix(line, "cpu") || strings.HasPrefix(line, "pkg") || strings.HasPrefix(line, "ok") || strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "---") {
				p("%s", line)
			}
		}
		p("```")
		if ns := maxNsPerOp(r.zoneOut); ns >= float64(2*zone.DefaultGroupWindow) {
			p("")
			p("Most of these times is the engine's group-commit window: the benchmark's engine keeps the default (%v before each of the two writes to an idle zone), so %s per iteration is at least %v of waiting; the merge itself is the rest.", zone.DefaultGroupWindow, secs(ns/1e9), 2*zone.DefaultGroupWindow)
		}
		if r.zoneErr != nil {
			p("")
			p("The benchmark failed: %s.", mdEscape(r.zoneErr.Error()))
		}
	}
	return b.String()
}

// maxNsPerOp is the largest ns/op of go test -bench output, 0 if none.
func maxNsPerOp(out string) float64 {
	most := 0.0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		for i := 1; i < len(f); i++ {
			if f[i] == "ns/op" {
				if v, err := strconv.ParseFloat(f[i-1], 64); err == nil && v > most {
					most = v
				}
			}
		}
	}
	return most
}

func (r *results) discarded() int {
	n := 0
	for _, c := range r.cells {
		n += c.discarded
	}
	return n
}

func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
