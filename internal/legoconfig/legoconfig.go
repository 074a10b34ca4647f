// Package legoconfig is what this project's lego providers share, whatever
// lego version they serve (legoprovider for lego v4, legov5provider for lego
// v5): reading lego's variables of the selected provider
// (<PREFIX>_TTL, <PREFIX>_PROPAGATION_TIMEOUT, <PREFIX>_POLLING_INTERVAL,
// <PREFIX>_HTTP_TIMEOUT, each also as NAME_FILE) through its descriptor,
// building the provider from the environment, and the solver calls behind
// Present and CleanUp. It imports no lego package: each lego provider
// computes the record name and value with its own lego version's
// dns01.GetChallengeInfo and converts its Config to and from this one.
package legoconfig

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/solver"
	"github.com/acme-dns-hook/acme-dns-hook/internal/zone"
)

// lego's defaults, the same in lego v4 and v5 (dns01.DefaultTTL,
// dns01.DefaultPropagationTimeout, dns01.DefaultPollingInterval, and the
// HTTP client timeout of lego's own providers), and how long one Present or
// CleanUp may take here, retries included. Each lego provider's tests check
// the first three against its lego version's constants.
const (
	DefaultTTL                = 120 // seconds
	DefaultPropagationTimeout = 60 * time.Second
	LegoPollingInterval       = 2 * time.Second
	DefaultHTTPTimeout        = 30 * time.Second
	DefaultAPITimeout         = 2 * time.Minute
)

// DefaultPollingInterval is this project's polling interval, what Timeout
// reports to lego unless PollingInterval or <PREFIX>_POLLING_INTERVAL says
// otherwise. lego sleeps it once per challenge, one challenge after
// another, before its first DNS check, and then between checks; a check
// is a few DNS queries. 2 s (lego's default) made 10 names cost 20 s of
// sleeping; this costs 2.5 s and, while a record is not yet served, four
// checks a second.
const DefaultPollingInterval = 250 * time.Millisecond

// MinPollingInterval and MaxPollingInterval bound <PREFIX>_POLLING_INTERVAL.
const (
	MinPollingInterval = 10 * time.Millisecond
	MaxPollingInterval = 24 * time.Hour
)

// FlushAfter bounds how long a batched present or a held cleanup waits for
// the event that normally writes it (lego asking for Timeout, the zone's
// last cleanup): after that it is written anyway.
const FlushAfter = 2 * time.Second

// Config is the configuration every lego provider of this project has; each
// provider exports it as its own Config type, field for field.
type Config struct {
	// Records writes the challenge records.
	Records solver.Provider
	// TTL of challenge records in seconds; 0 leaves it to the provider.
	TTL int
	// PropagationTimeout and PollingInterval are what Timeout reports to
	// lego; zero means the defaults (DefaultPropagationTimeout,
	// DefaultPollingInterval).
	PropagationTimeout time.Duration
	PollingInterval    time.Duration
	// APITimeout bounds each Present or CleanUp call, retries included.
	APITimeout time.Duration
	// BatchPresents makes Present queue the record and return at once;
	// the queued records are written when lego first asks for Timeout
	// (after it presented every challenge of the order), one write per
	// zone, or FlushAfter after the first was queued if Timeout never
	// comes. See Provider.Timeout for how a failed write reaches lego.
	BatchPresents bool
}

// Default returns the defaults overridden by PREFIX_TTL,
// PREFIX_PROPAGATION_TIMEOUT (whole seconds), PREFIX_POLLING_INTERVAL
// (seconds, fractions allowed, or a Go duration such as 500ms) and
// PREFIX_BATCH_PRESENTS of the providers selected in env, and their
// descriptors. With several providers, TTL is 0 (each provider's own
// PREFIX_TTL, or its default, applies to its records), the propagation
// timeout and polling interval are the longest and the shortest any of them
// sets, and presents are batched if any of them says so. Records is nil. On
// error the Config holds the defaults read so far.
func Default(env settings.Env) (Config, []*settings.Descriptor, error) {
	cfg := Config{
		TTL:                DefaultTTL,
		PropagationTimeout: DefaultPropagationTimeout,
		PollingInterval:    DefaultPollingInterval,
		APITimeout:         DefaultAPITimeout,
	}
	specs, err := providers.Select("", env)
	if err != nil {
		return cfg, nil, err
	}
	if len(specs) > 1 {
		cfg.TTL = 0
	}
	var timeout, interval time.Duration
	for _, spec := range specs {
		if s := spec.Setting("ttl"); s != nil {
			ttl, err := env.Seconds(spec.EnvName(s), max(s.Min, 1), s.Max)
			if err != nil {
				return cfg, specs, err
			}
			if ttl > 0 && len(specs) == 1 {
				cfg.TTL = ttl
			}
		}
		n, err := env.Seconds(spec.Env+"PROPAGATION_TIMEOUT", 1, 86400)
		if err != nil {
			return cfg, specs, err
		}
		if d := time.Duration(n) * time.Second; d > timeout {
			timeout = d
		}
		d, err := Interval(env, spec.Env+"POLLING_INTERVAL")
		if err != nil {
			return cfg, specs, err
		}
		if d > 0 && (interval == 0 || d < interval) {
			interval = d
		}
		batch, err := env.Bool(spec.Env+"BATCH_PRESENTS", false)
		if err != nil {
			return cfg, specs, err
		}
		cfg.BatchPresents = cfg.BatchPresents || batch
	}
	if timeout > 0 {
		cfg.PropagationTimeout = timeout
	}
	if interval > 0 {
		cfg.PollingInterval = interval
	}
	return cfg, specs, nil
}

// Interval reads the variable name (or name_FILE) as a polling interval:
// seconds, fractions allowed ("0.5", "2"), or a Go duration ("500ms",
// "1.5s"), from MinPollingInterval to MaxPollingInterval; 0 when unset.
// Its error is one line naming the variable and what it accepts.
func Interval(env settings.Env, name string) (time.Duration, error) {
	v, err := env.Get(name)
	if err != nil || v == "" {
		return 0, err
	}
	var d time.Duration
	if f, perr := strconv.ParseFloat(v, 64); perr == nil && !strings.ContainsAny(v, "xXpP_") {
		if !math.IsInf(f, 0) && !math.IsNaN(f) && f*float64(time.Second) < float64(MaxPollingInterval)*2 {
			d = time.Duration(math.Round(f * float64(time.Second)))
		} else {
			d = -1
		}
	} else if d, perr = time.ParseDuration(v); perr != nil {
		d = -1
	}
	if d < MinPollingInterval || d > MaxPollingInterval {
		return 0, fmt.Errorf("%s=%q is invalid: use seconds (fractions allowed, e.g. 0.5) or a duration such as 500ms, from %s to %s", name, v, MinPollingInterval, MaxPollingInterval)
	}
	return d, nil
}

// FromEnv returns Default with Records set to the selected provider, built
// with its credentials and settings from env and an HTTP client whose
// timeout is PREFIX_HTTP_TIMEOUT (default 30 s). With several providers,
// Records is a providers.Set over all of them: each challenge goes to the
// account holding the longest zone that contains its (effective) name,
// among the zones of every account. Errors name the variable that is
// missing or wrong, never a secret.
//
// The providers' engines have no group-commit window: lego hands over one
// present at a time and waits for it, so a window would only delay each
// write (Provider batches what lego's call pattern allows).
func FromEnv(env settings.Env) (Config, error) {
	cfg, specs, err := Default(env)
	if err != nil {
		return cfg, err
	}
	var accounts []providers.Account
	for _, spec := range specs {
		httpTimeout, err := env.Seconds(spec.Env+"HTTP_TIMEOUT", 1, 3600)
		if err != nil {
			return cfg, err
		}
		client := &http.Client{Timeout: DefaultHTTPTimeout}
		if httpTimeout > 0 {
			client.Timeout = time.Duration(httpTimeout) * time.Second
		}
		p, err := providers.New(spec, env, providers.Options{HTTPClient: client, GroupWindow: -1})
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", spec.Name, err)
		}
		accounts = append(accounts, providers.Account{Descriptor: spec, Provider: p})
	}
	if len(accounts) == 1 {
		cfg.Records = accounts[0].Provider
	} else {
		cfg.Records = providers.NewSet(accounts...)
	}
	return cfg, nil
}

// Provider presents and cleans up challenge records for a lego provider,
// batched the way lego (v4 and v5) calls it: every Present of an order,
// one after another, then one Solve after another (each asking Timeout
// first), then every CleanUp back to back. Safe for concurrent use, also by
// several orders at once.
//
// Cleanups are batched per zone: CleanUp of a challenge while other
// challenges presented through this Provider in its zone are still
// outstanding (not yet cleaned up) holds the record back and returns nil at
// once, since lego calls the next CleanUp only after this one returned;
// the CleanUp of the zone's last outstanding challenge deletes every held
// record of the zone with one DeleteRecords call and returns its error,
// which names every name of the batch. A held record waits at most
// FlushAfter: then it is deleted anyway, and a failure is logged and
// returned by the zone's next CleanUp.
//
// Presents return once the record is written, unless Config.BatchPresents.
type Provider struct {
	name   string // the lego provider's package name, prefixing its errors
	cfg    Config
	solver *solver.Solver
	warn   func(msg string)                                   // errors no caller receives
	after  func(d time.Duration, f func()) (stop func() bool) // time.AfterFunc; tests replace it

	flushing sync.Mutex // one flush of batched presents at a time

	mu          sync.Mutex
	zones       map[string]*zoneState
	queued      []queuedPresent            // batched presents not written yet
	presentStop func() bool                // the fallback timer of queued
	failed      map[solver.Challenge]error // batched presents whose write failed, until cleaned up
}

// zoneState is what a Provider holds for one zone.
type zoneState struct {
	outstanding map[solver.Challenge]int // presented and not yet cleaned up
	held        []solver.Challenge       // cleaned up, not yet deleted
	stop        func() bool              // the fallback timer of held
	late        error                    // a fallback deletion's failure, for the next CleanUp
}

type queuedPresent struct {
	ch   solver.Challenge
	zone string
}

// New returns the Provider for cfg, with zero durations replaced by the
// defaults. name (the lego provider's package name) prefixes every error;
// warn, when set, receives the errors no caller can be given (a write the
// fallback timer made), as lego's own providers log them.
func New(name string, cfg *Config, warn func(msg string)) (*Provider, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%s: the configuration is nil", name)
	}
	if cfg.Records == nil {
		return nil, fmt.Errorf("%s: Config.Records is nil: set it to a libdns provider of the zone, e.g. one of this project's libdns packages", name)
	}
	c := *cfg
	if c.APITimeout <= 0 {
		c.APITimeout = DefaultAPITimeout
	}
	if c.PropagationTimeout <= 0 {
		c.PropagationTimeout = DefaultPropagationTimeout
	}
	if c.PollingInterval <= 0 {
		c.PollingInterval = DefaultPollingInterval
	}
	if warn == nil {
		warn = func(string) {}
	}
	return &Provider{
		name: name, cfg: c, warn: warn,
		solver: &solver.Solver{Provider: c.Records, TTL: time.Duration(c.TTL) * time.Second},
		after:  func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop },
		zones:  map[string]*zoneState{},
		failed: map[solver.Challenge]error{},
	}, nil
}

// Config returns the configuration in effect, defaults filled in.
func (p *Provider) Config() Config { return p.cfg }

// key is a challenge as the Provider keeps it: canonical name, value.
func key(fqdn, value string) solver.Challenge {
	return solver.Challenge{FQDN: zone.Canonical(fqdn), Value: value}
}

// state returns zone z's state; p.mu is held.
func (p *Provider) state(z string) *zoneState {
	zs := p.zones[z]
	if zs == nil {
		zs = &zoneState{outstanding: map[solver.Challenge]int{}}
		p.zones[z] = zs
	}
	return zs
}

// Present adds value at fqdn, next to any other values of that name, in
// the account zone holding fqdn, and returns once it is written. ctx bounds
// the API calls, as does Config.APITimeout. With Config.BatchPresents it
// finds the zone, queues the record and returns; Timeout writes it.
func (p *Provider) Present(ctx context.Context, fqdn, value string) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.APITimeout)
	defer cancel()
	ch := key(fqdn, value)
	z, err := p.solver.Zone(ctx, ch.FQDN)
	if err != nil {
		return p.wrap(err)
	}
	if !p.cfg.BatchPresents {
		if err := p.solver.Present(ctx, ch); err != nil {
			return p.wrap(err)
		}
		p.mu.Lock()
		p.state(z).outstanding[ch]++
		p.mu.Unlock()
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queued = append(p.queued, queuedPresent{ch, z})
	p.state(z).outstanding[ch]++
	if p.presentStop == nil {
		p.presentStop = p.after(FlushAfter, func() { p.flushPresents() })
	}
	return nil
}

// flushPresents writes every queued present, one write per zone, the
// zones in parallel, and remembers the challenges whose write failed.
func (p *Provider) flushPresents() {
	p.flushing.Lock()
	defer p.flushing.Unlock()
	p.mu.Lock()
	batch := p.queued
	p.queued = nil
	if p.presentStop != nil {
		p.presentStop()
		p.presentStop = nil
	}
	p.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	byZone := map[string][]solver.Challenge{}
	var zones []string
	for _, q := range batch {
		if byZone[q.zone] == nil {
			zones = append(zones, q.zone)
		}
		byZone[q.zone] = append(byZone[q.zone], q.ch)
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.APITimeout)
	defer cancel()
	errs := make([]error, len(zones))
	var wg sync.WaitGroup
	for i, z := range zones {
		wg.Go(func() { errs[i] = p.solver.Present(ctx, byZone[z]...) })
	}
	wg.Wait()
	for i, z := range zones {
		if errs[i] == nil {
			continue
		}
		err := p.wrap(fmt.Errorf("writing the batched challenge records: %w", errs[i]))
		p.warn(err.Error())
		p.mu.Lock()
		for _, ch := range byZone[z] {
			p.failed[ch] = err
		}
		p.mu.Unlock()
	}
}

// Failed returns the error of the batched write that should have added
// value at fqdn, or nil if it was written, is still queued, or was never
// presented. It is kept until the challenge is cleaned up.
func (p *Provider) Failed(fqdn, value string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed[key(fqdn, value)]
}

// CleanUp removes exactly value at fqdn; other values of the name stay.
// While other challenges of its zone are outstanding it holds the record
// back and returns nil (see Provider); the zone's last CleanUp deletes the
// held records with one call and returns its error.
func (p *Provider) CleanUp(ctx context.Context, fqdn, value string) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.APITimeout)
	defer cancel()
	ch := key(fqdn, value)
	z, err := p.solver.Zone(ctx, ch.FQDN)
	if err != nil {
		return p.wrap(err)
	}
	p.mu.Lock()
	delete(p.failed, ch)
	unwritten := false
	for i, q := range p.queued {
		if q.ch == ch {
			p.queued = append(p.queued[:i:i], p.queued[i+1:]...)
			unwritten = true
			break
		}
	}
	zs := p.state(z)
	if n := zs.outstanding[ch]; n > 1 {
		zs.outstanding[ch] = n - 1
	} else {
		delete(zs.outstanding, ch)
	}
	if !unwritten {
		zs.held = append(zs.held, ch)
	}
	late := zs.late
	zs.late = nil
	if len(zs.outstanding) > 0 {
		if zs.stop == nil && len(zs.held) > 0 {
			zs.stop = p.after(FlushAfter, func() { p.flushHeld(z) })
		}
		p.mu.Unlock()
		return late
	}
	batch := p.take(zs)
	p.mu.Unlock()
	if len(batch) == 0 {
		return late
	}
	return errors.Join(late, p.wrap(p.solver.Cleanup(ctx, batch...)))
}

// take returns zs's held records and stops their timer; p.mu is held.
func (p *Provider) take(zs *zoneState) []solver.Challenge {
	batch := zs.held
	zs.held = nil
	if zs.stop != nil {
		zs.stop()
		zs.stop = nil
	}
	return batch
}

// flushHeld deletes zone z's held records when they waited FlushAfter.
func (p *Provider) flushHeld(z string) {
	p.mu.Lock()
	batch := p.take(p.state(z))
	p.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.APITimeout)
	defer cancel()
	if err := p.solver.Cleanup(ctx, batch...); err != nil {
		err = p.wrap(err)
		p.warn(err.Error())
		p.mu.Lock()
		zs := p.state(z)
		zs.late = errors.Join(zs.late, err)
		p.mu.Unlock()
	}
}

// Timeout returns how long lego waits for propagation, and how often it
// checks. lego asks for it at the start of each challenge's Solve, after
// every Present of the order; with Config.BatchPresents the first call
// therefore writes the queued records (one write per zone) and returns
// once they are written.
//
// Timeout cannot return an error, and lego checks DNS next. So when a
// batched write failed, the cause is logged (warn), Failed reports it for
// each challenge it affects — which a lego provider's propagation-check
// wrapper returns to lego at its first check, failing the Solve at once
// with that cause — and Timeout reports a propagation timeout of one
// polling interval, so that even without the wrapper lego gives up after
// one check instead of waiting the whole propagation timeout.
func (p *Provider) Timeout() (timeout, interval time.Duration) {
	if p.cfg.BatchPresents {
		p.flushPresents()
		p.mu.Lock()
		failed := len(p.failed) > 0
		p.mu.Unlock()
		if failed {
			return p.cfg.PollingInterval, p.cfg.PollingInterval
		}
	}
	return p.cfg.PropagationTimeout, p.cfg.PollingInterval
}

func (p *Provider) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", p.name, err)
}
