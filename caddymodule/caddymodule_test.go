package caddymodule

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/mijnhost"
)

// newMijnhost returns a fresh module the way Caddy makes one.
func newMijnhost(t *testing.T) *Module {
	t.Helper()
	info, err := caddy.GetModule("dns.providers.mijnhost")
	if err != nil {
		t.Fatal(err)
	}
	return info.New().(*Module)
}

func TestUnmarshalCaddyfile(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    string // the module's JSON
		wantErr string
	}{
		{"short form", `mijnhost {env.MIJNHOST_API_KEY}`, `{"api_key":"{env.MIJNHOST_API_KEY}"}`, ""},
		{"block form", "mijnhost {\n\tapi_key k-1\n\tapi_url http://127.0.0.1:1/v2/\n\tttl 300\n}",
			`{"api_key":"k-1","api_url":"http://127.0.0.1:1/v2/","ttl":300}`, ""},
		{"short form and block", "mijnhost k-1 {\n\tapi_url {env.URL}\n}", `{"api_key":"k-1","api_url":"{env.URL}"}`, ""},
		{"ttl as a duration", "mijnhost k { \n ttl 2m \n }", `{"api_key":"k","ttl":120}`, ""},
		{"ttl in days", "mijnhost k { \n ttl 1d \n }", `{"api_key":"k","ttl":86400}`, ""},
		{"ttl seconds with unit", "mijnhost k { \n ttl 90s \n }", `{"api_key":"k","ttl":90}`, ""},

		{"unknown subdirective", "mijnhost k {\n\tapi_tokn x\n}", "", `unrecognized subdirective 'api_tokn' (known: api_key, api_url, ttl, propagation_check, propagation_resolvers), at Testfile:2`},
		{"propagation check with its default", "mijnhost k {\n\tpropagation_check\n}", `{"api_key":"k","propagation_check":"2m0s"}`, ""},
		{"propagation check with a timeout", "mijnhost k {\n\tpropagation_check 30s\n\tttl 60\n}", `{"api_key":"k","ttl":60,"propagation_check":"30s"}`, ""},
		{"propagation check with resolvers", "mijnhost k {\n\tpropagation_check 1m\n\tpropagation_resolvers 192.0.2.1 {env.DNS}\n}", `{"api_key":"k","propagation_check":"1m0s","propagation_resolvers":["192.0.2.1","{env.DNS}"]}`, ""},
		{"every provider takes the check", "xynta {\n\tuid u\n\thash h\n\tpropagation_check\n}", `{"uid":"u","hash":"h","propagation_check":"2m0s"}`, ""},
		{"propagation check zero", "mijnhost k {\n\tpropagation_check 0\n}", "", `propagation_check "0" is invalid: use a positive duration such as 2m, or no value for 2m0s`},
		{"propagation check not a duration", "mijnhost k {\n\tpropagation_check soon\n}", "", `propagation_check "soon" is invalid`},
		{"propagation check two values", "mijnhost k {\n\tpropagation_check 1m 2m\n}", "", `propagation_check: unexpected argument '2m'`},
		{"propagation check twice", "mijnhost k {\n\tpropagation_check\n\tpropagation_check 1m\n}", "", `propagation_check is given twice`},
		{"propagation resolvers empty", "mijnhost k {\n\tpropagation_resolvers\n}", "", `propagation_resolvers needs at least one address (host:port)`},
		{"propagation resolver bad port", "mijnhost k {\n\tpropagation_resolvers 192.0.2.1:99999\n}", "", `invalid resolver "192.0.2.1:99999": port "99999" is not a number from 1 to 65535`},
		{"missing key", `mijnhost`, "", "dns.providers.mijnhost: api_key is not set: set it to the API key from the mijn.host control panel"},
		{"missing key in block", "mijnhost {\n\tapi_url http://x/\n}", "", "api_key is not set"},
		{"extra argument", `mijnhost k extra`, "", `unexpected argument 'extra'`},
		{"extra argument in block", "mijnhost {\n\tapi_key a b\n}", "", `api_key: unexpected argument 'b'`},
		{"subdirective without value", "mijnhost k {\n\tttl\n}", "", "ttl needs a value"},
		{"key twice", "mijnhost k {\n\tapi_key j\n}", "", "api_key is given twice"},
		{"fractional ttl", "mijnhost k {\n\tttl 1.5s\n}", "", `ttl="1.5s" is invalid: use whole seconds (or a duration like 2m) from 1 to 86400`},
		{"zero ttl", "mijnhost k {\n\tttl 0\n}", "", `ttl="0" is invalid: use whole seconds (or a duration like 2m) from 1 to 86400`},
		{"negative ttl", "mijnhost k {\n\tttl -5\n}", "", `ttl="-5" is invalid`},
		{"ttl not a number", "mijnhost k {\n\tttl soon\n}", "", `ttl="soon" is invalid: use whole seconds (or a duration like 2m)`},

		{"realtimeregister key", `realtimeregister {env.RTR_KEY}`, `{"api_key":"{env.RTR_KEY}"}`, ""},
		{"realtimeregister login on OTE", "realtimeregister {\n\tusername c/l\n\tpassword p\n\tote true\n\tzone_service PREMIUM\n}",
			`{"username":"c/l","password":"p","ote":true,"zone_service":"PREMIUM"}`, ""},
		{"realtimeregister without credentials", "realtimeregister {\n\tusername c/l\n}", "", "password is not set: set it to that user's password (it goes with username)"},
		{"realtimeregister bad ote", "realtimeregister k {\n\tote maybe\n}", "", `ote="maybe" is invalid: use true or false`},
		{"hostup", `hostup {env.HOSTUP_API_KEY}`, `{"api_key":"{env.HOSTUP_API_KEY}"}`, ""},
		{"xynta", "xynta {\n\tuid u\n\thash h\n}", `{"uid":"u","hash":"h"}`, ""},
		{"xynta has no short form", `xynta u`, "", "unexpected argument 'u': put the settings in a block"},
		{"xynta without hash", "xynta {\n\tuid u\n}", "", "dns.providers.xynta: hash is not set"},
		{"ttl beyond the day", "mijnhost k {\n\tttl 2d\n}", "", "ttl 172800 is out of range: use whole seconds from 1 to 86400"},
		{"hostup ttl below its minimum", "hostup {\n\tapi_key x\n\tttl 30s\n}", "", "dns.providers.hostup: ttl 30 is out of range: use whole seconds from 60 to 86400"},
		{"realtimeregister key and username", "realtimeregister {\n\tapi_key x\n\tusername y\n}", "", "api_key and username/password are both set: keep one"},
		{"realtimeregister username format", "realtimeregister {\n\tusername acme\n\tpassword p\n}", "", `username "acme" is invalid: use customer/login`},
		{"realtimeregister auth with a key", "realtimeregister k {\n\tauth basic\n}", "", "auth applies only with username"},
		{"realtimeregister auth unknown", "realtimeregister {\n\tusername c/l\n\tpassword p\n\tauth token\n}", "", `auth "token" is invalid: use session or basic`},
		{"realtimeregister ote and api_url", "realtimeregister k {\n\tote true\n\tapi_url http://x/\n}", "", "ote and api_url are both set: keep one"},
		{"realtimeregister zone_service any case", "realtimeregister k {\n\tzone_service premium\n}", `{"api_key":"k","zone_service":"PREMIUM"}`, ""},
		{"realtimeregister placeholder username checked later", "realtimeregister {\n\tusername {env.RTR_USER}\n\tpassword p\n}", `{"username":"{env.RTR_USER}","password":"p"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, _, _ := strings.Cut(tt.input, " ")
			info, err := caddy.GetModule("dns.providers." + name)
			if err != nil {
				t.Fatal(err)
			}
			m := info.New()
			err = m.(caddyfile.Unmarshaler).UnmarshalCaddyfile(caddyfile.NewTestDispenser(tt.input))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("JSON %s, want %s", got, tt.want)
			}
		})
	}
}

func TestProvision(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("key-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CADDYMODULE_TEST_KEY", "key-from-env")
	t.Setenv("CADDYMODULE_TEST_URL", "http://127.0.0.1:1/v2/")
	t.Setenv("CADDYMODULE_TEST_EMPTY", "")
	t.Setenv("CADDYMODULE_TEST_DNS", "127.0.0.1:5353")

	tests := []struct {
		name             string
		config           string // JSON
		wantKey, wantURL string
		wantErr          string
	}{
		{"env placeholders", `{"api_key":"{env.CADDYMODULE_TEST_KEY}","api_url":"{env.CADDYMODULE_TEST_URL}"}`, "key-from-env", "http://127.0.0.1:1/v2/", ""},
		{"file placeholder", `{"api_key":"{file.` + keyFile + `}"}`, "key-from-file", "", ""},
		{"literal values", `{"api_key":"k-1","api_url":"http://x/"}`, "k-1", "http://x/", ""},
		{"placeholder inside a value", `{"api_key":"pre-{env.CADDYMODULE_TEST_KEY}"}`, "pre-key-from-env", "", ""},
		{"optional placeholder unset", `{"api_key":"k","api_url":"{env.CADDYMODULE_TEST_UNSET}"}`, "k", "", ""},

		{"env unset", `{"api_key":"{env.CADDYMODULE_TEST_UNSET}"}`, "", "",
			"api_key is empty after replacing placeholders ({env.CADDYMODULE_TEST_UNSET} is unset?)"},
		{"env empty", `{"api_key":"{env.CADDYMODULE_TEST_EMPTY}"}`, "", "",
			"api_key is empty after replacing placeholders ({env.CADDYMODULE_TEST_EMPTY} is unset?)"},
		{"file missing", `{"api_key":"{file.` + filepath.Join(dir, "nope") + `}"}`, "", "",
			"api_key is empty after replacing placeholders ({file." + filepath.Join(dir, "nope") + "} is missing or empty?)"},
		{"not set at all", `{"api_url":"http://x/"}`, "", "", "api_key is not set: set it to the API key from the mijn.host control panel (API Access)"},
		{"blank", `{"api_key":"  "}`, "", "", "api_key is not set: set it to the API key from the mijn.host control panel (API Access)"},
		{"ttl out of range", `{"api_key":"k","ttl":100000}`, "", "", "ttl 100000 is out of range: use whole seconds from 1 to 86400"},
		{"propagation check", `{"api_key":"k","propagation_check":"2m","propagation_resolvers":["{env.CADDYMODULE_TEST_DNS}"]}`, "k", "", ""},
		{"propagation check negative", `{"api_key":"k","propagation_check":"-1s"}`, "", "", "propagation_check -1s is invalid: use a positive duration such as 2m, or leave it out to turn the check off"},
		{"propagation resolvers without the check", `{"api_key":"k","propagation_resolvers":["192.0.2.1"]}`, "", "",
			`propagation_resolvers is set but propagation_check is not: turn the check on with propagation_check (e.g. "2m"), or remove propagation_resolvers`},
		{"propagation resolver unset", `{"api_key":"k","propagation_check":"2m","propagation_resolvers":["{env.CADDYMODULE_TEST_UNSET}"]}`, "", "",
			`propagation_resolvers: entry "{env.CADDYMODULE_TEST_UNSET}" is empty: give host:port addresses`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMijnhost(t)
			if err := caddy.StrictUnmarshalJSON([]byte(tt.config), m); err != nil {
				t.Fatal(err)
			}
			err := m.Provision(caddy.Context{})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := m.Provider.(*mijnhost.Provider)
			if p.APIKey != tt.wantKey || p.APIURL != tt.wantURL {
				t.Errorf("api_key %q api_url %q, want %q %q", p.APIKey, p.APIURL, tt.wantKey, tt.wantURL)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		wantErr string
	}{
		{"every field", `{"api_key":"k","api_url":"http://x/","ttl":60}`, ""},
		{"key only", `{"api_key":"k"}`, ""},
		{"unknown field", `{"api_key":"k","api_token":"x"}`, `unknown field "api_token"`},
		{"ttl as a string", `{"api_key":"k","ttl":"60s"}`, "cannot unmarshal string"},
		{"propagation check", `{"api_key":"k","propagation_check":"2m0s","propagation_resolvers":["192.0.2.1:53"]}`, ""},
		{"propagation check not a duration", `{"api_key":"k","propagation_check":"soon"}`, `propagation_check: `},
		{"propagation resolvers not a list", `{"api_key":"k","propagation_resolvers":"192.0.2.1"}`, `propagation_resolvers: `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMijnhost(t)
			err := caddy.StrictUnmarshalJSON([]byte(tt.config), m)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(m); string(got) != tt.config {
				t.Errorf("round trip gave %s, want %s", got, tt.config)
			}
		})
	}
}

// TestNoShortForm covers a provider whose settings only go in a block.
func TestNoShortForm(t *testing.T) {
	d := &settings.Descriptor{
		Name:     "blockonly",
		Settings: []settings.Setting{{Key: "api_key", Required: true, Help: "a key"}},
		New:      func() any { return new(mijnhost.Provider) },
	}
	tests := []struct{ input, wantErr string }{
		{"blockonly k", "dns.providers.blockonly: unexpected argument 'k': put the settings in a block"},
		{"blockonly {\n\tapi_key k\n}", ""},
	}
	for _, tt := range tests {
		err := newModule(d).UnmarshalCaddyfile(caddyfile.NewTestDispenser(tt.input))
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%q: error %v, want %q", tt.input, err, tt.wantErr)
		}
	}
}
