package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-acme/lego/v4/certificate"
	"github.com/go-acme/lego/v4/challenge"
	"github.com/go-acme/lego/v4/challenge/dns01"
	legomijnhost "github.com/go-acme/lego/v4/providers/dns/mijnhost"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/legoprovider"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/mijnhost"
)

// meter records what happens during one run as events with their times:
// the client's presents and cleanups of challenges, the DNS provider's calls
// (present and cleanup calls, API round trips and the provider's own
// waiting), certmagic's propagation waits (acmez Wait) and the ACME
// client's requests for authorization objects. read turns them into the
// figures of the run, clipped to the timed part.
type meter struct {
	mu       sync.Mutex
	presents []time.Time // when each challenge's present began
	cleanups []time.Time // when each challenge's cleanup ended
	calls    []span      // DNS provider calls
	waits    []span      // propagation waits
	// authz holds the times of the ACME client's requests per
	// authorization object. lego fetches each once when the order starts;
	// after asking for validation it looks once more at once unless the
	// answer said valid, and then again after each backoff sleep.
	authz map[string][]time.Time
	// sequential: the time between a cleanup and the next present is a
	// sequence pause (lego solves sequential providers one at a time).
	sequential bool
	// snap, when set, reads the fake's counters; the meter keeps its
	// reading at the start of the first cleanup, so that requests split
	// into those before (presenting) and from then on (cleaning up).
	snap         func() map[string]int
	atFirstPurge map[string]int
}

type span struct{ start, end time.Time }

func (m *meter) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.presents, m.cleanups, m.calls, m.waits, m.authz, m.atFirstPurge = nil, nil, nil, nil, map[string][]time.Time{}, nil
}

// present records a challenge's present; with timed, f is a provider call.
func (m *meter) present(timed bool, f func() error) error {
	m.mu.Lock()
	m.presents = append(m.presents, time.Now())
	m.mu.Unlock()
	if timed {
		return m.call(f)
	}
	return f()
}

// cleanup records a challenge's cleanup; with timed, f is a provider call.
func (m *meter) cleanup(timed bool, f func() error) error {
	m.mu.Lock()
	if m.snap != nil && m.atFirstPurge == nil {
		m.atFirstPurge = m.snap()
	}
	m.mu.Unlock()
	var err error
	if timed {
		err = m.call(f)
	} else {
		err = f()
	}
	m.mu.Lock()
	m.cleanups = append(m.cleanups, time.Now())
	m.mu.Unlock()
	return err
}

// call times a DNS provider call.
func (m *meter) call(f func() error) error {
	s := span{start: time.Now()}
	err := f()
	s.end = time.Now()
	m.mu.Lock()
	m.calls = append(m.calls, s)
	m.mu.Unlock()
	return err
}

func (m *meter) wait(f func() error) error {
	s := span{start: time.Now()}
	err := f()
	s.end = time.Now()
	m.mu.Lock()
	m.waits = append(m.waits, s)
	m.mu.Unlock()
	return err
}

func (m *meter) authzFetch(path string) {
	m.mu.Lock()
	if m.authz != nil {
		m.authz[path] = append(m.authz[path], time.Now())
	}
	m.mu.Unlock()
}

type measured struct {
	// provider, waits: time during which at least one provider call
	// (one wait) was under way; busy: either.
	provider, waits, busy, pauses            time.Duration
	presents, cleanups, presentsAfterCleanup int
	// backoffs is how many times lego slept its validation backoff, and
	// backoffTime how long (from the first look after asking for
	// validation to the last); backoffKnown is false where the ACME
	// client runs in another process.
	backoffs     int
	backoffTime  time.Duration
	backoffKnown bool
	// presentReqs are the requests made before the first cleanup began,
	// nil when not split.
	presentReqs map[string]int
}

// read computes the run's figures, clipping times to [from, to].
func (m *meter) read(from, to time.Time) measured {
	m.mu.Lock()
	defer m.mu.Unlock()
	clip := func(ss []span) []span {
		var out []span
		for _, s := range ss {
			if s.start.Before(from) {
				s.start = from
			}
			if s.end.After(to) {
				s.end = to
			}
			if s.end.After(s.start) {
				out = append(out, s)
			}
		}
		return out
	}
	calls, waits := clip(m.calls), clip(m.waits)
	r := measured{
		provider: union(calls), waits: union(waits), busy: union(append(slices.Clone(calls), waits...)),
		presents: len(m.presents), cleanups: len(m.cleanups), presentReqs: m.atFirstPurge,
	}
	cleanups := slices.Clone(m.cleanups)
	slices.SortFunc(cleanups, func(a, b time.Time) int { return a.Compare(b) })
	for _, p := range m.presents {
		// the last cleanup that ended before this present began
		i, _ := slices.BinarySearchFunc(cleanups, p, func(a, b time.Time) int { return a.Compare(b) })
		if i == 0 {
			continue
		}
		r.presentsAfterCleanup++
		if m.sequential {
			r.pauses += p.Sub(cleanups[i-1])
		}
	}
	for _, ts := range m.authz {
		if n := len(ts); n > 2 {
			r.backoffs += n - 2
			r.backoffTime += ts[n-1].Sub(ts[1])
		}
	}
	return r
}

// union is the total time covered by spans.
func union(ss []span) time.Duration {
	ss = slices.Clone(ss)
	slices.SortFunc(ss, func(a, b span) int { return a.start.Compare(b.start) })
	var total time.Duration
	var cur span
	for i, s := range ss {
		switch {
		case i == 0:
			cur = s
		case !s.start.After(cur.end):
			if s.end.After(cur.end) {
				cur.end = s.end
			}
		default:
			total += cur.end.Sub(cur.start)
			cur = s
		}
	}
	if len(ss) > 0 {
		total += cur.end.Sub(cur.start)
	}
	return total
}

// solver obtains certificates through one ACME client and one DNS-01
// solver.
type solver struct {
	key   string // short id used in flags
	label string // shown in tables
	// settings says how the client and the provider are configured.
	settings string
	// class chooses the number of runs: classLego (-lego-repeats),
	// classSlow (-slow-repeats; -slow-repeats-50 at 50 names) or classFast
	// (-repeats; -repeats-50 at 50 names).
	class string
	// workloads are the workload keys the solver runs (nil: all); skip
	// says why it runs no others.
	workloads []string
	skip      string
	// hasDNSWait: the meter's waits are measured (acmez's Wait).
	hasDNSWait bool
	// lego: the ACME client is lego; inProcess: its authorization
	// requests are counted (backoffs measured).
	lego, inProcess bool
	// caddy: N single-name certificates at once (the Caddy shape);
	// defaultLimiter: certmagic's rate limiter at its default.
	caddy, defaultLimiter bool
	m                     *meter
	// prepare does the untimed per-run setup (a fresh ACME account for
	// lego, a fresh provider instance for every solver) and returns the
	// run.
	prepare func(ctx context.Context, names []string) (*runner, error)
}

const (
	classLego = "lego"
	classSlow = "slow"
	classFast = "fast"
)

// runner is one prepared run.
type runner struct {
	// obtain is the timed part: it obtains the certificates and returns
	// them (one for every workload but the Caddy shape's, one per name).
	obtain func() ([]issued, error)
	// settle runs after the clock stops and before the counters and zones
	// are read: deletions a solver still holds are written, processes
	// stopped, events collected. nil: nothing to do.
	settle func() error
}

// issued is one certificate chain (PEM) and the names it must carry.
type issued struct {
	pem   []byte
	names []string
}

// runsFor is how many runs the solver makes of the workload (0: none).
func (s *solver) runsFor(o options, wl workload) int {
	if s.workloads != nil && !slices.Contains(s.workloads, wl.key) {
		return 0
	}
	switch {
	case s.class == classLego:
		return o.legoRepeats
	case s.defaultLimiter && wl.names >= 50:
		return o.slow50 // certmagic's limiter spreads its orders over 40 s and more
	case s.class == classSlow && wl.names >= 50:
		return o.slow50
	case s.class == classSlow:
		return o.slowRepeats
	case wl.names >= 50:
		return o.repeats50
	default:
		return o.repeats
	}
}

// env is what every solver shares.
type env struct {
	stack     *localstack.Stack
	pebbleTLS *x509.CertPool
	tmp       string
	o         options
	hookBin   string // the built acme-dns-hook, for the lego CLI rows
	legoBin   string
	// run numbers the runs (warm-ups included). The provider instances of
	// a run set the records' TTL to 120 s + run: the zone engine shares an
	// account's zone list for a minute among every instance in the process
	// with the same settings, so a TTL of its own makes each run list the
	// account's zones once, as a fresh process does.
	run int
}

// ttl is the TTL, in seconds, of the records of the current run.
func (e *env) ttl() int { return 120 + e.run }

func (e *env) pebbleClient(m *meter) *http.Client {
	return &http.Client{Timeout: 2 * time.Minute, Transport: &acmeCounter{m: m, next: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.pebbleTLS}}}}
}

// acmeCounter counts the ACME client's requests for authorizations
// (Pebble serves them under /authZ/).
type acmeCounter struct {
	m    *meter
	next http.RoundTripper
}

func (c *acmeCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.Contains(req.URL.Path, "/authZ/") {
		c.m.authzFetch(req.URL.Path)
	}
	return c.next.RoundTrip(req)
}

func (e *env) newMeter() *meter {
	return &meter{snap: e.stack.Fake.(*mijnhosttest.Server).Requests}
}

// --- lego ---

type (
	challengeProvider = challenge.Provider
	builtinConfig     = legomijnhost.Config
)

// timedLego measures a lego provider's Present and CleanUp.
type timedLego struct {
	p challenge.Provider
	m *meter
}

func (t *timedLego) Present(domain, token, keyAuth string) error {
	return t.m.present(true, func() error { return t.p.Present(domain, token, keyAuth) })
}

func (t *timedLego) CleanUp(domain, token, keyAuth string) error {
	return t.m.cleanup(true, func() error { return t.p.CleanUp(domain, token, keyAuth) })
}

func (t *timedLego) Timeout() (timeout, interval time.Duration) {
	if pt, ok := t.p.(challenge.ProviderTimeout); ok {
		return pt.Timeout()
	}
	return dns01.DefaultPropagationTimeout, dns01.DefaultPollingInterval
}

// timedLegoSequential passes a sequential provider's interval on, so lego
// treats the wrapper exactly as it treats the provider.
type timedLegoSequential struct {
	*timedLego
	interval time.Duration
}

func (t timedLegoSequential) Sequential() time.Duration { return t.interval }

func wrapLego(p challenge.Provider, m *meter) challenge.Provider {
	t := &timedLego{p: p, m: m}
	if s, ok := p.(interface{ Sequential() time.Duration }); ok {
		m.sequential = true
		return timedLegoSequential{t, s.Sequential()}
	}
	return t
}

// legoSolver runs the lego library (v4 API, as lego's CLI and Traefik use
// it) with a fresh ACME account per run. opts are further challenge
// options for the provider (legoprovider's PreCheck).
func (e *env) legoSolver(key, label, settings string, newProvider func() (challenge.Provider, []dns01.ChallengeOption, error)) *solver {
	m := e.newMeter()
	s := &solver{key: key, label: label, settings: settings, class: classLego, workloads: legoWorkloads, skip: legoSkip, lego: true, inProcess: true, m: m}
	s.prepare = func(ctx context.Context, names []string) (*runner, error) {
		p, opts, err := newProvider()
		if err != nil {
			return nil, err
		}
		client, err := e.stack.LegoClient(e.pebbleClient(m))
		if err != nil {
			return nil, err
		}
		opts = append([]dns01.ChallengeOption{dns01.AddRecursiveNameservers([]string{e.stack.DNS.Addr()}),
			dns01.DisableAuthoritativeNssPropagationRequirement()}, opts...)
		if err := client.Challenge.SetDNS01Provider(wrapLego(p, m), opts...); err != nil {
			return nil, err
		}
		certKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		return &runner{obtain: func() ([]issued, error) {
			res, err := client.Certificate.Obtain(certificate.ObtainRequest{Domains: names, Bundle: true, PrivateKey: certKey})
			if err != nil {
				return nil, err
			}
			return []issued{{res.Certificate, names}}, nil
		}}, nil
	}
	return s
}

// legoWorkloads are the workloads of every lego row: lego spends seconds
// per challenge of its own (a validation backoff of 5 s ± 50% whenever
// Pebble is still validating), so 50 names, apex + wildcard and the 5-zone
// certificate would cost several minutes per row and run.
var legoWorkloads = []string{"1", "10"}

const legoSkip = "lego rows run 1 and 10 names only: at least 5 runs of each, and lego's own waiting (a validation backoff of 5 s ± 50% for most challenges) would add about 4 minutes per row for apex + wildcard and 20 for 50 names, beyond the bench's 45-minute budget"

// rewriteTransport sends requests for lego's built-in API root to the fake.
type rewriteTransport struct {
	from string   // https://mijn.host/api/v2/
	to   *url.URL // http://127.0.0.1:PORT/api/v2/
	next http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	u := req.URL.String()
	rest, ok := strings.CutPrefix(u, t.from)
	if !ok {
		return nil, fmt.Errorf("bench: lego's mijn.host provider asked for %s, outside %s", u, t.from)
	}
	target, err := url.Parse(t.to.String() + rest)
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.URL = target
	r.Host = target.Host
	return t.next.RoundTrip(r)
}

// legoBuiltinProvider is lego v4.34.0's own mijn.host provider at its
// default settings, then tune applied; only its HTTP client's transport is
// replaced.
func (e *env) legoBuiltinProvider(tune func(*legomijnhost.Config)) (challenge.Provider, *legomijnhost.Config, error) {
	cfg := legomijnhost.NewDefaultConfig()
	cfg.APIKey = mijnhosttest.SeedKey
	if tune != nil {
		tune(cfg)
	}
	to, err := url.Parse(e.stack.Fake.(*mijnhosttest.Server).URL)
	if err != nil {
		return nil, nil, err
	}
	cfg.HTTPClient.Transport = &rewriteTransport{from: "https://mijn.host/api/v2/", to: to, next: &http.Transport{}}
	p, err := legomijnhost.NewDNSProviderConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return p, cfg, nil
}

// tuned sets the built-in provider's sequence and polling intervals to
// the least its variables accept (MIJNHOST_SEQUENCE_INTERVAL=0,
// MIJNHOST_POLLING_INTERVAL=0: whole seconds, negative refused).
func tuned(cfg *legomijnhost.Config) { cfg.SequenceInterval, cfg.PollingInterval = 0, 0 }

// newLegoprovider is this project's lego provider at the given config;
// with batched presents, its PreCheck is installed as the Config's
// documentation says.
func (e *env) newLegoprovider(cfg legoprovider.Config) func() (challenge.Provider, []dns01.ChallengeOption, error) {
	return func() (challenge.Provider, []dns01.ChallengeOption, error) {
		c := cfg
		c.Records = e.legoRecords()
		p, err := legoprovider.NewDNSProviderConfig(&c)
		if err != nil {
			return nil, nil, err
		}
		var opts []dns01.ChallengeOption
		if c.BatchPresents {
			opts = append(opts, dns01.WrapPreCheck(p.PreCheck(nil)))
		}
		return p, opts, nil
	}
}

// legoRecords is the libdns provider of the lego rows, as legoprovider's
// NewDNSProvider builds it: without the engine's group-commit window
// (lego presents one challenge at a time, so the window would only delay
// each write).
func (e *env) legoRecords() *mijnhost.Provider {
	p := e.libdnsProvider()
	p.GroupWindow = -1
	return p
}

// libdnsProvider is a fresh instance of this project's libdns provider for
// the fake's account.
func (e *env) libdnsProvider() *mijnhost.Provider {
	return &mijnhost.Provider{APIKey: mijnhosttest.SeedKey, APIURL: e.stack.Fake.(*mijnhosttest.Server).URL, TTL: e.ttl()}
}
