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
	"fmt"
	"net/http"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/solver"
)

// lego's defaults, the same in lego v4 and v5 (dns01.DefaultTTL,
// dns01.DefaultPropagationTimeout, dns01.DefaultPollingInterval, and the
// HTTP client timeout of lego's own providers), and how long one Present or
// CleanUp may take here, retries included. Each lego provider's tests check
// the first three against its lego version's constants.
const (
	DefaultTTL                = 120 // seconds
	DefaultPropagationTimeout = 60 * time.Second
	DefaultPollingInterval    = 2 * time.Second
	DefaultHTTPTimeout        = 30 * time.Second
	DefaultAPITimeout         = 2 * time.Minute
)

// Config is the configuration every lego provider of this project has; each
// provider exports it as its own Config type, field for field.
type Config struct {
	// Records writes the challenge records.
	Records solver.Provider
	// TTL of challenge records in seconds; 0 leaves it to the provider.
	TTL int
	// PropagationTimeout and PollingInterval are what Timeout reports to
	// lego; zero means lego's defaults.
	PropagationTimeout time.Duration
	PollingInterval    time.Duration
	// APITimeout bounds each Present or CleanUp call, retries included.
	APITimeout time.Duration
}

// Default returns lego's defaults overridden by PREFIX_TTL,
// PREFIX_PROPAGATION_TIMEOUT and PREFIX_POLLING_INTERVAL (whole seconds) of
// the providers selected in env, and their descriptors. With several
// providers, TTL is 0 (each provider's own PREFIX_TTL, or its default,
// applies to its records), and the propagation timeout and polling interval
// are the longest and the shortest any of them sets. Records is nil. On
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
		if n, err = env.Seconds(spec.Env+"POLLING_INTERVAL", 1, 86400); err != nil {
			return cfg, specs, err
		}
		if d := time.Duration(n) * time.Second; d > 0 && (interval == 0 || d < interval) {
			interval = d
		}
	}
	if timeout > 0 {
		cfg.PropagationTimeout = timeout
	}
	if interval > 0 {
		cfg.PollingInterval = interval
	}
	return cfg, specs, nil
}

// FromEnv returns Default with Records set to the selected provider, built
// with its credentials and settings from env and an HTTP client whose
// timeout is PREFIX_HTTP_TIMEOUT (default 30 s). With several providers,
// Records is a providers.Set over all of them: each challenge goes to the
// account holding the longest zone that contains its (effective) name,
// among the zones of every account. Errors name the variable that is
// missing or wrong, never a secret.
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
		p, err := providers.New(spec, env, providers.Options{HTTPClient: client})
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

// Provider presents and cleans up challenge records for a lego provider.
// Safe for concurrent use: lego presents every challenge of an order before
// it waits for any, and the zone engine coalesces the writes to one zone.
type Provider struct {
	name   string // the lego provider's package name, prefixing its errors
	cfg    Config
	solver *solver.Solver
}

// New returns the Provider for cfg, with zero durations replaced by lego's
// defaults. name (the lego provider's package name) prefixes every error.
func New(name string, cfg *Config) (*Provider, error) {
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
	return &Provider{name: name, cfg: c, solver: &solver.Solver{Provider: c.Records, TTL: time.Duration(c.TTL) * time.Second}}, nil
}

// Config returns the configuration in effect, defaults filled in.
func (p *Provider) Config() Config { return p.cfg }

// Present adds value at fqdn, next to any other values of that name, in
// the account zone holding fqdn. ctx bounds the API calls, as does
// Config.APITimeout.
func (p *Provider) Present(ctx context.Context, fqdn, value string) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.APITimeout)
	defer cancel()
	return p.wrap(p.solver.Present(ctx, solver.Challenge{FQDN: fqdn, Value: value}))
}

// CleanUp removes exactly value at fqdn; other values of the name stay.
func (p *Provider) CleanUp(ctx context.Context, fqdn, value string) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.APITimeout)
	defer cancel()
	return p.wrap(p.solver.Cleanup(ctx, solver.Challenge{FQDN: fqdn, Value: value}))
}

// Timeout returns how long lego waits for propagation, and how often it
// checks.
func (p *Provider) Timeout() (timeout, interval time.Duration) {
	return p.cfg.PropagationTimeout, p.cfg.PollingInterval
}

func (p *Provider) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", p.name, err)
}
