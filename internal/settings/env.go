package settings

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Env reads the environment: the value of a variable and whether it is set.
// Every reading method also takes the contents of the file named by
// NAME_FILE.
type Env func(name string) (string, bool)

// OSEnv reads the process environment.
var OSEnv Env = os.LookupEnv

// Has reports whether NAME or NAME_FILE is set and not empty.
func (e Env) Has(name string) bool {
	v, ok := e(name)
	f, fok := e(name + "_FILE")
	return (ok && v != "") || (fok && f != "")
}

// Get returns the value of name (spaces trimmed) or the contents of the file
// named by name_FILE (trailing newlines removed); "" when neither is set.
// Setting both is an error.
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

// Bool reads true/false (also 1/0, yes/no, on/off); def when unset.
func (e Env) Bool(name string, def bool) (bool, error) {
	v, err := e.Get(name)
	if err != nil || v == "" {
		return def, err
	}
	b, ok := parseBool(v)
	if !ok {
		return def, fmt.Errorf("%s=%q is invalid: use true or false", name, v)
	}
	return b, nil
}

// FromEnv returns a new provider holding the descriptor's settings read from
// env (PREFIX_KEY or PREFIX_KEY_FILE), checked by every rule. Errors are one
// line naming the variable and the fix; they never contain a secret value.
func (d *Descriptor) FromEnv(env Env) (any, error) {
	if err := d.Bind(); err != nil {
		return nil, err
	}
	p := d.New()
	for i := range d.Settings {
		s := &d.Settings[i]
		name := d.EnvName(s)
		v, err := env.Get(name)
		if err != nil {
			return nil, err
		}
		if v == "" {
			continue
		}
		if err := d.Parse(p, s.Key, v, name, nil); err != nil {
			return nil, err
		}
	}
	if err := d.Check(p, d.EnvNaming(), nil); err != nil {
		return nil, err
	}
	return p, nil
}

// InEnv reports whether any credential of the descriptor is set in env.
func (d *Descriptor) InEnv(env Env) bool {
	for _, s := range d.Credentials() {
		if env.Has(d.EnvName(s)) {
			return true
		}
	}
	return false
}

// EnvSecrets returns the secret values of the descriptor set in env, for
// redaction of output. Unreadable files are skipped.
func (d *Descriptor) EnvSecrets(env Env) []string {
	var out []string
	for i := range d.Settings {
		if s := &d.Settings[i]; s.Secret {
			if v, err := env.Get(d.EnvName(s)); err == nil && v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}
