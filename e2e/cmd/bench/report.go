package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
)

// cell is one solver on one workload.
type cell struct {
	solver    *solver
	workload  workload
	runs      []runResult
	err       error
	discarded int
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
func restOf(r runResult) float64 {
	return (r.wall - r.m.provider - r.m.pauses - r.m.waits).Seconds()
}
func backoffsOf(r runResult) float64 { return float64(r.m.backoffs) }
func totalOf(r runResult) float64 {
	n := 0
	for _, v := range r.requests {
		n += v
	}
	return float64(n)
}
func endpointOf(ep string) func(runResult) float64 {
	return func(r runResult) float64 { return float64(r.requests[ep]) }
}

var endpoints = []struct{ key, short string }{
	{mijnhosttest.EndpointListDomains, "list"},
	{mijnhosttest.EndpointGetRecords, "GET"},
	{mijnhosttest.EndpointPutRecords, "PUT"},
	{mijnhosttest.EndpointPatchRecord, "PATCH"},
	{mijnhosttest.EndpointOther, "other"},
}

func formatRequests(m map[string]int) string {
	var parts []string
	total := 0
	for _, ep := range endpoints {
		if n := m[ep.key]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", ep.short, n))
			total += n
		}
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}

// requests is the median per endpoint, "list 1 · GET 20 · PUT 20".
func (c *cell) requests() string {
	var parts []string
	for _, ep := range endpoints {
		if v := c.med(endpointOf(ep.key)); v > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", ep.short, num(v)))
		}
	}
	return strings.Join(parts, " · ")
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
// requests than lego's built-in provider on the same workload.
func (r *results) vsBuiltin(c *cell) (wall, reqs float64) {
	b := r.get("lego-builtin", c.workload.key)
	if b == nil {
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

// acme is the rest of the wall time; for lego also how many validation
// backoffs it slept (median).
func (c *cell) acme() string {
	out := secs(c.med(restOf))
	if c.solver.lego {
		n := c.med(backoffsOf)
		word := "backoffs"
		if n == 1 {
			word = "backoff"
		}
		out += fmt.Sprintf(" (%s %s)", num(n), word)
	}
	return out
}

func (c *cell) dnsWait() string {
	if !c.solver.hasDNSWait {
		return "in ACME"
	}
	return secs(c.med(waitsOf))
}

// --- text table ---

func (r *results) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "API latency %v; medians over runs, (min–max); requests are median per endpoint\n\n", r.opts.latency)
	fmt.Fprintf(&b, "%-17s %-28s %-32s %9s %8s %8s %22s %6s %6s  %s\n", "workload", "solver", "wall", "provider", "pauses", "DNS wait", "ACME etc", "×wall", "×req", "API requests")
	for _, c := range r.cells {
		if c.err != nil || len(c.runs) == 0 {
			fmt.Fprintf(&b, "%-17s %-28s FAILED: %v\n", c.workload.title, c.solver.label, c.err)
			continue
		}
		w, q := r.vsBuiltin(c)
		fmt.Fprintf(&b, "%-17s %-28s %-32s %9s %8s %8s %22s %6s %6s  %s = %s\n", c.workload.title, c.solver.label, c.wallCell(),
			secs(c.med(providerOf)), secs(c.med(pausesOf)), c.dnsWait(), c.acme(), ratio(w), ratio(q), num(c.med(totalOf)), c.requests())
	}
	b.WriteString("\nTargets\n")
	for _, t := range r.targets() {
		fmt.Fprintf(&b, "  [%s] %s: %s\n", t.verdict, t.target, t.figure)
	}
	return b.String()
}

// --- targets ---

type target struct {
	target, figure, verdict string
}

func (r *results) targets() []target {
	var out []target
	const flatLimit = 2.0

	// certmagic: at most 4 API requests per zone per certificate.
	{
		t := target{target: "certmagic: at most 4 API requests per zone per certificate, whatever the name count"}
		worst, any := 0.0, false
		var parts []string
		for _, wl := range r.workloads {
			for _, key := range []string{"certmagic", "certmagic-nocheck"} {
				c := r.get(key, wl.key)
				if c == nil {
					continue
				}
				_, hi := c.span(totalOf)
				perZone := hi / float64(wl.zones)
				any = true
				worst = math.Max(worst, perZone)
				if key == "certmagic" || r.get("certmagic", wl.key) == nil {
					parts = append(parts, fmt.Sprintf("%s: %s", wl.title, num(perZone)))
				}
			}
		}
		t.figure = "most requests per zone in any run: " + strings.Join(parts, "; ")
		t.verdict = verdict(any, worst <= 4)
		out = append(out, t)
	}
	// certmagic: 10-name certificate in under 3 s.
	{
		t := target{target: "certmagic: a 10-name certificate in under 3 s"}
		var parts []string
		met, any := false, false
		for _, key := range []string{"certmagic", "certmagic-nocheck"} {
			if c := r.get(key, "10"); c != nil {
				any = true
				m := c.med(wallOf)
				parts = append(parts, fmt.Sprintf("%s %s (median)", c.solver.label, secs(m)))
				if m < 3 {
					met = true
				}
			}
		}
		t.figure = strings.Join(parts, "; ")
		t.verdict = verdict(any, met)
		if any && met && r.get("certmagic", "10") != nil && r.get("certmagic", "10").med(wallOf) >= 3 {
			t.verdict = "only with propagation checks off"
		}
		out = append(out, t)
	}
	// lego: no sequential pause.
	{
		t := target{target: "lego + legoprovider: no sequential pause"}
		c := r.get("lego-legoprovider", "10")
		if c == nil {
			c = r.get("lego-legoprovider", "2")
		}
		if c != nil {
			seq := c.med(func(r runResult) float64 { return float64(r.m.presentsAfterCleanup) })
			t.figure = fmt.Sprintf("legoprovider has no Sequential() method; at %s every present came before the first cleanup in every run (presents after a cleanup: %s; built-in: %s with %s of pauses)",
				c.workload.title, num(seq), r.builtinSeq(c.workload.key), r.builtinPauses(c.workload.key))
			t.verdict = verdict(true, seq == 0)
		} else {
			t.verdict = verdict(false, false)
		}
		out = append(out, t)
	}
	// lego: at most 2 API requests per challenge after the first in a zone.
	{
		t := target{target: "lego + legoprovider: at most 2 API requests per challenge after the first in a zone"}
		one := r.get("lego-legoprovider", "1")
		worst, any := 0.0, false
		var parts []string
		for _, wk := range []string{"10", "50"} {
			c := r.get("lego-legoprovider", wk)
			if c == nil || one == nil {
				continue
			}
			any = true
			m := (c.med(totalOf) - one.med(totalOf)) / float64(c.workload.names-1)
			worst = math.Max(worst, m)
			parts = append(parts, fmt.Sprintf("(requests at %d names − at 1 name) / %d = %s", c.workload.names, c.workload.names-1, num(round1(m))))
			if b, b1 := r.get("lego-builtin", wk), r.get("lego-builtin", "1"); b != nil && b1 != nil {
				parts[len(parts)-1] += fmt.Sprintf(" (built-in: %s)", num(round1((b.med(totalOf)-b1.med(totalOf))/float64(c.workload.names-1))))
			}
		}
		if one != nil {
			parts = append(parts, fmt.Sprintf("the first challenge costs %s", num(one.med(totalOf))))
		}
		t.figure = strings.Join(parts, "; ")
		t.verdict = verdict(any, worst <= 2)
		out = append(out, t)
	}
	// lego: wall-clock at least 5x lower than the built-in at 10 names.
	{
		t := target{target: "lego + legoprovider: wall-clock at least 5× lower than lego's built-in provider at 10 names"}
		c := r.get("lego-legoprovider", "10")
		if c != nil && r.get("lego-builtin", "10") != nil {
			w, _ := r.vsBuiltin(c)
			b := r.get("lego-builtin", "10")
			t.figure = fmt.Sprintf("%s lower (%s vs %s, medians)", ratio(w), secs(c.med(wallOf)), secs(b.med(wallOf)))
			t.verdict = verdict(true, w >= 5)
		} else {
			t.verdict = verdict(false, false)
		}
		out = append(out, t)
	}
	// certmagic: cost roughly flat in name count up to 50 names.
	{
		t := target{target: fmt.Sprintf("certmagic: cost roughly flat in name count up to 50 names (read here as: 50 names cost at most %.0f× one name, in wall time and in requests)", flatLimit)}
		var parts []string
		met, any := true, false
		for _, key := range []string{"certmagic", "certmagic-nocheck"} {
			c1, c50 := r.get(key, "1"), r.get(key, "50")
			if c1 == nil || c50 == nil {
				continue
			}
			any = true
			w := c50.med(wallOf) / c1.med(wallOf)
			q := c50.med(totalOf) / c1.med(totalOf)
			parts = append(parts, fmt.Sprintf("%s: wall %s → %s (%s), requests %s → %s (%s)", c1.solver.label,
				secs(c1.med(wallOf)), secs(c50.med(wallOf)), ratio(w), num(c1.med(totalOf)), num(c50.med(totalOf)), ratio(q)))
			if w > flatLimit || q > flatLimit {
				met = false
			}
		}
		t.figure = strings.Join(parts, "; ")
		t.verdict = verdict(any, met)
		out = append(out, t)
	}
	return out
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

func verdict(measured, met bool) string {
	switch {
	case !measured:
		return "not measured"
	case met:
		return "met"
	default:
		return "not met"
	}
}

func (r *results) builtinSeq(wl string) string {
	if b := r.get("lego-builtin", wl); b != nil {
		return num(b.med(func(r runResult) float64 { return float64(r.m.presentsAfterCleanup) }))
	}
	return "—"
}

func (r *results) builtinPauses(wl string) string {
	if b := r.get("lego-builtin", wl); b != nil {
		return secs(b.med(pausesOf))
	}
	return "—"
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
	p("What one certificate costs through each DNS-01 solver of this project, side by side with lego's built-in mijn.host provider.")
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
	p("| runs | %d per workload for the fast solver, %d for the slow ones (every lego solver and certmagic at its defaults), %d for the slow ones at 50 names (`-repeats`, `-slow-repeats`, `-slow-repeats-50`); each solver obtained one untimed warm-up certificate first |", r.opts.repeats, r.opts.slowRepeats, r.opts.slow50)
	p("")
	p("Solvers:")
	p("")
	for _, s := range r.solvers {
		p("- **%s** (`%s`): %s.", s.label, s.key, s.settings)
	}
	p("")
	p("The lego v4 solvers use the lego v4.34.0 library the way its CLI does (`Certificate.Obtain`, a fresh ACME account per run); lego's DNS check asks the local DNS server (`dns01.AddRecursiveNameservers`, `DisableAuthoritativeNssPropagationRequirement`, `LEGO_DISABLE_CNAME_SUPPORT=true`). The lego v5 solver uses the lego v5.6.0 library the same way; its DNS client, process-wide in v5, is set to ask the local DNS server (`dns01.SetDefaultClient`), with the same two options.")
	p("The built-in provider's HTTP client gets a transport that sends its requests for `https://mijn.host/api/v2/` to the fake, which serves the same paths and checks the same `API-Key` header.")
	p("Both certmagic solvers go through `ACMEIssuer.Issue` (acmez underneath), as Caddy does, with one ACME account each; certmagic's internal rate limiter is raised (`RateLimitEvents = 1000`) so back-to-back runs are not throttled.")
	p("Every run uses a fresh provider instance (nothing cached from an earlier certificate), ECDSA P-256 certificate keys made before the clock starts, names unique to the run (except apex + wildcard), and is checked: the chain verifies for every name, every zone ends byte for byte as it began, and every name was validated (a run in which Pebble reused an authorization is discarded and repeated).")
	if d := r.discarded(); d > 0 {
		p("%d run(s) were discarded and repeated for a reused authorization.", d)
	}
	p("")
	p("Workloads: one certificate of 1 name; apex + wildcard (2 names, one TXT name holding two values); 10 and 50 names in one zone; 10 names spread over 5 zones (2 each; the four extra zones start with the same 11 records as `example.test`).")
	p("")
	p("## Wall time against name count")
	p("")
	if r.opts.chart != "" {
		p("![wall time per certificate against the number of names, per solver](%s)", r.opts.chart)
		p("")
		p("Medians with min–max bars, both axes logarithmic; the hollow markers are the 10-name certificate spread over 5 zones.")
		p("")
	}
	p("## Results")
	p("")
	p("Medians over the runs, wall time with (min–max). **provider**: time inside the DNS provider's present and cleanup calls (lego `Present`/`CleanUp`, libdns `AppendRecords`/`DeleteRecords`), API round trips and the provider's own waiting included. **pauses**: lego's sequence pauses between one challenge's cleanup and the next one's present (sequential providers only). **DNS wait**: certmagic's propagation wait (acmez `Wait`); lego's propagation sleep and check happen inside its `Solve` and are part of the next column. **ACME etc.**: the rest of the wall time — the ACME client and Pebble (orders, challenge status polling, finalisation) and, for lego, its DNS propagation sleep and check; for lego also how many times it slept its validation backoff (see below). **×wall**, **×req**: lego's built-in median divided by this solver's (how many times faster, how many times fewer API requests). **API requests**: median per endpoint of the fake's counters, reset before each run.")
	p("")
	p("| workload | solver | wall | provider | pauses | DNS wait | ACME etc. | ×wall | ×req | API requests |")
	p("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
	for _, c := range r.cells {
		if c.err != nil || len(c.runs) == 0 {
			p("| %s | %s | failed: %s | | | | | | | |", c.workload.title, c.solver.label, mdEscape(fmt.Sprint(c.err)))
			continue
		}
		w, q := r.vsBuiltin(c)
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | **%s**: %s |", c.workload.title, c.solver.label, c.wallCell(),
			secs(c.med(providerOf)), secs(c.med(pausesOf)), c.dnsWait(), c.acme(), ratio(w), ratio(q), num(c.med(totalOf)), c.requests())
	}
	p("")
	p("## Targets")
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
		if r.zoneErr != nil {
			p("")
			p("The benchmark failed: %s.", mdEscape(r.zoneErr.Error()))
		}
	}
	return b.String()
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

// why explains the figures, with the numbers of this run.
func (r *results) why(p func(string, ...any)) {
	p("## Why the figures are what they are")
	p("")
	b := r.facts.builtin
	bi, lp := r.get("lego-builtin", "10"), r.get("lego-legoprovider", "10")
	if bi != nil {
		p("**lego's built-in provider** is sequential: lego solves its challenges one at a time and sleeps the sequence interval (%v) between one challenge's cleanup and the next one's present — %s of the %s median at 10 names. Every present and every cleanup lists the account's domains, reads the zone and writes it back: 3 requests each, 6 per name.",
			b.SequenceInterval, secs(bi.med(pausesOf)), secs(bi.med(wallOf)))
		p("")
	}
	if lp != nil {
		p("**lego + legoprovider** is not sequential, so lego presents every challenge, then checks and validates each, then cleans each up. But lego calls `Present` for one challenge at a time and waits for it to return, and a present must be written before it returns; so the zone engine never has two writes to coalesce, and every present and every cleanup is one zone read and one zone write: 2 + 2 requests per challenge, plus one zone listing per certificate (cached for a minute, so runs longer than that list twice).")
		p("")
		p("Most of lego's wall time is lego's own client, and it is the same for both lego solvers. For each challenge in turn, lego sleeps one polling interval (2 s by default) before its first DNS check, then asks Pebble to validate; when Pebble's answer still says \"processing\" (it validates asynchronously and this Pebble sends no Retry-After), lego polls the authorization with an exponential backoff that starts at 5 s ± 50%%. Whether a challenge pays that backoff is a race, which is why lego's times spread widely from run to run.")
		if bi != nil {
			p("At 10 names lego slept that backoff for %s of 10 challenges with the built-in provider and %s with legoprovider (medians).", num(bi.med(backoffsOf)), num(lp.med(backoffsOf)))
		}
		if bi != nil {
			bp := bi.med(providerOf) + bi.med(pausesOf)
			lpp := lp.med(providerOf)
			p("At 10 names the part the provider controls is %s for the built-in (%s in present and cleanup, %s of sequence pauses) and %s for legoprovider, %s less; lego's client takes %s and %s of the two medians. With that much time common to both, the wall-clock ratio is %s.",
				secs(bp), secs(bi.med(providerOf)), secs(bi.med(pausesOf)), secs(lpp), ratio(bp/lpp), secs(bi.med(restOf)), secs(lp.med(restOf)), ratio(bi.med(wallOf)/lp.med(wallOf)))
		}
		p("")
	}
	if c := r.get("certmagic", "10"); c != nil {
		p("**certmagic** (acmez) also presents the challenges one after another, each `AppendRecords` durable before it returns (the libdns contract), and cleans each one up after polling its authorization; so it costs the same 2 + 2 requests per name as lego + legoprovider, plus one zone listing. Its time goes to propagation checks: before initiating each challenge, in turn, it waits for the record, and its check loop sleeps a fixed 2 s before the first look — %s of DNS wait in the %s median at 10 names, 2 s more per name.",
			secs(c.med(waitsOf)), secs(c.med(wallOf)))
		p("")
	}
	if n := r.get("certmagic-nocheck", "10"); n != nil {
		p("**certmagic with the check turned off** (`PropagationTimeout: -1`, Caddy's `propagation_timeout -1`) takes %s at 10 names: %s in the provider (%s requests one after another, %v each) and %s in acmez, which polls the authorizations one at a time and sleeps its poll interval (250 ms, not configurable through certmagic) before each first look. Turning the check off is safe only where a write is visible on the authoritative servers by the time the API call returns — true of this local stack, not known of mijn.host.",
			secs(n.med(wallOf)), secs(n.med(providerOf)), num(n.med(totalOf)), r.opts.latency, secs(n.med(restOf)))
		p("")
	}
	p("**What would meet the missed targets** without changing libdns semantics (none of it is implemented here):")
	p("")
	p("- certmagic, at most 4 requests per zone: acmez's `Solver` contract asks `Present` to return quickly and leave slow work to `Wait`, and acmez calls every `Present` of an order before the first `Wait`. A DNS-01 solver on the certmagic side (this project's Caddy module, or certmagic upstream) could remember the records in `Present`, write all pending records of a zone with one `AppendRecords` call at the first `Wait`, and hold back cleanups until every record it presented has been handed to `CleanUp`, then delete them with one `DeleteRecords` call per zone: 1 read + 1 write to present and 1 + 1 to clean up per zone, whatever the name count (plus a zone listing when the provider's one-minute cache is cold). The libdns provider needs no change; it already takes many records per call and writes each zone once per call.")
	p("- certmagic, a 10-name certificate in under 3 s and cost flat in name count: besides the batching above (which removes about %s of serial round trips at 10 names), the 2 s sleep before each challenge's first propagation check must go — by checking every record of the order at once, or by looking before sleeping (both certmagic changes), or with `propagation_timeout -1` and its risk. acmez's 250 ms poll sleep per authorization would remain (2.5 s at 10 names, 12.5 s at 50), so under 3 s is borderline and flat cost needs acmez to poll the authorizations concurrently.", secs(r.savedByBatching("certmagic-nocheck", "10")))
	p("- lego + legoprovider, at most 2 requests per challenge: lego hands over one challenge per call and needs it written before the call returns, so the only request left to save is the read before each write. The engine could keep the zone as it last read or wrote it for a few seconds and write from that (1 request per present and per cleanup), at the price of overwriting any edit someone else makes to the zone in that window — mijn.host has no conditional write to detect it.")
	p("- lego + legoprovider, 5× faster than the built-in at 10 names: the time the provider controls (sequence pauses, extra requests) is already gone, as shown above; the rest is lego's client, the same for both providers. It shrinks with a shorter polling interval (`MIJNHOST_POLLING_INTERVAL=1`, whole seconds, saves 1 s per name) and with a CA that sends Retry-After, neither of which is the provider's to change.")
}

// savedByBatching estimates the serial API time the batching solver would
// save: every request beyond 1 listing + 4 per zone, at the API latency.
func (r *results) savedByBatching(key, wl string) float64 {
	c := r.get(key, wl)
	if c == nil {
		return math.NaN()
	}
	extra := c.med(totalOf) - float64(1+4*c.workload.zones)
	return math.Max(extra, 0) * r.opts.latency.Seconds()
}
