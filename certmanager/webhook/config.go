package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

// ConfigName is the name of setting s in an Issuer's webhook config: its
// descriptor Key in camelCase (api_url → apiUrl), and for a secret setting
// the reference to it (api_key → apiKeySecretRef).
func ConfigName(s *settings.Setting) string {
	if s.Secret {
		return camel(s.Key) + "SecretRef"
	}
	return camel(s.Key)
}

// ConfigNames returns every field the webhook config of provider d may
// hold, in the descriptor's order.
func ConfigNames(d *settings.Descriptor) []string {
	out := make([]string, len(d.Settings))
	for i := range d.Settings {
		out[i] = ConfigName(&d.Settings[i])
	}
	return out
}

// camel turns a descriptor Key (zone_service) into camelCase (zoneService).
func camel(key string) string {
	parts := strings.Split(key, "_")
	for i := 1; i < len(parts); i++ {
		if p := parts[i]; p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}

// SecretRef points at one key of a Secret in the challenge's resource
// namespace (cert-manager's SecretKeySelector shape).
type SecretRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// source says where a setting's value came from, for messages.
type source uint8

const (
	fromConfig source = iota + 1
	fromSecret
	fromEnv
)

// config is one challenge's provider settings, read and checked.
type config struct {
	provider any               // made by the descriptor's New, every setting filled in
	sources  map[string]source // Key -> where its value came from
	refs     map[string]SecretRef
}

// readConfig reads the webhook config raw of provider d: the plain settings
// from raw, each secret from the Secret its <field>SecretRef names in
// namespace ns (through client), and, only when ambient is true, settings
// raw leaves out from env. It checks the result with the descriptor's rules,
// naming each setting as the user gave it. Errors are one sentence naming
// the field and the fix; they never hold a secret value.
func readConfig(ctx context.Context, d *settings.Descriptor, raw []byte, ns string, client kubernetes.Interface, ambient bool, env settings.Env) (*config, error) {
	fields := map[string]json.RawMessage{}
	if t := bytes.TrimSpace(raw); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		if err := json.Unmarshal(t, &fields); err != nil {
			return nil, fmt.Errorf("the webhook config of solver %s is not a JSON object of settings (%s): %w", d.Name, strings.Join(ConfigNames(d), ", "), err)
		}
	}
	c := &config{provider: d.New(), sources: map[string]source{}, refs: map[string]SecretRef{}}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range fields {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		s := settingOf(d, name)
		if s == nil {
			if s := secretNamed(d, name); s != nil {
				return nil, fmt.Errorf("%s of solver %s is a secret and is not taken inline: put it in a Secret and set %s: {name: <Secret>, key: <key>} instead", name, d.Name, ConfigName(s))
			}
			return nil, fmt.Errorf("unknown field %q in the webhook config of solver %s: use %s", name, d.Name, strings.Join(ConfigNames(d), ", "))
		}
		v := fields[name]
		if s.Secret {
			ref, err := readRef(name, v)
			if err != nil {
				return nil, err
			}
			c.refs[s.Key] = ref
			continue
		}
		text, set, err := scalar(s, name, v)
		if err != nil {
			return nil, err
		}
		if !set {
			continue
		}
		if err := d.Parse(c.provider, s.Key, text, name, nil); err != nil {
			return nil, err
		}
		c.sources[s.Key] = fromConfig
	}
	if len(c.refs) > 0 && client == nil {
		return nil, fmt.Errorf("solver %s cannot read Secrets: the webhook has no Kubernetes client (it was not initialised)", d.Name)
	}
	cache := map[string]map[string][]byte{} // Secret name -> data, read once per call
	for _, s := range d.Settings {
		ref, ok := c.refs[s.Key]
		if !ok {
			continue
		}
		v, err := readSecret(ctx, client, ns, ConfigName(&s), ref, cache)
		if err != nil {
			return nil, err
		}
		d.SetText(c.provider, s.Key, v)
		c.sources[s.Key] = fromSecret
	}
	if ambient {
		if err := c.fromEnv(d, env); err != nil {
			return nil, err
		}
	}
	naming := settings.Naming{
		Name: func(s *settings.Setting) string {
			if c.sources[s.Key] == fromEnv {
				return d.EnvName(s)
			}
			return ConfigName(s)
		},
		Unset: func(s *settings.Setting) string {
			if s.Secret {
				return fmt.Sprintf("set it to {name, key} of a Secret in namespace %s holding %s", ns, s.Help)
			}
			return "set it to " + s.Help
		},
	}
	if err := d.Check(c.provider, naming, nil); err != nil {
		return nil, fmt.Errorf("solver %s: %w", d.Name, err)
	}
	return c, nil
}

// fromEnv fills settings the config left unset from the webhook's own
// environment (PREFIX_KEY or PREFIX_KEY_FILE). Credentials come from it
// only when the config names none, so that one account's settings are
// never mixed with another's.
func (c *config) fromEnv(d *settings.Descriptor, env settings.Env) error {
	creds := d.Credentials()
	configured := slices.ContainsFunc(creds, func(s *settings.Setting) bool { return c.sources[s.Key] != 0 })
	for i := range d.Settings {
		s := &d.Settings[i]
		if c.sources[s.Key] != 0 || (configured && slices.Contains(creds, s)) {
			continue
		}
		name := d.EnvName(s)
		v, err := env.Get(name)
		if err != nil {
			return fmt.Errorf("the webhook's environment: %w", err)
		}
		if v == "" {
			continue
		}
		if err := d.Parse(c.provider, s.Key, v, name, nil); err != nil {
			return fmt.Errorf("the webhook's environment: %w", err)
		}
		c.sources[s.Key] = fromEnv
	}
	return nil
}

// settingOf returns the setting whose config field is name.
func settingOf(d *settings.Descriptor, name string) *settings.Setting {
	for i := range d.Settings {
		if ConfigName(&d.Settings[i]) == name {
			return &d.Settings[i]
		}
	}
	return nil
}

// secretNamed returns the secret setting whose plain camelCase name is name
// (apiKey), which the config must give as a reference instead.
func secretNamed(d *settings.Descriptor, name string) *settings.Setting {
	for i := range d.Settings {
		if s := &d.Settings[i]; s.Secret && strings.EqualFold(camel(s.Key), name) {
			return s
		}
	}
	return nil
}

// readRef decodes a <field>SecretRef: {name, key}, both required, nothing
// else.
func readRef(field string, v json.RawMessage) (SecretRef, error) {
	var ref SecretRef
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ref); err != nil {
		return ref, fmt.Errorf("%s must be {name: <Secret>, key: <key in it>}: %w", field, err)
	}
	switch {
	case strings.TrimSpace(ref.Name) == "":
		return ref, fmt.Errorf("%s.name is not set: set it to the name of the Secret holding the value", field)
	case strings.TrimSpace(ref.Key) == "":
		return ref, fmt.Errorf("%s.key is not set: set it to the key of Secret %q that holds the value", field, ref.Name)
	}
	return ref, nil
}

// scalar returns a plain setting's JSON value as text: a string as is, a
// number or boolean as written; null means unset.
func scalar(s *settings.Setting, field string, v json.RawMessage) (string, bool, error) {
	var x any
	if err := json.Unmarshal(v, &x); err != nil {
		return "", false, fmt.Errorf("%s: %w", field, err)
	}
	switch t := x.(type) {
	case nil:
		return "", false, nil
	case string:
		return t, true, nil
	case float64, bool:
		if s.Kind == settings.Text {
			return "", false, fmt.Errorf("%s must be a string: write it in quotes", field)
		}
		return string(bytes.TrimSpace(v)), true, nil
	}
	want := "a string"
	switch s.Kind {
	case settings.Seconds:
		want = "a whole number of seconds"
	case settings.Bool:
		want = "true or false"
	}
	return "", false, fmt.Errorf("%s must be %s, not a list or object", field, want)
}

// readSecret returns the value of ref's key in namespace ns, spaces and a
// trailing newline trimmed. Errors say which Secret and key, and what to
// fix; never the value.
func readSecret(ctx context.Context, client kubernetes.Interface, ns, field string, ref SecretRef, cache map[string]map[string][]byte) (string, error) {
	data, ok := cache[ref.Name]
	if !ok {
		sec, err := client.CoreV1().Secrets(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return "", fmt.Errorf("Secret %q named by %s does not exist in namespace %s: create it there (an Issuer's Secrets live in its own namespace, a ClusterIssuer's in cert-manager's cluster resource namespace)", ref.Name, field, ns)
		case apierrors.IsForbidden(err):
			return "", fmt.Errorf("the webhook may not read Secret %q in namespace %s (named by %s): add %s to the chart value secretNamespaces, which grants its ServiceAccount get on Secrets there", ref.Name, ns, field, ns)
		case err != nil:
			return "", fmt.Errorf("reading Secret %q in namespace %s (named by %s): %w", ref.Name, ns, field, err)
		}
		data = sec.Data
		if data == nil {
			data = map[string][]byte{}
		}
		for k, v := range sec.StringData {
			data[k] = []byte(v)
		}
		cache[ref.Name] = data
	}
	v, ok := data[ref.Key]
	if !ok {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range data {
				if !yield(k) {
					return
				}
			}
		})
		has := "no keys"
		if len(keys) > 0 {
			has = "keys " + strings.Join(keys, ", ")
		}
		return "", fmt.Errorf("Secret %q in namespace %s has no key %q (named by %s.key; it has %s): add the key or correct %s.key", ref.Name, ns, ref.Key, field, has, field)
	}
	text := strings.TrimSpace(string(v))
	if text == "" {
		return "", fmt.Errorf("key %q of Secret %q in namespace %s (named by %s) is empty: put the value in it", ref.Key, ref.Name, ns, field)
	}
	return text, nil
}
