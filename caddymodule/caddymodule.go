// Package caddymodule registers this project's libdns providers as Caddy v2
// modules, one per provider, with ID dns.providers.<name>: mijnhost,
// realtimeregister, hostup and xynta. Import it for its side effect, or build Caddy with
//
//	xcaddy build --with github.com/acme-dns-hook/acme-dns-hook/caddymodule
//
// The JSON config of a module is the libdns provider's own JSON plus the
// module name, e.g. {"name":"mijnhost","api_key":"{env.MIJNHOST_API_KEY}"}.
// In a Caddyfile:
//
//	dns mijnhost {env.MIJNHOST_API_KEY}
//
//	dns mijnhost {
//		api_key {env.MIJNHOST_API_KEY}
//		api_url https://mijn.host/api/v2/
//		ttl     2m
//	}
//
// Every module implements all four libdns record interfaces and
// libdns.ZoneLister, so it works in a site's tls block, in the acme_dns
// global option, and in the global dns option.
package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/certmagic"
	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/hostup"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/mijnhost"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/realtimeregister"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/xynta"
)

// The providers, one descriptor each: name, constructor, the setting the
// short form sets, and every setting with its struct field.
func init() {
	register(&spec[*mijnhost.Provider]{
		name:  "mijnhost",
		new:   func() *mijnhost.Provider { return new(mijnhost.Provider) },
		short: "api_key",
		fields: []field[*mijnhost.Provider]{
			text("api_key", true, func(p *mijnhost.Provider) *string { return &p.APIKey }),
			text("api_url", false, func(p *mijnhost.Provider) *string { return &p.APIURL }),
			seconds("ttl", func(p *mijnhost.Provider) *int { return &p.TTL }),
		},
	})
	register(&spec[*realtimeregister.Provider]{
		name:  "realtimeregister",
		new:   func() *realtimeregister.Provider { return new(realtimeregister.Provider) },
		short: "api_key",
		fields: []field[*realtimeregister.Provider]{
			text("api_key", false, func(p *realtimeregister.Provider) *string { return &p.APIKey }),
			text("username", false, func(p *realtimeregister.Provider) *string { return &p.Username }),
			text("password", false, func(p *realtimeregister.Provider) *string { return &p.Password }),
			text("auth", false, func(p *realtimeregister.Provider) *string { return &p.Auth }),
			text("api_url", false, func(p *realtimeregister.Provider) *string { return &p.APIURL }),
			boolean("ote", func(p *realtimeregister.Provider) *bool { return &p.OTE }),
			text("zone_service", false, func(p *realtimeregister.Provider) *string { return &p.ZoneService }),
			seconds("ttl", func(p *realtimeregister.Provider) *int { return &p.TTL }),
		},
		check: func(p *realtimeregister.Provider) error {
			if p.APIKey == "" && (p.Username == "" || p.Password == "") {
				return errors.New("set api_key, or username and password")
			}
			return nil
		},
	})
	register(&spec[*hostup.Provider]{
		name:  "hostup",
		new:   func() *hostup.Provider { return new(hostup.Provider) },
		short: "api_key",
		fields: []field[*hostup.Provider]{
			text("api_key", true, func(p *hostup.Provider) *string { return &p.APIKey }),
			text("api_url", false, func(p *hostup.Provider) *string { return &p.APIURL }),
			seconds("ttl", func(p *hostup.Provider) *int { return &p.TTL }),
		},
	})
	register(&spec[*xynta.Provider]{
		name: "xynta",
		new:  func() *xynta.Provider { return new(xynta.Provider) },
		fields: []field[*xynta.Provider]{
			text("uid", true, func(p *xynta.Provider) *string { return &p.UID }),
			text("hash", true, func(p *xynta.Provider) *string { return &p.Hash }),
			text("api_url", false, func(p *xynta.Provider) *string { return &p.APIURL }),
			seconds("ttl", func(p *xynta.Provider) *int { return &p.TTL }),
		},
	})
}

// Module is the Caddy module of one provider, dns.providers.<name>. Its JSON
// is exactly the libdns provider's JSON (keys are the provider's json tags),
// and every libdns method forwards to Provider. Go does not allow embedding
// a type parameter, so the provider is a named field instead of embedded.
type Module[P providers.Provider] struct {
	// Provider is the libdns provider the module configures; after
	// Provision its text settings hold the values placeholders expanded to.
	Provider P
	spec     *spec[P]
}

// spec describes a provider's module: its name, how to make an empty
// provider, and its settings.
type spec[P providers.Provider] struct {
	name   string
	new    func() P
	short  string // setting that "dns <name> ARG" sets; "" if none
	fields []field[P]
	// check, when set, validates settings that are required together.
	check func(P) error
}

// field is one setting: a Caddyfile subdirective named like its JSON key.
// Exactly one of text, secs and flag is set.
type field[P any] struct {
	name     string
	required bool
	text     func(P) *string // placeholders are expanded in Provision
	secs     func(P) *int    // Caddyfile: whole seconds or a duration ("2m")
	flag     func(P) *bool   // Caddyfile: true or false
}

func text[P any](name string, required bool, f func(P) *string) field[P] {
	return field[P]{name: name, required: required, text: f}
}

func seconds[P any](name string, f func(P) *int) field[P] {
	return field[P]{name: name, secs: f}
}

func boolean[P any](name string, f func(P) *bool) field[P] {
	return field[P]{name: name, flag: f}
}

func register[P providers.Provider](s *spec[P]) {
	caddy.RegisterModule(&Module[P]{Provider: s.new(), spec: s})
}

func (s *spec[P]) id() string { return "dns.providers." + s.name }

// set parses one Caddyfile value into the setting.
func (f field[P]) set(p P, val string) error {
	if f.text != nil {
		*f.text(p) = val
		return nil
	}
	if f.flag != nil {
		b, err := strconv.ParseBool(val)
		if err != nil {
			return fmt.Errorf("%s '%s' is invalid: use true or false", f.name, val)
		}
		*f.flag(p) = b
		return nil
	}
	n, err := strconv.Atoi(val)
	if err != nil {
		d, derr := caddy.ParseDuration(val)
		if derr != nil {
			return fmt.Errorf("%s '%s' is invalid: use whole seconds or a duration like 2m", f.name, val)
		}
		if d%time.Second != 0 {
			return fmt.Errorf("%s '%s' is invalid: use whole seconds", f.name, val)
		}
		n = int(d / time.Second)
	}
	if n <= 0 {
		return fmt.Errorf("%s '%s' is invalid: it must be positive", f.name, val)
	}
	*f.secs(p) = n
	return nil
}

// empty reports whether the setting holds no value.
func (f field[P]) empty(p P) bool {
	switch {
	case f.text != nil:
		return strings.TrimSpace(*f.text(p)) == ""
	case f.flag != nil:
		return !*f.flag(p)
	}
	return *f.secs(p) == 0
}

// CaddyModule returns the module's ID (dns.providers.<name>) and constructor.
func (m *Module[P]) CaddyModule() caddy.ModuleInfo {
	s := m.spec
	return caddy.ModuleInfo{
		ID:  caddy.ModuleID(s.id()),
		New: func() caddy.Module { return &Module[P]{Provider: s.new(), spec: s} },
	}
}

// MarshalJSON encodes the provider's settings.
func (m *Module[P]) MarshalJSON() ([]byte, error) { return json.Marshal(m.Provider) }

// UnmarshalJSON decodes the provider's settings, rejecting unknown keys as
// Caddy does for every module. (Caddy names the module in its errors.)
func (m *Module[P]) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(m.Provider)
}

var placeholder = regexp.MustCompile(`\{[^{}\s]+\}`)

// Provision expands placeholders ({env.NAME}, {file.PATH}, …) in every text
// setting and fails, naming the setting and its placeholders, when a required
// one ends up empty. Caddy prefixes its errors with "provision <module ID>".
func (m *Module[P]) Provision(caddy.Context) error {
	repl := caddy.NewReplacer()
	for _, f := range m.spec.fields {
		if f.text == nil {
			continue
		}
		v := f.text(m.Provider)
		orig := *v
		*v = repl.ReplaceAll(orig, "")
		if !f.required || !f.empty(m.Provider) {
			continue
		}
		if phs := placeholder.FindAllString(orig, -1); len(phs) > 0 {
			return fmt.Errorf("%s is empty after replacing placeholders (%s?)", f.name, explainEmpty(phs))
		}
		return fmt.Errorf("%s is not set", f.name)
	}
	if m.spec.check != nil {
		return m.spec.check(m.Provider)
	}
	return nil
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
// rejecting unknown settings, extra arguments, a setting given twice, and a
// missing required setting.
func (m *Module[P]) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	s := m.spec
	seen := map[string]bool{}
	setField := func(name string) error {
		i := slices.IndexFunc(s.fields, func(f field[P]) bool { return f.name == name })
		if i < 0 {
			return d.Errf("%s: unrecognized subdirective '%s' (known: %s)", s.id(), name, strings.Join(s.names(), ", "))
		}
		if seen[name] {
			return d.Errf("%s: %s is given twice", s.id(), name)
		}
		seen[name] = true
		if err := s.fields[i].set(m.Provider, d.Val()); err != nil {
			return d.Errf("%s: %v", s.id(), err)
		}
		return nil
	}

	d.Next() // the provider name
	if d.NextArg() {
		if s.short == "" {
			return d.Errf("%s: unexpected argument '%s': put the settings in a block", s.id(), d.Val())
		}
		if err := setField(s.short); err != nil {
			return err
		}
	}
	if d.NextArg() {
		return d.Errf("%s: unexpected argument '%s'", s.id(), d.Val())
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		if !d.NextArg() {
			return d.Errf("%s: %s needs a value", s.id(), name)
		}
		if err := setField(name); err != nil {
			return err
		}
		if d.NextArg() {
			return d.Errf("%s: %s: unexpected argument '%s'", s.id(), name, d.Val())
		}
	}
	for _, f := range s.fields {
		if f.required && f.empty(m.Provider) {
			return d.Errf("%s: missing %s", s.id(), f.name)
		}
	}
	if s.check != nil {
		if err := s.check(m.Provider); err != nil {
			return d.Errf("%s: %v", s.id(), err)
		}
	}
	return nil
}

func (s *spec[P]) names() []string {
	out := make([]string, len(s.fields))
	for i, f := range s.fields {
		out[i] = f.name
	}
	return out
}

// GetRecords forwards to the provider.
func (m *Module[P]) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	return m.Provider.GetRecords(ctx, zone)
}

// AppendRecords forwards to the provider.
func (m *Module[P]) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return m.Provider.AppendRecords(ctx, zone, recs)
}

// SetRecords forwards to the provider.
func (m *Module[P]) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return m.Provider.SetRecords(ctx, zone, recs)
}

// DeleteRecords forwards to the provider.
func (m *Module[P]) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return m.Provider.DeleteRecords(ctx, zone, recs)
}

// ListZones forwards to the provider.
func (m *Module[P]) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	return m.Provider.ListZones(ctx)
}

// Interface guards. Module's methods are the same for every provider, so
// checking one instantiation checks them all.
var (
	_ caddy.Module          = (*Module[*mijnhost.Provider])(nil)
	_ caddy.Provisioner     = (*Module[*mijnhost.Provider])(nil)
	_ caddyfile.Unmarshaler = (*Module[*mijnhost.Provider])(nil)
	_ certmagic.DNSProvider = (*Module[*mijnhost.Provider])(nil)
	_ libdns.RecordGetter   = (*Module[*mijnhost.Provider])(nil)
	_ libdns.RecordAppender = (*Module[*mijnhost.Provider])(nil)
	_ libdns.RecordSetter   = (*Module[*mijnhost.Provider])(nil)
	_ libdns.RecordDeleter  = (*Module[*mijnhost.Provider])(nil)
	_ libdns.ZoneLister     = (*Module[*mijnhost.Provider])(nil)
	_ json.Marshaler        = (*Module[*mijnhost.Provider])(nil)
	_ json.Unmarshaler      = (*Module[*mijnhost.Provider])(nil)
)
