package providers

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acme-dns-hook/acme-dns-hook/libdns/realtimeregister"
)

// rtrSettings are the fields of realtimeregister.Provider set from the
// environment.
type rtrSettings struct {
	APIKey, Username, Password, APIURL string
	OTE                                bool
	ZoneService                        string
	TTL                                int
}

func TestRealtimeRegisterFromEnv(t *testing.T) {
	dir := t.TempDir()
	passFile := filepath.Join(dir, "pass")
	os.WriteFile(passFile, []byte("file-secret-password-456\n"), 0o600)
	tests := []struct {
		name    string
		env     map[string]string
		want    rtrSettings // when wantErr is empty
		wantErr string
	}{
		{"api key", map[string]string{"REALTIMEREGISTER_API_KEY": "k-123456"}, rtrSettings{APIKey: "k-123456"}, ""},
		{"username and password", map[string]string{"REALTIMEREGISTER_USERNAME": "cust/acme", "REALTIMEREGISTER_PASSWORD": "pw-123456"},
			rtrSettings{Username: "cust/acme", Password: "pw-123456"}, ""},
		{"password from a file", map[string]string{"REALTIMEREGISTER_USERNAME": "cust/acme", "REALTIMEREGISTER_PASSWORD_FILE": passFile},
			rtrSettings{Username: "cust/acme", Password: "file-secret-password-456"}, ""},
		{"every setting", map[string]string{"REALTIMEREGISTER_API_KEY": "k-123456", "REALTIMEREGISTER_OTE": "true",
			"REALTIMEREGISTER_ZONE_SERVICE": "premium", "REALTIMEREGISTER_TTL": "300"},
			rtrSettings{APIKey: "k-123456", OTE: true, ZoneService: "PREMIUM", TTL: 300}, ""},
		{"api url", map[string]string{"REALTIMEREGISTER_API_KEY": "k-123456", "REALTIMEREGISTER_API_URL": "http://127.0.0.1:9/v2/"},
			rtrSettings{APIKey: "k-123456", APIURL: "http://127.0.0.1:9/v2/"}, ""},
		{"nothing", map[string]string{}, rtrSettings{},
			"REALTIMEREGISTER_API_KEY is not set: set it (or REALTIMEREGISTER_API_KEY_FILE) to an API key from the Realtime Register portal, or set REALTIMEREGISTER_USERNAME and REALTIMEREGISTER_PASSWORD"},
		{"only a password", map[string]string{"REALTIMEREGISTER_PASSWORD": "pw-123456"}, rtrSettings{}, "REALTIMEREGISTER_USERNAME is not set: set it (or REALTIMEREGISTER_USERNAME_FILE) to the customer/login of an API user"},
		{"key and username", map[string]string{"REALTIMEREGISTER_API_KEY": "k-123456", "REALTIMEREGISTER_USERNAME": "cust/acme"}, rtrSettings{},
			"REALTIMEREGISTER_API_KEY and REALTIMEREGISTER_USERNAME/REALTIMEREGISTER_PASSWORD are both set"},
		{"key and password", map[string]string{"REALTIMEREGISTER_API_KEY": "k-123456", "REALTIMEREGISTER_PASSWORD": "pw-123456"}, rtrSettings{},
			"are both set"},
		{"username without password", map[string]string{"REALTIMEREGISTER_USERNAME": "cust/acme"}, rtrSettings{},
			"REALTIMEREGISTER_PASSWORD is not set: set it (or REALTIMEREGISTER_PASSWORD_FILE) to that user's password (it goes with REALTIMEREGISTER_USERNAME)"},
		{"username without customer", map[string]string{"REALTIMEREGISTER_USERNAME": "acme", "REALTIMEREGISTER_PASSWORD": "pw-123456"}, rtrSettings{},
			`REALTIMEREGISTER_USERNAME="acme" is invalid: use customer/login`},
		{"bad ote", map[string]string{"REALTIMEREGISTER_API_KEY": "k-123456", "REALTIMEREGISTER_OTE": "maybe"}, rtrSettings{},
			`REALTIMEREGISTER_OTE="maybe" is invalid: use true or false`},
		{"ote and url", map[string]string{"REALTIMEREGISTER_API_KEY": "k-123456", "REALTIMEREGISTER_OTE": "1", "REALTIMEREGISTER_API_URL": "https://x/v2/"},
			rtrSettings{}, "REALTIMEREGISTER_OTE and REALTIMEREGISTER_API_URL are both set"},
		{"bad service", map[string]string{"REALTIMEREGISTER_API_KEY": "k-123456", "REALTIMEREGISTER_ZONE_SERVICE": "gold"}, rtrSettings{},
			`REALTIMEREGISTER_ZONE_SERVICE="gold" is invalid: use BASIC or PREMIUM`},
		{"ttl below the API minimum", map[string]string{"REALTIMEREGISTER_API_KEY": "k-123456", "REALTIMEREGISTER_TTL": "30"}, rtrSettings{},
			`REALTIMEREGISTER_TTL="30" is invalid: use whole seconds from 60 to 86400`},
		{"unreadable password file", map[string]string{"REALTIMEREGISTER_USERNAME": "cust/acme", "REALTIMEREGISTER_PASSWORD_FILE": filepath.Join(dir, "nope")},
			rtrSettings{}, "REALTIMEREGISTER_PASSWORD_FILE: no such file"},
	}
	spec, err := Lookup("realtimeregister")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(spec, envOf(tt.env), Options{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				for _, secret := range []string{"k-123456", "pw-123456", "file-secret-password-456"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error shows a secret: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := p.(*realtimeregister.Provider)
			if g := (rtrSettings{got.APIKey, got.Username, got.Password, got.APIURL, got.OTE, got.ZoneService, got.TTL}); g != tt.want || got.Auth != "" {
				t.Errorf("provider %+v, want %+v", g, tt.want)
			}
		})
	}
}

func TestRealtimeRegisterSelection(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"REALTIMEREGISTER_API_KEY": "k"}, "realtimeregister"},
		{map[string]string{"REALTIMEREGISTER_USERNAME": "c/l", "REALTIMEREGISTER_PASSWORD": "p"}, "realtimeregister"},
		{map[string]string{"REALTIMEREGISTER_API_KEY_FILE": "/run/secrets/rtr"}, "realtimeregister"},
		{map[string]string{"ACME_HOOK_PROVIDER": "RealtimeRegister", "MIJNHOST_API_KEY": "k"}, "realtimeregister"},
	}
	for _, tt := range tests {
		ss, err := Select("", envOf(tt.env))
		if err != nil || len(ss) != 1 || ss[0].Name != tt.want {
			t.Errorf("Select(%v) = %v, %v", tt.env, ss, err)
		}
	}
	got := Secrets(envOf(map[string]string{"REALTIMEREGISTER_API_KEY": "key-secret-1", "REALTIMEREGISTER_PASSWORD": "pass-secret-2",
		"REALTIMEREGISTER_USERNAME": "cust/acme"}))
	if !slices.Contains(got, "key-secret-1") || !slices.Contains(got, "pass-secret-2") || slices.Contains(got, "cust/acme") {
		t.Errorf("Secrets = %q", got)
	}
	spec, _ := Lookup("realtimeregister")
	var creds []string
	for _, c := range spec.Credentials() {
		creds = append(creds, spec.EnvName(c))
	}
	if spec.Env != "REALTIMEREGISTER_" || !slices.Equal(creds, []string{"REALTIMEREGISTER_API_KEY", "REALTIMEREGISTER_USERNAME", "REALTIMEREGISTER_PASSWORD"}) {
		t.Errorf("credentials %q", creds)
	}
}
