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
	"regexp"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/certmagic"
	"github.com/libdns/libdns"

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
	d        *settings.Descriptor
}

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

// MarshalJSON encodes the provider's settings.
func (m *Module) MarshalJSON() ([]byte, error) { return json.Marshal(m.Provider) }

// UnmarshalJSON decodes the provider's settings, rejecting unknown keys as
// Caddy does for every module. (Caddy names the module in its errors.)
func (m *Module) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
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
func (m *Module) Provision(caddy.Context) error { return provisionSettings(m.d, m.Provider) }

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
func (m *Module) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return unmarshalSettings(d, m.d, m.Provider, m.id())
}

// unmarshalSettings reads `<name> [<short>] { <setting> <value> … }` into
// p, the settings of descriptor desc, for the module with ID id.
func unmarshalSettings(d *caddyfile.Dispenser, desc *settings.Descriptor, p any, id string) error {
	seen := map[string]bool{}
	set := func(key string) error {
		if desc.Setting(key) == nil {
			return d.Errf("%s: unrecognized subdirective '%s' (known: %s)", id, key, strings.Join(desc.Keys(), ", "))
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

// AppendRecords forwards to the provider.
func (m *Module) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return m.Provider.AppendRecords(ctx, zone, recs)
}

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
