// Package providers is the registry of supported DNS providers: each one's
// name, its environment variables, and how to build its libdns provider from
// them. Every surface that is configured from the environment (the hook
// binary, the lego provider) builds providers here, so the variable names and
// their errors are the same everywhere.
package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/libdns/libdns"
)

// Provider is what every surface needs of a provider: the four libdns record
// interfaces and ZoneLister.
type Provider interface {
	libdns.RecordGetter
	libdns.RecordAppender
	libdns.RecordSetter
	libdns.RecordDeleter
	libdns.ZoneLister
}

// Var is one setting read from the environment.
type Var struct {
	Name   string // e.g. MIJNHOST_API_KEY; NAME_FILE is also read
	Secret bool   // never printed
	Help   string
}

// Options are the parts of a provider that do not come from the environment.
type Options struct {
	HTTPClient *http.Client
	// Lock serialises zone writes across processes (see zone.Options.Lock).
	Lock func(ctx context.Context, key string) (unlock func(), err error)
}

// Spec describes one provider.
type Spec struct {
	Name  string // as given to --provider / ACME_HOOK_PROVIDER
	Title string // as the provider calls itself
	// Prefix starts every variable of this provider ("MIJNHOST_"), as in
	// lego, so PREFIX_PROPAGATION_TIMEOUT and friends apply to it.
	Prefix string
	Vars   []Var
	// Credentials are the variables whose presence selects this provider
	// when ACME_HOOK_PROVIDER is unset.
	Credentials []string
	build       func(env Env, opts Options) (Provider, error)
}

// New builds the provider from env. Errors name the variable and the fix.
func (s *Spec) New(env Env, opts Options) (Provider, error) { return s.build(env, opts) }

// specs holds every provider, sorted by name; each provider's file adds its
// own with register.
var specs []*Spec

func register(s *Spec) *Spec {
	i, _ := slices.BinarySearchFunc(specs, s.Name, func(a *Spec, name string) int { return strings.Compare(a.Name, name) })
	specs = slices.Insert(specs, i, s)
	return s
}

// All returns every provider, sorted by name.
func All() []*Spec { return specs }

// Names returns the provider names.
func Names() []string {
	var out []string
	for _, s := range specs {
		out = append(out, s.Name)
	}
	return out
}

// Lookup returns the provider called name.
func Lookup(name string) (*Spec, error) {
	for _, s := range specs {
		if s.Name == strings.ToLower(strings.TrimSpace(name)) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unknown provider %q: use one of %s", name, strings.Join(Names(), ", "))
}

// Select returns the provider named by flag, else by ACME_HOOK_PROVIDER, else
// the only one whose credentials are set in env.
func Select(flag string, env Env) (*Spec, error) {
	if flag != "" {
		return Lookup(flag)
	}
	if name, _ := env.Get("ACME_HOOK_PROVIDER"); name != "" {
		s, err := Lookup(name)
		if err != nil {
			return nil, fmt.Errorf("ACME_HOOK_PROVIDER: %w", err)
		}
		return s, nil
	}
	var found []*Spec
	for _, s := range specs {
		if slices.ContainsFunc(s.Credentials, env.Has) {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, fmt.Errorf("no provider selected: set ACME_HOOK_PROVIDER (%s) and its credentials, e.g. MIJNHOST_API_KEY", strings.Join(Names(), ", "))
	}
	var names []string
	for _, s := range found {
		names = append(names, s.Name)
	}
	return nil, fmt.Errorf("credentials for several providers are set (%s): choose one with ACME_HOOK_PROVIDER or --provider", strings.Join(names, ", "))
}

// Env reads settings: NAME from the environment, or the contents of the file
// named by NAME_FILE.
type Env func(name string) (string, bool)

// OSEnv reads the process environment.
var OSEnv Env = os.LookupEnv

// Has reports whether NAME or NAME_FILE is set and not empty.
func (e Env) Has(name string) bool {
	v, ok := e(name)
	f, fok := e(name + "_FILE")
	return (ok && v != "") || (fok && f != "")
}

// Get returns the value of name or of the file named by name_FILE (one
// trailing newline removed); "" when neither is set.
func (e Env) Get(name string) (string, error) {
	v, ok := e(name)
	path, fok := e(name + "_FILE")
	if fok && path != "" {
		if ok && v != "" {
			return "", fmt.Errorf("%s and %s_FILE are both set: keep one", name, name)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", name, errors.Unwrap(err))
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return strings.TrimSpace(v), nil
}

// Required is Get that fails when the value is empty; what describes it.
func (e Env) Required(name, what string) (string, error) {
	v, err := e.Get(name)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("%s is not set: set it (or %s_FILE) to %s", name, name, what)
	}
	return v, nil
}

// Seconds reads a whole number of seconds within [lo, hi]; 0 when unset.
func (e Env) Seconds(name string, lo, hi int) (int, error) {
	v, err := e.Get(name)
	if err != nil || v == "" {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s=%q is invalid: use whole seconds from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

// Bool reads true/false (also 1/0, yes/no); def when unset.
func (e Env) Bool(name string, def bool) (bool, error) {
	v, err := e.Get(name)
	if err != nil || v == "" {
		return def, err
	}
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return def, fmt.Errorf("%s=%q is invalid: use true or false", name, v)
}

// Secrets returns the values of every secret variable of every provider that
// is set in env, for redaction of output.
func Secrets(env Env) []string {
	var out []string
	for _, s := range specs {
		for _, v := range s.Vars {
			if v.Secret {
				if val, err := env.Get(v.Name); err == nil && val != "" {
					out = append(out, val)
				}
			}
		}
	}
	return out
}
