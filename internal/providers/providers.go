// Package providers builds the registered DNS providers for the surfaces
// that are configured from the environment (the hook binary, the lego
// providers) and chooses among them. Which providers exist, and every
// setting each one has, comes from their descriptors (package settings);
// this package adds nothing per provider.
package providers

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/zone"
)

// Provider is what every surface needs of a provider: the four libdns record
// interfaces and ZoneLister. Every registered provider implements it.
type Provider interface {
	libdns.RecordGetter
	libdns.RecordAppender
	libdns.RecordSetter
	libdns.RecordDeleter
	libdns.ZoneLister
}

// Options are the parts of a provider that do not come from its settings.
type Options struct {
	HTTPClient *http.Client
	// Lock serialises zone writes across processes (see zone.Options.Lock).
	Lock func(ctx context.Context, key string) (unlock func(), err error)
	// GroupWindow is the zone engine's group-commit window (see
	// zone.Options.GroupWindow): zero keeps the default, negative turns it off.
	GroupWindow time.Duration
	// ZoneList keeps the account's zone list beyond the process (see
	// zone.Options.ZoneList); one per account, since it is given no key.
	ZoneList zone.ZoneListStore
}

// All returns every registered provider's descriptor, sorted by name.
func All() []*settings.Descriptor { return settings.All() }

// Names returns the provider names, sorted.
func Names() []string {
	var out []string
	for _, d := range All() {
		out = append(out, d.Name)
	}
	return out
}

// Lookup returns the descriptor of the provider called name.
func Lookup(name string) (*settings.Descriptor, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, d := range All() {
		if d.Name == n {
			return d, nil
		}
	}
	return nil, fmt.Errorf("unknown provider %q: use one of %s", name, strings.Join(Names(), ", "))
}

// Select returns the providers named by flag, else by ACME_HOOK_PROVIDER
// (a name, or a comma list of names), else every provider whose
// credentials are set in env, in the order named (else sorted by name).
func Select(flag string, env settings.Env) ([]*settings.Descriptor, error) {
	if flag != "" {
		return lookupList(flag)
	}
	if names, _ := env.Get("ACME_HOOK_PROVIDER"); names != "" {
		ds, err := lookupList(names)
		if err != nil {
			return nil, fmt.Errorf("ACME_HOOK_PROVIDER: %w", err)
		}
		return ds, nil
	}
	var found []*settings.Descriptor
	for _, c := range All() {
		if c.InEnv(env) {
			found = append(found, c)
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("no provider selected: set ACME_HOOK_PROVIDER (%s, or several separated by commas) and its credentials (acme-dns-hook --help lists them)", strings.Join(Names(), ", "))
	}
	return found, nil
}

// lookupList looks up every name of a comma list; a name given twice counts
// once.
func lookupList(list string) ([]*settings.Descriptor, error) {
	var out []*settings.Descriptor
	for _, name := range strings.Split(list, ",") {
		if strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("empty provider name in %q: use one of %s, or several separated by commas", list, strings.Join(Names(), ", "))
		}
		d, err := Lookup(name)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// New builds provider d from env (PREFIX_KEY or PREFIX_KEY_FILE for each
// setting) with opts. Errors name the variable and the fix, and never hold
// a secret.
func New(d *settings.Descriptor, env settings.Env, opts Options) (Provider, error) {
	p, err := d.FromEnv(env)
	if err != nil {
		return nil, err
	}
	return Configure(p, opts)
}

// Configure sets opts in a provider made by a descriptor's New (its
// HTTPClient, Lock, GroupWindow and ZoneList fields, each set only when the
// option is) and returns it as a Provider. A provider lacking a field an
// option needs is an error naming the field; nothing is set then.
func Configure(p any, opts Options) (Provider, error) {
	v := reflect.ValueOf(p).Elem()
	var sets []func()
	for _, o := range []struct {
		field string
		set   bool
		value reflect.Value
	}{
		{"HTTPClient", opts.HTTPClient != nil, reflect.ValueOf(opts.HTTPClient)},
		{"Lock", opts.Lock != nil, reflect.ValueOf(opts.Lock)},
		{"GroupWindow", opts.GroupWindow != 0, reflect.ValueOf(opts.GroupWindow)},
		{"ZoneList", opts.ZoneList != nil, reflect.ValueOf(&opts.ZoneList).Elem()},
	} {
		if !o.set {
			continue
		}
		f := v.FieldByName(o.field)
		if !f.IsValid() || !f.CanSet() || !o.value.Type().AssignableTo(f.Type()) {
			return nil, fmt.Errorf("%T has no field %s of type %s: a registered provider needs it", p, o.field, o.value.Type())
		}
		sets = append(sets, func() { f.Set(o.value) })
	}
	for _, set := range sets {
		set()
	}
	prov, ok := p.(Provider)
	if !ok {
		return nil, fmt.Errorf("%T is not a libdns provider with zone listing", p)
	}
	return prov, nil
}

// Secrets returns the values of every secret setting of every provider that
// is set in env, for redaction of output.
func Secrets(env settings.Env) []string {
	var out []string
	for _, d := range All() {
		out = append(out, d.EnvSecrets(env)...)
	}
	return out
}

// Help describes every provider's environment variables, one provider a
// paragraph, as --help shows them.
func Help() string {
	var b strings.Builder
	for _, d := range All() {
		fmt.Fprintf(&b, "\n%s (%s):\n", d.Name, d.Title)
		for i := range d.Settings {
			s := &d.Settings[i]
			fmt.Fprintf(&b, "  %-30s %s\n", d.EnvName(s), s.Describe())
		}
		if r := d.Rule(d.EnvNaming()); r != "" {
			fmt.Fprintf(&b, "  credentials: %s\n", r)
		}
	}
	return b.String()
}

// Table is README's table of provider d's settings, in Markdown: each
// setting's environment variable, its libdns/Caddy key and its help, then
// the rule between credentials, if any.
func Table(d *settings.Descriptor) string {
	var b strings.Builder
	b.WriteString("| variable (also `_FILE`) | libdns / Caddy field | meaning |\n|---|---|---|\n")
	for i := range d.Settings {
		s := &d.Settings[i]
		meaning := s.Describe()
		if s.Secret {
			meaning += "; secret: never printed"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", d.EnvName(s), s.Key, meaning)
	}
	if r := d.Rule(settings.Keys); r != "" {
		fmt.Fprintf(&b, "\nCredentials: %s.\n", r)
	}
	return b.String()
}
