// Package legoprovider is a lego v4 DNS-01 challenge provider over any of
// this project's libdns providers, configured the way lego configures its own
// providers: a Config, NewDefaultConfig from the environment, NewDNSProvider
// and NewDNSProviderConfig.
//
// The variable names are lego's for the same provider (<PREFIX>_API_KEY,
// <PREFIX>_TTL, <PREFIX>_PROPAGATION_TIMEOUT, <PREFIX>_POLLING_INTERVAL,
// <PREFIX>_HTTP_TIMEOUT, each also as NAME_FILE; README lists each
// provider's), so a lego user can switch
// without renaming anything. The provider is chosen by ACME_HOOK_PROVIDER, or
// is the only one whose credentials are set.
//
// Unlike lego's built-in mijn.host provider it is not sequential: the zone
// engine serialises and coalesces writes to one zone, so lego may present all
// challenges of an order at once.
package legoprovider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-acme/lego/v4/challenge"
	"github.com/go-acme/lego/v4/challenge/dns01"

	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/solver"
)

// Records is the part of a libdns provider this package needs; every
// provider of this project implements it.
type Records = solver.Provider

// Config configures a DNSProvider.
type Config struct {
	// Records writes the challenge records: any libdns provider, such as
	// one of this project's libdns packages.
	Records Records
	// TTL of challenge records in seconds; 0 leaves it to the provider.
	TTL int
	// PropagationTimeout and PollingInterval are what Timeout reports to
	// lego; zero means lego's defaults (60 s, 2 s).
	PropagationTimeout time.Duration
	PollingInterval    time.Duration
	// APITimeout bounds each Present or CleanUp call, retries included.
	APITimeout time.Duration
}

// NewDefaultConfig returns a Config with lego's defaults (TTL 120 s,
// propagation timeout 60 s, polling interval 2 s), overridden by
// PREFIX_TTL, PREFIX_PROPAGATION_TIMEOUT and PREFIX_POLLING_INTERVAL (whole
// seconds) of the provider selected in the environment. Records is left nil.
func NewDefaultConfig() *Config {
	cfg, _ := defaultConfig(settings.OSEnv)
	return cfg
}

func defaultConfig(env settings.Env) (*Config, error) {
	cfg := &Config{
		TTL:                dns01.DefaultTTL,
		PropagationTimeout: dns01.DefaultPropagationTimeout,
		PollingInterval:    dns01.DefaultPollingInterval,
		APITimeout:         2 * time.Minute,
	}
	spec, err := providers.Select("", env)
	if err != nil {
		return cfg, err
	}
	if s := spec.Setting("ttl"); s != nil {
		ttl, err := env.Seconds(spec.EnvName(s), max(s.Min, 1), s.Max)
		if err != nil {
			return cfg, err
		}
		if ttl > 0 {
			cfg.TTL = ttl
		}
	}
	for name, d := range map[string]*time.Duration{"PROPAGATION_TIMEOUT": &cfg.PropagationTimeout, "POLLING_INTERVAL": &cfg.PollingInterval} {
		n, err := env.Seconds(spec.Env+name, 1, 86400)
		if err != nil {
			return cfg, err
		}
		if n > 0 {
			*d = time.Duration(n) * time.Second
		}
	}
	return cfg, nil
}

// DNSProvider implements lego's challenge.ProviderTimeout.
type DNSProvider struct {
	cfg    Config
	solver *solver.Solver
}

// NewDNSProvider builds the provider selected in the environment with its
// credentials and settings. Errors name the variable that is missing or wrong.
func NewDNSProvider() (*DNSProvider, error) { return fromEnv(settings.OSEnv) }

func fromEnv(env settings.Env) (*DNSProvider, error) {
	cfg, err := defaultConfig(env)
	if err != nil {
		return nil, fmt.Errorf("legoprovider: %w", err)
	}
	spec, _ := providers.Select("", env)
	httpTimeout, err := env.Seconds(spec.Env+"HTTP_TIMEOUT", 1, 3600)
	if err != nil {
		return nil, fmt.Errorf("legoprovider: %w", err)
	}
	if httpTimeout == 0 {
		httpTimeout = 30
	}
	p, err := providers.New(spec, env, providers.Options{HTTPClient: &http.Client{Timeout: time.Duration(httpTimeout) * time.Second}})
	if err != nil {
		return nil, fmt.Errorf("legoprovider: %s: %w", spec.Name, err)
	}
	cfg.Records = p
	return NewDNSProviderConfig(cfg)
}

// NewDNSProviderConfig returns a provider for cfg.
func NewDNSProviderConfig(cfg *Config) (*DNSProvider, error) {
	if cfg == nil {
		return nil, errors.New("legoprovider: the configuration is nil")
	}
	if cfg.Records == nil {
		return nil, errors.New("legoprovider: Config.Records is nil: set it to a libdns provider of the zone, e.g. one of this project's libdns packages")
	}
	c := *cfg
	if c.APITimeout <= 0 {
		c.APITimeout = 2 * time.Minute
	}
	if c.PropagationTimeout <= 0 {
		c.PropagationTimeout = dns01.DefaultPropagationTimeout
	}
	if c.PollingInterval <= 0 {
		c.PollingInterval = dns01.DefaultPollingInterval
	}
	return &DNSProvider{cfg: c, solver: &solver.Solver{Provider: c.Records, TTL: time.Duration(c.TTL) * time.Second}}, nil
}

func (d *DNSProvider) challenge(domain, keyAuth string) solver.Challenge {
	info := dns01.GetChallengeInfo(domain, keyAuth)
	return solver.Challenge{FQDN: info.EffectiveFQDN, Value: info.Value}
}

// Present adds the challenge's TXT value next to any others at that name.
func (d *DNSProvider) Present(domain, _, keyAuth string) error {
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.APITimeout)
	defer cancel()
	if err := d.solver.Present(ctx, d.challenge(domain, keyAuth)); err != nil {
		return fmt.Errorf("legoprovider: %w", err)
	}
	return nil
}

// CleanUp removes exactly the challenge's TXT value.
func (d *DNSProvider) CleanUp(domain, _, keyAuth string) error {
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.APITimeout)
	defer cancel()
	if err := d.solver.Cleanup(ctx, d.challenge(domain, keyAuth)); err != nil {
		return fmt.Errorf("legoprovider: %w", err)
	}
	return nil
}

// Timeout returns how long lego waits for propagation, and how often it checks.
func (d *DNSProvider) Timeout() (timeout, interval time.Duration) {
	return d.cfg.PropagationTimeout, d.cfg.PollingInterval
}

var _ challenge.ProviderTimeout = (*DNSProvider)(nil)
