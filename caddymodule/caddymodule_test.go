package caddymodule

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/acme-dns-hook/acme-dns-hook/libdns/mijnhost"
)

// newMijnhost returns a fresh module the way Caddy makes one.
func newMijnhost(t *testing.T) *Module[*mijnhost.Provider] {
	t.Helper()
	info, err := caddy.GetModule("dns.providers.mijnhost")
	if err != nil {
		t.Fatal(err)
	}
	return info.New().(*Module[*mijnhost.Provider])
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

		{"unknown subdirective", "mijnhost k {\n\tapi_tokn x\n}", "", `unrecognized subdirective 'api_tokn' (known: api_key, api_url, ttl), at Testfile:2`},
		{"missing key", `mijnhost`, "", "dns.providers.mijnhost: missing api_key"},
		{"missing key in block", "mijnhost {\n\tapi_url http://x/\n}", "", "missing api_key"},
		{"extra argument", `mijnhost k extra`, "", `unexpected argument 'extra'`},
		{"extra argument in block", "mijnhost {\n\tapi_key a b\n}", "", `api_key: unexpected argument 'b'`},
		{"subdirective without value", "mijnhost k {\n\tttl\n}", "", "ttl needs a value"},
		{"key twice", "mijnhost k {\n\tapi_key j\n}", "", "api_key is given twice"},
		{"fractional ttl", "mijnhost k {\n\tttl 1.5s\n}", "", `ttl '1.5s' is invalid: use whole seconds`},
		{"zero ttl", "mijnhost k {\n\tttl 0\n}", "", `ttl '0' is invalid: it must be positive`},
		{"negative ttl", "mijnhost k {\n\tttl -5\n}", "", `ttl '-5' is invalid`},
		{"ttl not a number", "mijnhost k {\n\tttl soon\n}", "", `ttl 'soon' is invalid: use whole seconds or a duration like 2m`},

		{"realtimeregister key", `realtimeregister {env.RTR_KEY}`, `{"api_key":"{env.RTR_KEY}"}`, ""},
		{"realtimeregister login on OTE", "realtimeregister {\n\tusername c/l\n\tpassword p\n\tote true\n\tzone_service PREMIUM\n}",
			`{"username":"c/l","password":"p","ote":true,"zone_service":"PREMIUM"}`, ""},
		{"realtimeregister without credentials", "realtimeregister {\n\tusername c/l\n}", "", "set api_key, or username and password"},
		{"realtimeregister bad ote", "realtimeregister k {\n\tote maybe\n}", "", "ote 'maybe' is invalid: use true or false"},
		{"hostup", `hostup {env.HOSTUP_API_KEY}`, `{"api_key":"{env.HOSTUP_API_KEY}"}`, ""},
		{"xynta", "xynta {\n\tuid u\n\thash h\n}", `{"uid":"u","hash":"h"}`, ""},
		{"xynta has no short form", `xynta u`, "", "unexpected argument 'u': put the settings in a block"},
		{"xynta without hash", "xynta {\n\tuid u\n}", "", "dns.providers.xynta: missing hash"},
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
		{"not set at all", `{"api_url":"http://x/"}`, "", "", "api_key is not set"},
		{"blank", `{"api_key":"  "}`, "", "", "api_key is not set"},
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
			if m.Provider.APIKey != tt.wantKey || m.Provider.APIURL != tt.wantURL {
				t.Errorf("api_key %q api_url %q, want %q %q", m.Provider.APIKey, m.Provider.APIURL, tt.wantKey, tt.wantURL)
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
	s := &spec[*mijnhost.Provider]{
		name:   "blockonly",
		new:    func() *mijnhost.Provider { return new(mijnhost.Provider) },
		fields: []field[*mijnhost.Provider]{text("api_key", true, func(p *mijnhost.Provider) *string { return &p.APIKey })},
	}
	tests := []struct{ input, wantErr string }{
		{"blockonly k", "dns.providers.blockonly: unexpected argument 'k': put the settings in a block"},
		{"blockonly {\n\tapi_key k\n}", ""},
	}
	for _, tt := range tests {
		m := &Module[*mijnhost.Provider]{Provider: s.new(), spec: s}
		err := m.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tt.input))
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%q: error %v, want %q", tt.input, err, tt.wantErr)
		}
	}
}
