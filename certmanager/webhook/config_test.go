package webhook

import (
	"context"
	"strings"
	"testing"

	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

// TestConfigNames: every setting's config name is its Key in camelCase, a
// secret one as a reference.
func TestConfigNames(t *testing.T) {
	for _, d := range providers.All() {
		for i := range d.Settings {
			s := &d.Settings[i]
			name := ConfigName(s)
			if strings.Contains(name, "_") || name[0] < 'a' || name[0] > 'z' {
				t.Errorf("%s %s: config name %q is not camelCase", d.Name, s.Key, name)
			}
			if s.Secret != strings.HasSuffix(name, "SecretRef") {
				t.Errorf("%s %s: config name %q", d.Name, s.Key, name)
			}
		}
	}
	for key, want := range map[string]string{"api_url": "apiUrl", "zone_service": "zoneService", "ttl": "ttl", "a_b_c": "aBC"} {
		if got := camel(key); got != want {
			t.Errorf("camel(%q) = %q, want %q", key, got, want)
		}
	}
}

// TestReadConfig: values of each JSON type, the descriptor's rules named as
// the config (or, for ambient settings, the environment) names them.
func TestReadConfig(t *testing.T) {
	env := func(vars ...string) settings.Env {
		return func(name string) (string, bool) {
			for _, kv := range vars {
				if v, ok := strings.CutPrefix(kv, name+"="); ok {
					return v, true
				}
			}
			return "", false
		}
	}
	for _, tc := range []struct {
		provider, config string
		env              settings.Env
		want             string // error text, or key=value read
	}{
		{"mijnhost", `{"ttl": 300, "apiUrl": "https://api.example/v2/"}`, env("MIJNHOST_API_KEY=k"), "ttl=300"},
		{"mijnhost", `{"ttl": "300"}`, env("MIJNHOST_API_KEY=k"), "ttl=300"},
		{"mijnhost", `{"ttl": null}`, env("MIJNHOST_API_KEY=k", "MIJNHOST_TTL=600"), "ttl=600"},
		{"mijnhost", `{"ttl": [1]}`, env(), "ttl must be a whole number of seconds, not a list or object"},
		{"mijnhost", `{"ttl": 0.5}`, env(), `ttl="0.5" is invalid: use whole seconds from 1 to 86400`},
		{"mijnhost", `{"apiUrl": 5}`, env(), "apiUrl must be a string: write it in quotes"},
		{"mijnhost", `{"apiUrl": "ftp://x"}`, env("MIJNHOST_API_KEY=k"), `solver mijnhost: apiUrl "ftp://x" is invalid: use an http or https URL`},
		{"mijnhost", `[1, 2]`, env(), "the webhook config of solver mijnhost is not a JSON object of settings (apiKeySecretRef, apiUrl, ttl)"},
		{"mijnhost", `{"apiKeySecretRef": {"name": "a"}}`, env(), "apiKeySecretRef.key is not set: set it to the key of Secret \"a\" that holds the value"},
		{"mijnhost", `{"apiKeySecretRef": {"name": "a", "key": "b", "namespace": "x"}}`, env(), `apiKeySecretRef must be {name: <Secret>, key: <key in it>}: json: unknown field "namespace"`},
		{"mijnhost", `{"apikey": "x"}`, env(), "apikey of solver mijnhost is a secret and is not taken inline: put it in a Secret and set apiKeySecretRef"},
		{"mijnhost", `{}`, nil, "solver mijnhost: apiKeySecretRef is not set: set it to {name, key} of a Secret in namespace ns holding the API key"},
		{"realtimeregister", `{"username": "cust/login"}`, env("REALTIMEREGISTER_API_KEY=k"), "solver realtimeregister: passwordSecretRef is not set: set it to {name, key} of a Secret in namespace ns holding that user's password (it goes with username)"},
		{"realtimeregister", `{"ote": true, "apiUrl": "https://x/"}`, env("REALTIMEREGISTER_API_KEY=k"), "solver realtimeregister: ote and apiUrl are both set: keep one"},
		{"realtimeregister", `{"ote": "yes", "zoneService": "premium"}`, env("REALTIMEREGISTER_API_KEY=k"), "zone_service=PREMIUM"},
		{"realtimeregister", `{}`, env("REALTIMEREGISTER_API_KEY=k", "REALTIMEREGISTER_TTL=5"), "solver realtimeregister: REALTIMEREGISTER_TTL 5 is out of range: use whole seconds from 60 to 86400"},
	} {
		t.Run(tc.provider+" "+tc.config, func(t *testing.T) {
			d, err := providers.Lookup(tc.provider)
			if err != nil {
				t.Fatal(err)
			}
			c, err := readConfig(context.Background(), d, []byte(tc.config), "ns", nil, tc.env != nil, tc.env)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				key, _, _ := strings.Cut(tc.want, "=")
				got = key + "=" + d.Value(c.provider, key)
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
