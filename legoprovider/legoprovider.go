// Package legoprovider is a lego v4 DNS-01 challenge provider over any of
// this project's libdns providers, configured the way lego configures its own
// providers: a Config, NewDefaultConfig from the environment, NewDNSProvider
// and NewDNSProviderConfig. Programs on lego v5 use legov5provider, which
// shares all of this but lego's own types.
//
// The variable names are lego's for the same provider (<PREFIX>_API_KEY,
// <PREFIX>_TTL, <PREFIX>_PROPAGATION_TIMEOUT, <PREFIX>_POLLING_INTERVAL,
// <PREFIX>_HTTP_TIMEOUT, each also as NAME_FILE; README lists each
// provider's), so a lego user can switch without renaming anything;
// <PREFIX>_POLLING_INTERVAL also takes fractions ("0.5") and durations
// ("500ms"), and <PREFIX>_BATCH_PRESENTS=true (this project's) batches the
// presents of an order into one write per zone (Config.BatchPresents).
// The providers are those ACME_HOOK_PROVIDER names (one, or several
// separated by commas), else every one whose credentials are set; with
// several, each challenge goes to the account holding the longest zone
// that contains its name.
//
// Unlike lego's built-in mijn.host provider it is not sequential: the zone
// engine serialises and coalesces writes to one zone, so lego may present all
// challenges of an order at once.
package legoprovider

import (
	"context"
	"fmt"
	"time"

	"github.com/go-acme/lego/v4/challenge"
	"github.com/go-acme/lego/v4/challenge/dns01"
	"github.com/go-acme/lego/v4/log"

	"github.com/acme-dns-hook/acme-dns-hook/internal/legoconfig"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/solver"
)

// name prefixes every error of the package.
const name = "legoprovider"

// Records is the part of a libdns provider this package needs: appending
// and deleting records, so any libdns provider will do. When it also lists
// its zones (libdns.ZoneLister), as every provider of this project does,
// the zone of each challenge is the longest zone of its account holding
// the name; otherwise the zone is found through DNS, as the closest
// enclosing name with an SOA record, asked of the resolvers of
// /etc/resolv.conf.
type Records = solver.Provider

// Config configures a DNSProvider. It has the fields of the configuration
// every lego provider of this project shares, in the same order.
type Config struct {
	// Records writes the challenge records: any libdns provider, such as
	// one of this project's libdns packages. Give those GroupWindow: -1
	// (NewDNSProvider does): lego presents one challenge at a time, so
	// the engine's group-commit window would only delay each write
	// (100 ms a write by default).
	Records Records
	// TTL of challenge records in seconds; 0 leaves it to the provider.
	TTL int
	// PropagationTimeout and PollingInterval are what Timeout reports to
	// lego; zero means 60 s (lego's default) and 250 ms (not lego's 2 s:
	// lego sleeps the interval once per challenge, one challenge after
	// another, before its first check).
	PropagationTimeout time.Duration
	PollingInterval    time.Duration
	// APITimeout bounds each Present or CleanUp call, retries included.
	APITimeout time.Duration
	// BatchPresents (opt-in; <PREFIX>_BATCH_PRESENTS=true) makes Present
	// queue the record and return at once: the queued records are written
	// when lego first asks for Timeout, after it presented every challenge
	// of the order, with one write per zone (or 2 s after the first was
	// queued if Timeout never comes). Install PreCheck so that a failed
	// write fails lego's Solve at once with its cause. By default each
	// Present returns once its record is written.
	BatchPresents bool
}

// NewDefaultConfig returns a Config with lego's defaults (TTL 120 s,
// propagation timeout 60 s) and a polling interval of 250 ms, overridden
// by PREFIX_TTL, PREFIX_PROPAGATION_TIMEOUT (whole seconds),
// PREFIX_POLLING_INTERVAL (seconds, fractions allowed, or a duration such
// as 500ms) and PREFIX_BATCH_PRESENTS of the provider selected in the
// environment. Records is left nil.
func NewDefaultConfig() *Config {
	cfg, _, _ := legoconfig.Default(settings.OSEnv)
	return (*Config)(&cfg)
}

// DNSProvider implements lego's challenge.ProviderTimeout.
type DNSProvider struct {
	p *legoconfig.Provider
}

// NewDNSProvider builds the provider selected in the environment with its
// credentials and settings. Errors name the variable that is missing or wrong.
func NewDNSProvider() (*DNSProvider, error) { return fromEnv(settings.OSEnv) }

func fromEnv(env settings.Env) (*DNSProvider, error) {
	cfg, err := legoconfig.FromEnv(env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return NewDNSProviderConfig((*Config)(&cfg))
}

// NewDNSProviderConfig returns a provider for cfg.
func NewDNSProviderConfig(cfg *Config) (*DNSProvider, error) {
	p, err := legoconfig.New(name, (*legoconfig.Config)(cfg), warn)
	if err != nil {
		return nil, err
	}
	return &DNSProvider{p: p}, nil
}

// Present adds the challenge's TXT value next to any others at that name.
// lego v4 gives it no context: the API calls are bounded by
// Config.APITimeout.
func (d *DNSProvider) Present(domain, _, keyAuth string) error {
	info := dns01.GetChallengeInfo(domain, keyAuth)
	return d.p.Present(context.Background(), info.EffectiveFQDN, info.Value)
}

// CleanUp removes exactly the challenge's TXT value. lego calls every
// CleanUp of an order back to back: while other challenges of the zone
// are still to be cleaned up, it holds the record back and returns nil; the
// zone's last CleanUp deletes them all with one call and returns that
// call's error (a held record waits 2 s at most, then is deleted anyway,
// a failure logged through lego's logger and returned by the zone's next
// CleanUp).
func (d *DNSProvider) CleanUp(domain, _, keyAuth string) error {
	info := dns01.GetChallengeInfo(domain, keyAuth)
	return d.p.CleanUp(context.Background(), info.EffectiveFQDN, info.Value)
}

// Timeout returns how long lego waits for propagation, and how often it
// checks. With Config.BatchPresents, lego's first call writes the queued
// records and returns once they are written; after a failed write it
// reports a timeout of one polling interval, so that lego gives up after
// one check, and the cause goes to lego's log (and, with PreCheck
// installed, is the error of the Solve).
func (d *DNSProvider) Timeout() (timeout, interval time.Duration) { return d.p.Timeout() }

// PreCheck wraps lego's propagation check (next, or lego's own when next
// is nil) for a provider with Config.BatchPresents: the check of a
// challenge whose batched write failed stops at once with the write's
// error, which lego's Solve returns, instead of waiting for a record that
// will never be served. Install it with
// client.Challenge.SetDNS01Provider(p, dns01.WrapPreCheck(p.PreCheck(nil))).
func (d *DNSProvider) PreCheck(next dns01.WrapPreCheckFunc) dns01.WrapPreCheckFunc {
	return func(domain, fqdn, value string, check dns01.PreCheckFunc) (bool, error) {
		if err := d.p.Failed(fqdn, value); err != nil {
			return true, err
		}
		if next != nil {
			return next(domain, fqdn, value, check)
		}
		return check(fqdn, value)
	}
}

// warn logs what no caller can be given through lego's logger.
func warn(msg string) { log.Warnf("%s", msg) }

var _ challenge.ProviderTimeout = (*DNSProvider)(nil)
