// Package settings declares a provider's settings once, in a [Descriptor],
// and reads and checks them the same way on every surface: the environment
// (with NAME_FILE), a Caddyfile or JSON config, and a libdns provider whose
// fields were set by hand. Every surface names a setting its own way
// (<PREFIX>_TTL, ttl), but the rules and their wording are the descriptor's.
//
// A descriptor describes a provider struct: each [Setting] is the struct
// field whose JSON tag is the setting's Key. [Descriptor.Bind] checks that
// once, so a setting without its field is a programming error caught at
// start-up, not at the first certificate.
package settings

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Kind is how a setting's value is written and stored.
type Kind uint8

const (
	// Text is a string field.
	Text Kind = iota
	// Seconds is an int field holding whole seconds. The environment takes
	// whole seconds; a Caddyfile also takes a duration such as 2m.
	Seconds
	// Bool is a bool field: true or false (also 1/0, yes/no, on/off).
	Bool
)

// Setting is one setting of a provider.
type Setting struct {
	// Key is the JSON key and Caddyfile subdirective ("api_key"); the
	// provider struct field with this JSON tag holds the value. The
	// environment variable is the descriptor's Env prefix followed by Key in
	// upper case (<PREFIX>_API_KEY).
	Key  string
	Kind Kind
	// Secret values are never printed; every surface redacts them.
	Secret bool
	// Required settings must be set. Alternatives go in Descriptor.OneOf.
	Required bool
	// Min and Max bound a Seconds value when it is set (0 means unset and
	// takes Default).
	Min, Max int
	// Choices are the values a Text setting may take, matched without
	// regard to case; the stored value is the choice as written here.
	Choices []string
	// Format, when set, checks a Text value further; its error says what
	// is expected ("use customer/login, …").
	Format func(string) error
	// Requires is the Key of a setting that must be set when this one is.
	Requires string
	// Default documents the value used when the setting is unset.
	Default string
	// Help says what to set: a noun phrase ("the API key from …").
	Help string
}

// Descriptor is a provider's one declaration: its names and every setting.
// A Descriptor must not be copied after [Descriptor.Bind].
type Descriptor struct {
	// Name is the provider's name on every surface: --provider, the Caddy
	// module dns.providers.<Name>, the cert-manager solver.
	Name string
	// Title is how the provider calls itself ("mijn.host").
	Title string
	// Experimental marks a provider whose API is not documented by its
	// vendor; surfaces say so.
	Experimental bool
	// Env prefixes every environment variable of the provider
	// ("<PREFIX>_"), as lego does, so PREFIX_PROPAGATION_TIMEOUT and
	// friends apply to it.
	Env string
	// Short is the Key a Caddyfile's one-argument form sets
	// ("dns <name> KEY"); empty if there is no short form.
	Short string
	// Settings in the order help lists them.
	Settings []Setting
	// OneOf lists alternative groups of Keys: exactly one group must be set,
	// all of it, and no Key of another group (Realtime Register: an API
	// key, or a username and password).
	OneOf [][]string
	// Exclusive lists pairs of Keys that must not both be set.
	Exclusive [][2]string
	// New returns a new, empty provider: a pointer to the struct the
	// settings describe.
	New func() any

	once   sync.Once
	err    error
	fields map[string][]int // Key -> struct field index
}

// Bind checks that every setting has its field in the provider struct, of
// the right type, and that every Key the rules name exists. It is called by
// every method that touches a provider; calling it first reports a broken
// descriptor early.
func (d *Descriptor) Bind() error {
	d.once.Do(func() { d.err = d.bind() })
	return d.err
}

func (d *Descriptor) bind() error {
	if d.New == nil {
		return fmt.Errorf("settings: descriptor %s has no New", d.Name)
	}
	t := reflect.TypeOf(d.New())
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("settings: %s: New must return a pointer to a struct, not %v", d.Name, t)
	}
	t = t.Elem()
	byTag := map[string][]int{}
	for _, f := range reflect.VisibleFields(t) {
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" && tag != "-" && f.IsExported() {
			byTag[tag] = f.Index
		}
	}
	d.fields = map[string][]int{}
	want := map[Kind]reflect.Kind{Text: reflect.String, Seconds: reflect.Int, Bool: reflect.Bool}
	for i := range d.Settings {
		s := &d.Settings[i]
		idx, ok := byTag[s.Key]
		if !ok {
			return fmt.Errorf("settings: %s: no field of %s has the JSON key %q", d.Name, t, s.Key)
		}
		if k := t.FieldByIndex(idx).Type.Kind(); k != want[s.Kind] {
			return fmt.Errorf("settings: %s: field %q is a %s, want %s", d.Name, s.Key, k, want[s.Kind])
		}
		d.fields[s.Key] = idx
	}
	var keys []string
	for _, g := range d.OneOf {
		keys = append(keys, g...)
	}
	for _, p := range d.Exclusive {
		keys = append(keys, p[0], p[1])
	}
	if d.Short != "" {
		keys = append(keys, d.Short)
	}
	for _, s := range d.Settings {
		if s.Requires != "" {
			keys = append(keys, s.Requires)
		}
	}
	for _, k := range keys {
		if _, ok := d.fields[k]; !ok {
			return fmt.Errorf("settings: %s: a rule names %q, which is not a setting", d.Name, k)
		}
	}
	return nil
}

// Setting returns the setting with key, or nil.
func (d *Descriptor) Setting(key string) *Setting {
	for i := range d.Settings {
		if d.Settings[i].Key == key {
			return &d.Settings[i]
		}
	}
	return nil
}

// Keys returns every setting's Key, in order.
func (d *Descriptor) Keys() []string {
	out := make([]string, len(d.Settings))
	for i, s := range d.Settings {
		out[i] = s.Key
	}
	return out
}

// EnvName returns the environment variable of s (<PREFIX>_API_KEY).
func (d *Descriptor) EnvName(s *Setting) string { return d.Env + strings.ToUpper(s.Key) }

// Credentials returns the settings whose presence in the environment selects
// this provider when none is named: the required ones and those of OneOf.
func (d *Descriptor) Credentials() []*Setting {
	var out []*Setting
	for i := range d.Settings {
		s := &d.Settings[i]
		if s.Required || slices.ContainsFunc(d.OneOf, func(g []string) bool { return slices.Contains(g, s.Key) }) {
			out = append(out, s)
		}
	}
	return out
}

// field returns the struct field of key in provider p.
func (d *Descriptor) field(p any, key string) reflect.Value {
	if err := d.Bind(); err != nil {
		panic(err)
	}
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.Type() != reflect.TypeOf(d.New()) {
		panic(fmt.Sprintf("settings: %s: provider is a %T, want %T", d.Name, p, d.New()))
	}
	return v.Elem().FieldByIndex(d.fields[key])
}

// Value returns the value of key in p as text ("" when unset).
func (d *Descriptor) Value(p any, key string) string {
	f := d.field(p, key)
	switch f.Kind() {
	case reflect.Int:
		if f.Int() == 0 {
			return ""
		}
		return strconv.FormatInt(f.Int(), 10)
	case reflect.Bool:
		if !f.Bool() {
			return ""
		}
		return "true"
	}
	return f.String()
}

// IsSet reports whether key holds a value in p (not blank, not zero).
func (d *Descriptor) IsSet(p any, key string) bool {
	return strings.TrimSpace(d.Value(p, key)) != ""
}

// SetText stores a Text value of key in p as given.
func (d *Descriptor) SetText(p any, key, v string) { d.field(p, key).SetString(v) }

// Parse stores raw as the value of key in p, read by the setting's kind:
// text as is (a choice in its listed spelling), whole seconds, or a boolean.
// durations also accepts a Go or Caddy style duration for Seconds (parse
// turns it into a time.Duration). The error names the setting as name
// gives it and says what to use; p is unchanged then.
func (d *Descriptor) Parse(p any, key, raw string, name string, parseDuration func(string) (int64, error)) error {
	s := d.Setting(key)
	if s == nil {
		return fmt.Errorf("%s is not a setting of %s: use one of %s", key, d.Name, strings.Join(d.Keys(), ", "))
	}
	f := d.field(p, key)
	switch s.Kind {
	case Text:
		if i := slices.IndexFunc(s.Choices, func(c string) bool { return strings.EqualFold(c, strings.TrimSpace(raw)) }); i >= 0 {
			raw = s.Choices[i]
		}
		f.SetString(raw)
	case Bool:
		b, ok := parseBool(raw)
		if !ok {
			return fmt.Errorf("%s=%q is invalid: use true or false", name, raw)
		}
		f.SetBool(b)
	case Seconds:
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil && parseDuration != nil {
			ns, derr := parseDuration(raw)
			if derr == nil && ns%1e9 == 0 {
				n, err = int(ns/1e9), nil
			}
		}
		if err != nil || n <= 0 {
			return fmt.Errorf("%s=%q is invalid: %s", name, raw, s.rangeHint(parseDuration != nil))
		}
		f.SetInt(int64(n))
	}
	return nil
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true, true
	case "0", "false", "no", "off":
		return false, true
	}
	return false, false
}

// rangeHint says what a Seconds setting takes.
func (s *Setting) rangeHint(durations bool) string {
	unit := "whole seconds"
	if durations {
		unit = "whole seconds (or a duration like 2m)"
	}
	if s.Max > 0 {
		return fmt.Sprintf("use %s from %d to %d", unit, max(s.Min, 1), s.Max)
	}
	return "use " + unit
}

// ErrUnset is matched (errors.Is) by every error of [Descriptor.Check] that
// says a required setting is missing.
var ErrUnset = errors.New("a required setting is not set")

type unsetError string

func (e unsetError) Error() string        { return string(e) }
func (e unsetError) Is(target error) bool { return target == ErrUnset }

// Naming is how a surface names settings in its messages.
type Naming struct {
	// Name names s ("ttl", "<PREFIX>_TTL").
	Name func(s *Setting) string
	// Unset says how to set s when it is missing: "set it to …" by default;
	// the environment adds "(or NAME_FILE)".
	Unset func(s *Setting) string
	// Assign shows a bad value as NAME="value", as the environment writes
	// it; otherwise as name "value".
	Assign bool
}

// bad describes value v of s as wrong: `NAME="v" is invalid` or
// `name "v" is invalid`; a secret value is not shown.
func (n Naming) bad(s *Setting, v string) string {
	switch {
	case s.Secret:
		return n.Name(s) + " is invalid"
	case n.Assign:
		return fmt.Sprintf("%s=%q is invalid", n.Name(s), v)
	}
	return fmt.Sprintf("%s %q is invalid", n.Name(s), v)
}

// Keys names settings by Key, as JSON, a Caddyfile and a libdns provider's
// errors do.
var Keys = Naming{Name: func(s *Setting) string { return s.Key }}

// Env names settings by environment variable.
func (d *Descriptor) EnvNaming() Naming {
	return Naming{
		Name: d.EnvName,
		Unset: func(s *Setting) string {
			return fmt.Sprintf("set it (or %s_FILE) to %s", d.EnvName(s), s.Help)
		},
		Assign: true,
	}
}

// Check applies every rule of the descriptor to provider p and returns the
// first violation, as one line that names the setting (as n names it) and
// says what to do. unresolved, when set, reports values that are not final
// yet (a Caddy placeholder): those count as set but are not checked further.
func (d *Descriptor) Check(p any, naming Naming, unresolved func(string) bool) error {
	n := naming
	name := n.Name
	unset := n.Unset
	if unset == nil {
		unset = func(s *Setting) string { return "set it to " + s.Help }
	}
	pending := func(v string) bool { return unresolved != nil && unresolved(v) }
	// Which settings are present and how they combine comes first: a
	// conflict says more than a malformed value of one of its parts.
	for i := range d.Settings {
		s := &d.Settings[i]
		if s.Required && !d.IsSet(p, s.Key) {
			return unsetError(fmt.Sprintf("%s is not set: %s", name(s), unset(s)))
		}
	}
	if len(d.OneOf) > 0 {
		if err := d.checkOneOf(p, n, unset); err != nil {
			return err
		}
	}
	for _, pair := range d.Exclusive {
		if d.IsSet(p, pair[0]) && d.IsSet(p, pair[1]) {
			return fmt.Errorf("%s and %s are both set: keep one", name(d.Setting(pair[0])), name(d.Setting(pair[1])))
		}
	}
	for i := range d.Settings {
		s := &d.Settings[i]
		if r := s.Requires; r != "" && d.IsSet(p, s.Key) && !d.IsSet(p, r) {
			return fmt.Errorf("%s applies only with %s: remove %s or set %s", name(s), name(d.Setting(r)), name(s), name(d.Setting(r)))
		}
	}
	for i := range d.Settings {
		s := &d.Settings[i]
		v := d.Value(p, s.Key)
		if strings.TrimSpace(v) == "" || pending(v) {
			continue
		}
		switch s.Kind {
		case Seconds:
			n, _ := strconv.Atoi(v)
			if n < 0 || (s.Max > 0 && (n < max(s.Min, 1) || n > s.Max)) {
				if naming.Assign {
					return fmt.Errorf("%s: %s", naming.bad(s, v), s.rangeHint(false))
				}
				return fmt.Errorf("%s %d is out of range: %s", name(s), n, s.rangeHint(false))
			}
		case Text:
			if len(s.Choices) > 0 && !slices.ContainsFunc(s.Choices, func(c string) bool { return strings.EqualFold(c, strings.TrimSpace(v)) }) {
				return fmt.Errorf("%s: use %s", naming.bad(s, v), strings.Join(s.Choices, " or "))
			}
			if s.Format != nil {
				if err := s.Format(strings.TrimSpace(v)); err != nil {
					return fmt.Errorf("%s: %w", naming.bad(s, v), err)
				}
			}
		}
	}
	return nil
}

// checkOneOf requires exactly one OneOf group, set completely.
func (d *Descriptor) checkOneOf(p any, n Naming, unset func(*Setting) string) error {
	var started [][]string // groups with at least one key set
	for _, g := range d.OneOf {
		if slices.ContainsFunc(g, func(k string) bool { return d.IsSet(p, k) }) {
			started = append(started, g)
		}
	}
	switch len(started) {
	case 0:
		first := d.Setting(d.OneOf[0][0])
		return unsetError(fmt.Sprintf("%s is not set: %s, or set %s", n.Name(first), unset(first), d.alternatives(n, 1)))
	case 1:
		for _, k := range started[0] {
			if s := d.Setting(k); !d.IsSet(p, k) {
				return unsetError(fmt.Sprintf("%s is not set: %s (it goes with %s)", n.Name(s), unset(s), d.group(n, started[0], k)))
			}
		}
		return nil
	}
	return fmt.Errorf("%s and %s are both set: keep one", d.join(n, started[0], "", "/"), d.join(n, started[1], "", "/"))
}

// alternatives names the OneOf groups from the i-th on ("A and B, or C").
func (d *Descriptor) alternatives(n Naming, from int) string {
	var out []string
	for _, g := range d.OneOf[from:] {
		out = append(out, d.group(n, g, ""))
	}
	return strings.Join(out, ", or ")
}

// group names the keys of g except skip, joined with "and".
func (d *Descriptor) group(n Naming, g []string, skip string) string {
	return d.join(n, g, skip, " and ")
}

func (d *Descriptor) join(n Naming, g []string, skip, sep string) string {
	var out []string
	for _, k := range g {
		if k != skip {
			out = append(out, n.Name(d.Setting(k)))
		}
	}
	return strings.Join(out, sep)
}

// Rule says in words what OneOf requires ("api_key, or username and
// password"), for help texts; "" without alternatives.
func (d *Descriptor) Rule(n Naming) string {
	if len(d.OneOf) == 0 {
		return ""
	}
	return d.alternatives(n, 0)
}

// Secrets returns the values of p's secret settings that are set, for
// redaction.
func (d *Descriptor) Secrets(p any) []string {
	var out []string
	for i := range d.Settings {
		if s := &d.Settings[i]; s.Secret {
			if v := d.Value(p, s.Key); strings.TrimSpace(v) != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// Fingerprint identifies the account p reaches: a hash of every setting's
// value, equal for two providers exactly when they are configured alike.
// It is meant for telling accounts apart within one process (the zone
// engine's Options.Account); it is not to be stored or shown, since a
// hash of a weak password can be guessed.
func (d *Descriptor) Fingerprint(p any) string {
	h := sha256.New()
	for i := range d.Settings {
		k := d.Settings[i].Key
		fmt.Fprintf(h, "%d:%s=%d:%s;", len(k), k, len(d.Value(p, k)), d.Value(p, k))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Describe is the one-line help of s: Help, the allowed values and the
// default.
func (s *Setting) Describe() string {
	var b strings.Builder
	b.WriteString(s.Help)
	switch {
	case s.Kind == Seconds && s.Max > 0:
		fmt.Fprintf(&b, ", %d to %d seconds", max(s.Min, 1), s.Max)
	case len(s.Choices) > 0:
		fmt.Fprintf(&b, ": %s", strings.Join(s.Choices, " or "))
	case s.Kind == Bool:
		b.WriteString(": true or false")
	}
	if s.Default != "" {
		fmt.Fprintf(&b, "; default %s", s.Default)
	}
	if s.Required {
		b.WriteString("; required")
	}
	return b.String()
}

// registry holds every provider's descriptor, sorted by name.
var (
	registryMu sync.Mutex
	registry   []*Descriptor
)

// Register adds a provider's descriptor; each provider's package calls it
// from init. It panics on a descriptor that does not bind or a name taken
// already: both are programming errors.
func Register(d *Descriptor) {
	if err := d.Bind(); err != nil {
		panic(err)
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	i, found := slices.BinarySearchFunc(registry, d.Name, func(a *Descriptor, name string) int { return strings.Compare(a.Name, name) })
	if found {
		panic("settings: provider " + d.Name + " registered twice")
	}
	registry = slices.Insert(registry, i, d)
}

// All returns every registered descriptor, sorted by name.
func All() []*Descriptor {
	registryMu.Lock()
	defer registryMu.Unlock()
	return slices.Clone(registry)
}
