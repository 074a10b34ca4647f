package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/caddyserver/certmagic"

	"github.com/acme-dns-hook/acme-dns-hook/internal/zone"
)

// --- targets (issue 13) ---

type target struct {
	target, figure, verdict string
}

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

// worst is the largest value of f over a cell's runs.
func (c *cell) worst(f func(runResult) float64) float64 {
	_, hi := c.span(f)
	return hi
}

// caddyCost is the most requests of each kind in any run of a Caddy-shape
// cell: listings, and reads and writes before the first cleanup began
// (presents) and from then on (cleanups).
type caddyCost struct{ lists, pr, pw, cr, cw float64 }

func (c *cell) caddyCost() (caddyCost, bool) {
	var k caddyCost
	for _, r := range c.runs {
		pr, ok1 := phase(r, readEPs, false)
		pw, ok2 := phase(r, writeEPs, false)
		cr, _ := phase(r, readEPs, true)
		cw, _ := phase(r, writeEPs, true)
		if !ok1 || !ok2 {
			return k, false
		}
		k.lists = math.Max(k.lists, listsOf(r))
		k.pr, k.pw, k.cr, k.cw = math.Max(k.pr, pr), math.Max(k.pw, pw), math.Max(k.cr, cr), math.Max(k.cw, cw)
	}
	return k, true
}

func (k caddyCost) String() string {
	return fmt.Sprintf("presents %s read + %s write, cleanups %s + %s, listings %s", num(k.pr), num(k.pw), num(k.cr), num(k.cw), num(k.lists))
}

func (r *results) targets() []target {
	var out []target
	const caddyTarget = "Caddy shape, 10 and 50 names in one zone: at most 1 zone read + 1 write for presents and 1 + 1 for cleanups (+ at most 1 listing)"
	for _, lim := range []struct {
		title string
		keys  []string
	}{
		{"certmagic's rate limiter raised", []string{"caddy-raised", "caddy-pcheck-raised"}},
		{"certmagic's rate limiter at its default", []string{"caddy", "caddy-pcheck"}},
	} {
		t := target{target: caddyTarget + " — " + lim.title}
		var parts []string
		any, met := false, true
		for _, wk := range []string{"10", "50"} {
			for _, key := range lim.keys {
				c := r.get(key, wk)
				if c == nil {
					continue
				}
				k, ok := c.caddyCost()
				if !ok {
					continue
				}
				any = true
				met = met && k.pr <= 1 && k.pw <= 1 && k.cr <= 1 && k.cw <= 1 && k.lists <= 1
				parts = append(parts, fmt.Sprintf("%s, %s names: %s", c.solver.label, wk, k))
			}
		}
		t.figure = "most in any run: " + strings.Join(parts, "; ")
		t.verdict = verdict(any, met)
		out = append(out, t)
	}
	wallTarget := func(text, key, alt string, limit float64) target {
		t := target{target: text}
		c := r.get(key, "10")
		if c == nil {
			t.verdict = verdict(false, false)
			return t
		}
		t.figure = fmt.Sprintf("%s: %s (median)", c.solver.label, secs(c.med(wallOf)))
		if a := r.get(alt, "10"); a != nil {
			t.figure += fmt.Sprintf("; %s: %s", a.solver.label, secs(a.med(wallOf)))
		}
		t.verdict = verdict(true, c.med(wallOf) <= limit)
		return t
	}
	out = append(out,
		wallTarget("Caddy shape at 10 names: wall ≤ 1.5 s with the provider-side check and certmagic's off", "caddy-pcheck", "caddy-pcheck-raised", 1.5),
		wallTarget("Caddy shape at 10 names: wall ≤ 3.5 s with certmagic's check on", "caddy", "caddy-raised", 3.5))

	// certmagic library with the batching solver.
	{
		c := r.get("certmagic-batching", "10")
		t1 := target{target: "certmagic library, one 10-name certificate with the batching solver: ≤ 5 API requests in all"}
		t2 := target{target: "certmagic library, one 10-name certificate with the batching solver: wall within 0.5 s of acmez's own polling floor (N × 250 ms)"}
		if c != nil {
			t1.figure = fmt.Sprintf("most in any run: %s (list %s, read %s, write %s); median %s", num(c.worst(totalOf)), num(c.worst(listsOf)), num(c.worst(readsOf)), num(c.worst(writesOf)), num(c.med(totalOf)))
			t1.verdict = verdict(true, c.worst(totalOf) <= 5)
			floor := 10 * 0.25
			t2.figure = fmt.Sprintf("%s median, floor %s: %s above", secs(c.med(wallOf)), secs(floor), secs(c.med(wallOf)-floor))
			if d := r.get("certmagic-nocheck", "10"); d != nil {
				t2.figure += fmt.Sprintf(" (certmagic's DNS01Solver with its check off: %s; at its defaults: %s)", secs(d.med(wallOf)), secs(r.medOf("certmagic", "10", wallOf)))
			}
			t2.verdict = verdict(true, c.med(wallOf) <= floor+0.5)
		} else {
			t1.verdict, t2.verdict = verdict(false, false), verdict(false, false)
		}
		out = append(out, t1, t2)
	}

	// lego + legoprovider.
	{
		lp1, lp10 := r.get("lego-legoprovider", "1"), r.get("lego-legoprovider", "10")
		t := target{target: "lego + legoprovider, 10 names: ≤ 2 API requests per challenge after the first"}
		if lp1 != nil && lp10 != nil {
			per := (lp10.med(totalOf) - lp1.med(totalOf)) / 9
			t.figure = fmt.Sprintf("(%s at 10 names − %s at 1 name) / 9 = %s (medians)", num(lp10.med(totalOf)), num(lp1.med(totalOf)), num(round1(per)))
			if b1, b10 := r.get("lego-builtin", "1"), r.get("lego-builtin", "10"); b1 != nil && b10 != nil {
				t.figure += fmt.Sprintf("; built-in: %s", num(round1((b10.med(totalOf)-b1.med(totalOf))/9)))
			}
			t.verdict = verdict(true, per <= 2)
		} else {
			t.verdict = verdict(false, false)
		}
		out = append(out, t)

		t = target{target: "lego + legoprovider, 10 names: ≤ 5 API requests per certificate with batched presents"}
		if c := r.get("lego-legoprovider-batch", "10"); c != nil {
			t.figure = fmt.Sprintf("most in any run: %s (list %s, read %s, write %s); median %s", num(c.worst(totalOf)), num(c.worst(listsOf)), num(c.worst(readsOf)), num(c.worst(writesOf)), num(c.med(totalOf)))
			t.verdict = verdict(true, c.worst(totalOf) <= 5)
		} else {
			t.verdict = verdict(false, false)
		}
		out = append(out, t)

		b, bt := r.get("lego-builtin", "10"), r.get("lego-builtin-tuned", "10")
		batch := r.get("lego-legoprovider-batch", "10")
		t = target{target: "lego + legoprovider, 10 names: median wall ≥ 3.5× faster than the built-in provider at its defaults"}
		if lp10 != nil && b != nil {
			t.figure = fmt.Sprintf("%s (%s vs %s)", ratio(b.med(wallOf)/lp10.med(wallOf)), secs(lp10.med(wallOf)), secs(b.med(wallOf)))
			if batch != nil {
				t.figure += fmt.Sprintf("; batched presents: %s (%s)", ratio(b.med(wallOf)/batch.med(wallOf)), secs(batch.med(wallOf)))
			}
			t.figure += fmt.Sprintf("; without lego's validation backoff (medians of wall − backoff): %s (%s vs %s)",
				ratio(b.med(noBackoffOf)/lp10.med(noBackoffOf)), secs(lp10.med(noBackoffOf)), secs(b.med(noBackoffOf)))
			t.verdict = verdict(true, b.med(wallOf)/lp10.med(wallOf) >= 3.5)
		} else {
			t.verdict = verdict(false, false)
		}
		out = append(out, t)
		t = target{target: "lego + legoprovider, 10 names: median wall faster than the built-in tuned"}
		if lp10 != nil && bt != nil {
			t.figure = fmt.Sprintf("%s vs %s (%s)", secs(lp10.med(wallOf)), secs(bt.med(wallOf)), ratio(bt.med(wallOf)/lp10.med(wallOf)))
			if batch != nil {
				t.figure += fmt.Sprintf("; batched presents: %s", secs(batch.med(wallOf)))
			}
			t.figure += fmt.Sprintf("; without lego's validation backoff: %s vs %s", secs(lp10.med(noBackoffOf)), secs(bt.med(noBackoffOf)))
			t.verdict = verdict(true, lp10.med(wallOf) < bt.med(wallOf))
		} else {
			t.verdict = verdict(false, false)
		}
		out = append(out, t)
	}

	// lego CLI exec + hook.
	{
		t := target{target: "lego CLI exec + hook: ≤ 4 API requests per challenge, and fewer than the built-in provider's 6"}
		c, b := r.get("lego-cli-exec", "10"), r.get("lego-builtin", "10")
		if c1 := r.get("lego-cli-exec", "1"); c != nil && c1 != nil {
			// Counted as for legoprovider: per challenge after the first,
			// so the certificate's one zone listing is not spread over it.
			per := (c.med(totalOf) - c1.med(totalOf)) / 9
			t.figure = fmt.Sprintf("(%s at 10 names (list %s, read %s, write %s) − %s at 1 name) / 9 = %s per challenge after the first; %s averaged over all 10 with the listing",
				num(c.med(totalOf)), num(c.med(listsOf)), num(c.med(readsOf)), num(c.med(writesOf)), num(c1.med(totalOf)), num(round1(per)), num(round1(c.med(totalOf)/10)))
			met := per <= 4
			if b != nil {
				bper := b.med(totalOf) / 10
				t.figure += fmt.Sprintf("; built-in: %s per challenge", num(round1(bper)))
				met = met && per < bper
			}
			if h := r.get("lego-cli-httpreq", "10"); h != nil {
				t.figure += fmt.Sprintf("; httpreq + serve: %s per challenge", num(round1(h.med(totalOf)/10)))
			}
			t.verdict = verdict(true, met)
		} else {
			t.verdict = verdict(false, false)
		}
		out = append(out, t)
	}
	return out
}

// noBackoffOf is the wall time less lego's validation backoff.
func noBackoffOf(r runResult) float64 { return (r.wall - r.m.backoffTime).Seconds() }

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// medOf is the median of f for a solver and workload, NaN if not run.
func (r *results) medOf(key, wl string, f func(runResult) float64) float64 {
	if c := r.get(key, wl); c != nil {
		return c.med(f)
	}
	return math.NaN()
}

// --- why ---

// why explains the figures, quoting this run's numbers.
func (r *results) why(p func(string, ...any)) {
	p("## Why the figures are what they are")
	p("")
	b := r.facts.builtin
	perCh := func(key string) float64 { return round1(r.medOf(key, "10", totalOf) / 10) }
	if bi := r.get("lego-builtin", "10"); bi != nil {
		p("**lego's built-in provider** is sequential: lego solves one challenge at a time and, at the defaults, sleeps the sequence interval (%v) between one challenge's cleanup and the next one's present — %s of the %s median at 10 names — and the polling interval (%v) before each challenge's first DNS check. Every present and every cleanup lists the account's domains, reads the zone and writes it back: %s requests per challenge at 10 names.",
			b.SequenceInterval, secs(bi.med(pausesOf)), secs(bi.med(wallOf)), b.PollingInterval, num(perCh("lego-builtin")))
		if bt := r.get("lego-builtin-tuned", "10"); bt != nil {
			p("Tuned to the least its variables accept (both intervals 0), it takes %s at 10 names: the pauses and sleeps are gone, the requests (%s per challenge) and the one-at-a-time order remain.", secs(bt.med(wallOf)), num(perCh("lego-builtin-tuned")))
		}
		p("")
	}
	if lp := r.get("lego-legoprovider", "10"); lp != nil {
		p("**lego + legoprovider** is not sequential: lego presents every challenge, then checks and validates each in turn, then calls every cleanup back to back. lego waits for each `Present` to return and, by default, a present returns once its record is written, so each costs one zone read and one write; the cleanups are held per zone and the zone's last one deletes them all with one read and one write. At 10 names: %s requests (list %s, read %s, write %s). Its polling interval, which lego sleeps once per challenge before its first check, is %s by default.",
			num(lp.med(totalOf)), num(lp.med(listsOf)), num(lp.med(readsOf)), num(lp.med(writesOf)), r.lpInterval())
		if c := r.get("lego-legoprovider-batch", "10"); c != nil {
			p("With batched presents (opt-in), `Present` only queues the record and lego's first `Timeout` call, which comes after the last present, writes the queue: %s requests at 10 names (list %s, read %s, write %s), %s wall.", num(c.med(totalOf)), num(c.med(listsOf)), num(c.med(readsOf)), num(c.med(writesOf)), secs(c.med(wallOf)))
		}
		p("")
	}
	var legoRows []string
	for _, s := range r.solvers {
		if c := r.get(s.key, "10"); c != nil && s.lego && s.inProcess {
			legoRows = append(legoRows, fmt.Sprintf("%s %s backoffs, %s of %s (%s without)", s.label, num(c.med(backoffsOf)), secs(c.med(backoffTimeOf)), secs(c.med(wallOf)), secs(c.med(noBackoffOf))))
		}
	}
	if len(legoRows) > 0 {
		p("**lego's own time.** After asking Pebble to validate a challenge, lego looks at the authorization once; when Pebble is still validating (it does so asynchronously and sends no Retry-After), lego sleeps a backoff that starts at 5 s ± 50%% before it looks again, one challenge after another. No provider can change it, and whether a challenge pays it is a race, which is why lego's times spread from run to run. At 10 names (medians): %s.", strings.Join(legoRows, "; "))
		p("")
	}
	if c := r.get("lego-cli-exec", "10"); c != nil {
		p("**The lego CLI with the hook.** `exec` runs one hook process per present and per cleanup, one challenge at a time (lego treats exec as sequential); the account's zone list is kept on disk beside the lock files, so only the first call lists and each call costs one zone read and one write: %s requests at 10 names (list %s, read %s, write %s), %s of hook processes, %s wall.",
			num(c.med(totalOf)), num(c.med(listsOf)), num(c.med(readsOf)), num(c.med(writesOf)), secs(c.med(providerOf)), secs(c.med(wallOf)))
		if h := r.get("lego-cli-httpreq", "10"); h != nil {
			p("`httpreq` is not sequential and reaches one long-running `serve`, whose engine keeps the zone list in memory: %s requests at 10 names (list %s, read %s, write %s), %s wall. Neither lets the backoff be seen from outside lego's process.", num(h.med(totalOf)), num(h.med(listsOf)), num(h.med(readsOf)), num(h.med(writesOf)), secs(h.med(wallOf)))
		}
		p("")
	}
	if c := r.get("certmagic", "10"); c != nil {
		p("**certmagic's DNS01Solver** (one certificate of N names) presents the challenges one after another, each `AppendRecords` written before it returns, and cleans each up after polling its authorization: 2 + 2 requests per name plus a listing (%s at 10 names). Its propagation check sleeps a fixed 2 s before its first look at each name, one name after another: %s of DNS wait in the %s median at 10 names.",
			num(c.med(totalOf)), secs(c.med(waitsOf)), secs(c.med(wallOf)))
		if n := r.get("certmagic-nocheck", "10"); n != nil {
			calls := 2 * float64(n.workload.names)
			reqTime := n.med(totalOf) * r.opts.latency.Seconds()
			p("With the check off it takes %s: %s in the provider and %s in acmez, which polls the authorizations one at a time and sleeps its poll interval (250 ms, not configurable through certmagic) before each first look. The provider's %s are %s of API requests at %v each and %s more, %s per call: the zone engine waits its group-commit window (%v by default) before the first write to an idle zone, which certmagic's calls, one at a time, each pay.",
				secs(n.med(wallOf)), secs(n.med(providerOf)), secs(n.med(restOf)), secs(n.med(providerOf)), secs(reqTime), r.opts.latency, secs(n.med(providerOf)-reqTime), secs((n.med(providerOf)-reqTime)/calls), zone.DefaultGroupWindow)
		}
		p("")
	}
	if c := r.get("certmagic-batching", "10"); c != nil {
		p("**certmagic with the batching solver** writes each zone's records with one `AppendRecords` call at the first `Wait`, checks every name at once (looking first) and deletes each zone's records with one `DeleteRecords` call after the last `CleanUp`: %s requests at 10 names (list %s, read %s, write %s), %s wall against acmez's polling floor of 2.50 s (10 × 250 ms).",
			num(c.med(totalOf)), num(c.med(listsOf)), num(c.med(readsOf)), num(c.med(writesOf)), secs(c.med(wallOf)))
		if c50 := r.get("certmagic-batching", "50"); c50 != nil {
			p("At 50 names: %s requests, %s (floor 12.5 s).", num(c50.med(totalOf)), secs(c50.med(wallOf)))
		}
		p("")
	}
	if r.get("caddy", "10") != nil || r.get("caddy-raised", "10") != nil || r.get("caddy-pcheck", "10") != nil {
		var parts []string
		for _, key := range []string{"caddy", "caddy-raised", "caddy-pcheck", "caddy-pcheck-raised"} {
			for _, wk := range []string{"10", "50"} {
				if c := r.get(key, wk); c != nil {
					parts = append(parts, fmt.Sprintf("%s at %s names: %s, %s requests (list %s, read %s, write %s)", c.solver.label, wk, secs(c.med(wallOf)), num(c.med(totalOf)), num(c.med(listsOf)), num(c.med(readsOf)), num(c.med(writesOf))))
				}
			}
		}
		p("**The Caddy shape.** Each certificate's `AppendRecords` and `DeleteRecords` reach a provider instance of its own, but the engine keeps one queue per account and zone for the whole process and waits a short group-commit window before the first write to an idle zone, so the calls that arrive together are written together. certmagic's check, when on, sleeps its fixed 2 s before the first look; with it off and the module's propagation_check on, `AppendRecords` returns as soon as the local DNS server serves every record of the batch. certmagic's rate limiter lets %d orders of one account start per %v: at its default, 50 names start in waves of 10, each wave presenting and cleaning up on its own. Medians: %s.",
			10, certmagic.RateLimitEventsWindow, strings.Join(parts, "; "))
		p("")
	}
	var missed []string
	for _, t := range r.targets() {
		if t.verdict != "met" {
			missed = append(missed, fmt.Sprintf("%s (%s: %s)", t.target, t.verdict, t.figure))
		}
	}
	if len(missed) == 0 {
		p("Every target above is met in this run.")
	} else {
		p("Targets not met in this run, with their figures:")
		p("")
		for _, m := range missed {
			p("- %s", mdEscape(m))
		}
	}
}

// lpInterval is legoprovider's default polling interval as it reported it.
func (r *results) lpInterval() string {
	for _, s := range r.solvers {
		if s.key == "lego-legoprovider" {
			if i := strings.Index(s.settings, "polling interval "); i >= 0 {
				rest := s.settings[i+len("polling interval "):]
				if j := strings.IndexAny(rest, ", "); j > 0 {
					return rest[:j]
				}
			}
		}
	}
	return "—"
}
