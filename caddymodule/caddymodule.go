// Package caddymodule registers this project's libdns providers as Caddy v2
// modules, one per provider, with ID dns.providers.<name> (the names
// `acme-dns-hook --help` and README list). Import it for its side effect,
// or build Caddy with
//
//	xcaddy build --with github.com/acme-dns-hook/acme-dns-hook/caddymodule
//
// The JSON config of a module is the libdns provider's own JSON plus the
// module name, e.g. {"name":"<name>","api_key":"{env.API_KEY}"}. In a
// Caddyfile, a provider with a short form takes its credential as the one
// argument, and every provider takes its settings in a block:
//
//	dns <name> {env.API_KEY}
//
//	dns <name> {
//		api_key {env.API_KEY}
//		ttl     2m
//	}
//
// The settings, their allowed values and the rules between them are the
// provider's own (its descriptor): a value the provider would reject is
// rejected by `caddy validate`, naming the setting.
//
// Every module implements all four libdns record interfaces and
// libdns.ZoneLister, so it works in a site's tls block, in the acme_dns
// global option, and in the global dns option.
//
// # CNAME delegation
//
// The modules do not follow CNAMEs, unlike the acme-dns-hook binary and
// the lego providers (see README, "Delegating _acme-challenge with a
// CNAME"): Caddy (certmagic) chooses the record name and finds its zone
// through DNS before it calls a module, writes at
// _acme-challenge.<domain> and waits for that name, which the CA answers
// from the CNAME's target. Caddy's own override_domain
// (dns_challenge_override_domain in a Caddyfile's tls block or acme issuer
// block, the dns challenge's "override_domain" in JSON) is the way: set it to the name the CNAME
// points to, and certmagic writes and waits there instead, for every name
// of the certificates it applies to. With
//
//	_acme-challenge.example.org.  CNAME  example-org.acme.example.net.
//
// the site's tls block holds
//
//	dns <name> {env.API_KEY}
//	dns_challenge_override_domain example-org.acme.example.net
//
// and the module, given the zone DNS reports for that name, writes in the
// account zone holding it (acme.example.net or example.net). Sites whose
// challenges go to different providers each take the dns module of theirs
// in their own tls block; one module reaches one account.
//
// # Propagation check
//
// Every module takes two module-level options besides its provider's
// settings, in its block or its JSON:
//
//	dns <name> {env.API_KEY} {
//		propagation_check 2m                  # or without a value: 2m
//		propagation_resolvers 192.0.2.53:53   # optional
//	}
//
//	{"name":"<name>", ..., "propagation_check":"2m", "propagation_resolvers":["192.0.2.53:53"]}
//
// With propagation_check, AppendRecords returns only once every TXT record
// it appended is served by every authoritative server of the zone certmagic
// named: it looks up the zone's NS records and their addresses through the
// system's resolvers (/etc/resolv.conf), then asks each address, without
// recursion, at once and every 500ms after, all records of the call at
// once (at most 16 records checked at a time in the process), until each
// server serves each value or the timeout has passed since the call. A
// record not served by then fails the call with an error naming the names
// that were not seen and what each server answered; the records are
// removed again first. With propagation_resolvers, the listed servers are
// asked (with recursion desired) instead of the authoritative ones.
//
// The check makes it safe to turn certmagic's own check off with
// `propagation_timeout -1` (a site's tls block, or the acme issuer's
// "propagation_timeout": -1), which skips certmagic's fixed 2 s sleep
// before its first look at each name, when all of these hold:
//
//   - the check asks the servers the CA asks: propagation_resolvers is not
//     set (the zone's authoritative servers, as listed in its NS records, are
//     asked), or it lists exactly those servers;
//   - no other caching layer sits between the CA and those servers: no
//     resolver that may have cached the name's absence (negative caching)
//     or an older answer, and no anycast instance or secondary that the
//     addresses in the NS records do not reach (the check sees what those
//     addresses answer, nothing else);
//   - with CNAME delegation, the CNAME at _acme-challenge.<domain> is
//     already published: the module is given the name the CNAME points to
//     (override_domain, see below) and checks it at the authoritative
//     servers of that name's zone, which is where the CA's lookup ends after
//     following the CNAME; an answer that holds a CNAME chain is followed
//     to its end, as the CA does. A record written at a name that is itself
//     an alias is never seen (the CA would not see it either), so the
//     check fails instead of passing.
//
// Without propagation_check, `propagation_timeout -1` is safe only where a
// record is served by every authoritative server the moment the
// provider's API call returns, which is not known of any provider here.
//
// The check counts from the call: Caddy's certificates are obtained
// concurrently, so the calls of all names arrive together and are checked
// together. It checks TXT records only (what ACME's DNS-01 writes).
//
// # MySSL
//
// The package also registers the event handler events.handlers.myssl
// ([MySSL], experimental), which asks MySSL to scan each certificate Caddy
// obtains; MySSL is no DNS provider.
package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/certmagic"
	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/propagation"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

// One module per registered provider, its settings from the provider's
// descriptor.
func init() {
	for _, d := range providers.All() {
		caddy.RegisterModule(newModule(d))
	}
}

// Module is the Caddy module of one provider, dns.providers.<name>. Its JSON
// is exactly the libdns provider's JSON (keys are the provider's json tags),
// and every libdns method forwards to Provider.
type Module struct {
	// Provider is the libdns provider the module configures (for example a
	// *<name>.Provider of this project); after Provision its text settings hold the
	// values placeholders expanded to.
	Provider providers.Provider

	// PropagationCheck, when positive, turns on the propagation check:
	// AppendRecords returns only once every TXT record it appended is
	// served by every authoritative server of the zone (or by each of
	// PropagationResolvers), asked at once and then every 500ms, all
	// records of the call in parallel, for at most this long in all. A
	// record not served by then fails the call with an error naming the
	// names, after the records are removed again. JSON
	// "propagation_check" (a duration: "2m"); Caddyfile
	// `propagation_check [<timeout>]` (default DefaultPropagationCheck).
	// Zero (the default) turns it off. Provision sets the check up: a
	// value set after Provision has no effect. See the package
	// documentation for when it makes certmagic's `propagation_timeout -1`
	// safe.
	PropagationCheck caddy.Duration
	// PropagationResolvers, when set, are the DNS servers ("host:port";
	// port 53 when left out) the check asks, with recursion desired,
	// instead of the zone's authoritative servers. JSON
	// "propagation_resolvers"; Caddyfile `propagation_resolvers <addr>...`.
	// Leave it empty unless those servers are the ones the CA asks.
	PropagationResolvers []string

	d       *settings.Descriptor
	checker *propagation.Checker // set by Provision when the check is on
}

// The module-level options, the same for every provider.
const (
	keyPropagationCheck     = "propagation_check"
	keyPropagationResolvers = "propagation_resolvers"
)

// DefaultPropagationCheck is the check's bound when `propagation_check`
// is given without a timeout.
const DefaultPropagationCheck = 2 * time.Minute

// Bounds of the propagation check.
const (
	checkInterval  = 500 * time.Millisecond // between two looks at a record; the first is at once
	checkParallel  = 16                     // records checked at once, by all modules of the process
	removeAfterBad = time.Minute            // bound of removing records the check did not see
)

// checkSlots bounds the records checked at once across every module.
var checkSlots = make(chan struct{}, checkParallel)

func newModule(d *settings.Descriptor) *Module {
	return &Module{Provider: d.New().(providers.Provider), d: d}
}

func (m *Module) id() string { return "dns.providers." + m.d.Name }

// CaddyModule returns the module's ID (dns.providers.<name>) and constructor.
func (m *Module) CaddyModule() caddy.ModuleInfo {
	d := m.d
	return caddy.ModuleInfo{
		ID:  caddy.ModuleID("dns.providers." + d.Name),
		New: func() caddy.Module { return newModule(d) },
	}
}

// MarshalJSON encodes the provider's settings, then the module-level
// options that are set (propagation_check as a duration string).
func (m *Module) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(m.Provider)
	if err != nil || (m.PropagationCheck == 0 && len(m.PropagationResolvers) == 0) {
		return b, err
	}
	var extra []string
	if m.PropagationCheck != 0 {
		v, _ := json.Marshal(time.Duration(m.PropagationCheck).String())
		extra = append(extra, `"`+keyPropagationCheck+`":`+string(v))
	}
	if len(m.PropagationResolvers) > 0 {
		v, err := json.Marshal(m.PropagationResolvers)
		if err != nil {
			return nil, err
		}
		extra = append(extra, `"`+keyPropagationResolvers+`":`+string(v))
	}
	b = bytes.TrimSuffix(bytes.TrimSpace(b), []byte("}"))
	if len(bytes.TrimSpace(b)) > 1 {
		b = append(b, ',')
	}
	return append(append(b, strings.Join(extra, ",")...), '}'), nil
}

// UnmarshalJSON decodes the module-level options (propagation_check,
// propagation_resolvers) and the provider's settings, rejecting unknown
// keys as Caddy does for every module. (Caddy names the module in its
// errors.)
func (m *Module) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if v, ok := raw[keyPropagationCheck]; ok {
		if err := json.Unmarshal(v, &m.PropagationCheck); err != nil {
			return fmt.Errorf("%s: %v: use a duration such as \"2m\"", keyPropagationCheck, err)
		}
		delete(raw, keyPropagationCheck)
	}
	if v, ok := raw[keyPropagationResolvers]; ok {
		if err := json.Unmarshal(v, &m.PropagationResolvers); err != nil {
			return fmt.Errorf("%s: %v: use a list of \"host:port\" strings", keyPropagationResolvers, err)
		}
		delete(raw, keyPropagationResolvers)
	}
	rest, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	return dec.Decode(m.Provider)
}

var placeholder = regexp.MustCompile(`\{[^{}\s]+\}`)

// hasPlaceholder reports a value that Provision will still expand.
func hasPlaceholder(v string) bool { return placeholder.MatchString(v) }

// Provision expands placeholders ({env.NAME}, {file.PATH}, …) in every text
// setting, then checks every rule of the provider's descriptor (required
// settings, ranges, allowed values, settings that exclude each other), so
// `caddy validate` rejects what the provider would reject at its first
// certificate. Errors name the setting; Caddy prefixes them with
// "provision <module ID>".
//
// With the propagation check on, it also checks its timeout and resolvers
// (placeholders expanded).
func (m *Module) Provision(caddy.Context) error {
	if err := provisionSettings(m.d, m.Provider); err != nil {
		return err
	}
	m.checker = nil
	if m.PropagationCheck == 0 && len(m.PropagationResolvers) == 0 {
		return nil
	}
	if m.PropagationCheck <= 0 {
		if m.PropagationCheck == 0 {
			return fmt.Errorf("%s is set but %s is not: turn the check on with %s (e.g. \"2m\"), or remove %s", keyPropagationResolvers, keyPropagationCheck, keyPropagationCheck, keyPropagationResolvers)
		}
		return fmt.Errorf("%s %v is invalid: use a positive duration such as 2m, or leave it out to turn the check off", keyPropagationCheck, time.Duration(m.PropagationCheck))
	}
	repl := caddy.NewReplacer()
	var resolvers []string
	for _, r := range m.PropagationResolvers {
		addrs, err := propagation.ParseResolvers(repl.ReplaceAll(r, ""))
		if err != nil {
			return fmt.Errorf("%s: %w", keyPropagationResolvers, err)
		}
		if len(addrs) == 0 {
			return fmt.Errorf("%s: entry %q is empty: give host:port addresses", keyPropagationResolvers, r)
		}
		resolvers = append(resolvers, addrs...)
	}
	m.checker = &propagation.Checker{Resolvers: resolvers, Interval: checkInterval}
	return nil
}

// provisionSettings expands placeholders in every text setting of p, then
// checks every rule of its descriptor d.
func provisionSettings(d *settings.Descriptor, p any) error {
	repl := caddy.NewReplacer()
	for i := range d.Settings {
		s := &d.Settings[i]
		if s.Kind != settings.Text {
			continue
		}
		orig := d.Value(p, s.Key)
		d.SetText(p, s.Key, repl.ReplaceAll(orig, ""))
		if phs := placeholder.FindAllString(orig, -1); len(phs) > 0 && !d.IsSet(p, s.Key) && s.Required {
			return fmt.Errorf("%s is empty after replacing placeholders (%s?)", s.Key, explainEmpty(phs))
		}
	}
	return d.Check(p, settings.Keys, nil)
}

// explainEmpty says why placeholders may have expanded to nothing.
func explainEmpty(phs []string) string {
	why := make([]string, len(phs))
	for i, ph := range phs {
		switch {
		case strings.HasPrefix(ph, "{env."):
			why[i] = ph + " is unset"
		case strings.HasPrefix(ph, "{file."):
			why[i] = ph + " is missing or empty"
		default:
			why[i] = ph + " is unknown or empty"
		}
	}
	return strings.Join(why, ", ")
}

// UnmarshalCaddyfile reads
//
//	dns <name> [<short>] {
//		<setting> <value>
//		...
//	}
//
// rejecting unknown settings, extra arguments, a setting given twice, and
// anything the provider's rules reject (a value out of range, conflicting
// settings, a missing required one); a value holding a placeholder is
// checked in Provision instead.
//
// Besides the provider's settings, the block takes the module-level options
//
//	propagation_check [<timeout>]          (default 2m)
//	propagation_resolvers <host:port>...
func (m *Module) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	id := m.id()
	return unmarshalSettings(d, m.d, m.Provider, id, map[string]func() error{
		keyPropagationCheck: func() error {
			m.PropagationCheck = caddy.Duration(DefaultPropagationCheck)
			if !d.NextArg() {
				return nil
			}
			v, err := caddy.ParseDuration(d.Val())
			if err != nil || v <= 0 {
				return d.Errf("%s: %s %q is invalid: use a positive duration such as 2m, or no value for %v", id, keyPropagationCheck, d.Val(), DefaultPropagationCheck)
			}
			m.PropagationCheck = caddy.Duration(v)
			if d.NextArg() {
				return d.Errf("%s: %s: unexpected argument '%s'", id, keyPropagationCheck, d.Val())
			}
			return nil
		},
		keyPropagationResolvers: func() error {
			m.PropagationResolvers = d.RemainingArgs()
			if len(m.PropagationResolvers) == 0 {
				return d.Errf("%s: %s needs at least one address (host:port)", id, keyPropagationResolvers)
			}
			for _, r := range m.PropagationResolvers {
				if hasPlaceholder(r) {
					continue
				}
				if _, err := propagation.ParseResolvers(r); err != nil {
					return d.Errf("%s: %s: %v", id, keyPropagationResolvers, err)
				}
			}
			return nil
		},
	})
}

// unmarshalSettings reads `<name> [<short>] { <setting> <value> … }` into
// p, the settings of descriptor desc, for the module with ID id. The
// subdirectives in extra are the module's own: each reads its arguments
// from d itself.
func unmarshalSettings(d *caddyfile.Dispenser, desc *settings.Descriptor, p any, id string, extra map[string]func() error) error {
	seen := map[string]bool{}
	known := slices.Concat(desc.Keys(), slices.Sorted(maps.Keys(extra)))
	set := func(key string) error {
		if desc.Setting(key) == nil {
			return d.Errf("%s: unrecognized subdirective '%s' (known: %s)", id, key, strings.Join(known, ", "))
		}
		if seen[key] {
			return d.Errf("%s: %s is given twice", id, key)
		}
		seen[key] = true
		if err := desc.Parse(p, key, d.Val(), key, parseDuration); err != nil {
			return d.Errf("%s: %v", id, err)
		}
		return nil
	}

	d.Next() // the module's name
	if d.NextArg() {
		if desc.Short == "" {
			return d.Errf("%s: unexpected argument '%s': put the settings in a block", id, d.Val())
		}
		if err := set(desc.Short); err != nil {
			return err
		}
	}
	if d.NextArg() {
		return d.Errf("%s: unexpected argument '%s'", id, d.Val())
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		key := d.Val()
		if f := extra[key]; f != nil {
			if seen[key] {
				return d.Errf("%s: %s is given twice", id, key)
			}
			seen[key] = true
			if err := f(); err != nil {
				return err
			}
			continue
		}
		if !d.NextArg() {
			return d.Errf("%s: %s needs a value", id, key)
		}
		if err := set(key); err != nil {
			return err
		}
		if d.NextArg() {
			return d.Errf("%s: %s: unexpected argument '%s'", id, key, d.Val())
		}
	}
	if err := desc.Check(p, settings.Keys, hasPlaceholder); err != nil {
		return d.Errf("%s: %v", id, err)
	}
	return nil
}

// parseDuration reads a Caddy duration ("2m", "1d") in nanoseconds.
func parseDuration(v string) (int64, error) {
	d, err := caddy.ParseDuration(v)
	return int64(d), err
}

// GetRecords forwards to the provider.
func (m *Module) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	return m.Provider.GetRecords(ctx, zone)
}

// AppendRecords forwards to the provider. With the propagation check on
// (PropagationCheck), it then waits until every TXT record of recs is
// served (see PropagationCheck); when one is not served in time, it removes
// recs again and returns an error naming the names that were not seen.
// Records of other types are not checked.
func (m *Module) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out, err := m.Provider.AppendRecords(ctx, zone, recs)
	if err != nil || m.checker == nil {
		return out, err
	}
	if err := m.waitVisible(ctx, zone, recs); err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeAfterBad)
		defer cancel()
		if _, rerr := m.Provider.DeleteRecords(rctx, zone, recs); rerr != nil {
			err = fmt.Errorf("%w; removing the records again failed too: %v", err, rerr)
		}
		return nil, err
	}
	return out, nil
}

// waitVisible checks every TXT record of recs in parallel (at most
// checkParallel at once in the process), each first asked at once, until
// all are served or PropagationCheck has passed since the call.
func (m *Module) waitVisible(ctx context.Context, zone string, recs []libdns.Record) error {
	timeout := time.Duration(m.PropagationCheck)
	deadline := time.Now().Add(timeout)
	type txt struct{ name, value string }
	var txts []txt
	for _, r := range recs {
		if rr := r.RR(); rr.Type == "TXT" {
			txts = append(txts, txt{libdns.AbsoluteName(rr.Name, zone), rr.Data})
		}
	}
	errs := make([]error, len(txts))
	slotCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var wg sync.WaitGroup
	for i, t := range txts {
		wg.Go(func() {
			select {
			case checkSlots <- struct{}{}:
				defer func() { <-checkSlots }()
			case <-slotCtx.Done():
				errs[i] = fmt.Errorf("TXT %s: not checked: %w", t.name, context.Cause(slotCtx))
				return
			}
			c := *m.checker
			if c.Timeout = time.Until(deadline); c.Timeout <= 0 {
				errs[i] = fmt.Errorf("TXT %s: not checked: %w", t.name, context.DeadlineExceeded)
				return
			}
			errs[i] = c.Wait(ctx, zone, t.name, t.value)
		})
	}
	wg.Wait()
	var failed, why []string
	var causes []error
	for i, err := range errs {
		if err != nil {
			failed = append(failed, txts[i].name)
			why = append(why, err.Error())
			causes = append(causes, err)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	where := "the authoritative servers of zone " + zone
	if len(m.checker.Resolvers) > 0 {
		where = strings.Join(m.checker.Resolvers, ", ")
	}
	return &checkError{
		msg:    fmt.Sprintf("propagation check: TXT %s not served by %s within %v (%s)", strings.Join(failed, ", "), where, timeout, strings.Join(why, "; ")),
		causes: causes,
	}
}

// checkError is the propagation check's error: one line, wrapping the
// error of each record not seen.
type checkError struct {
	msg    string
	causes []error
}

func (e *checkError) Error() string   { return e.msg }
func (e *checkError) Unwrap() []error { return e.causes }

// SetRecords forwards to the provider.
func (m *Module) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return m.Provider.SetRecords(ctx, zone, recs)
}

// DeleteRecords forwards to the provider.
func (m *Module) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return m.Provider.DeleteRecords(ctx, zone, recs)
}

// ListZones forwards to the provider.
func (m *Module) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	return m.Provider.ListZones(ctx)
}

// Interface guards.
var (
	_ caddy.Module          = (*Module)(nil)
	_ caddy.Provisioner     = (*Module)(nil)
	_ caddyfile.Unmarshaler = (*Module)(nil)
	_ certmagic.DNSProvider = (*Module)(nil)
	_ providers.Provider    = (*Module)(nil)
	_ json.Marshaler        = (*Module)(nil)
	_ json.Unmarshaler      = (*Module)(nil)
)
