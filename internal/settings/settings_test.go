package settings

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// account is a provider struct as the descriptors describe them.
type account struct {
	Key      string `json:"api_key,omitempty"`
	User     string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Auth     string `json:"auth,omitempty"`
	URL      string `json:"api_url,omitempty"`
	Test     bool   `json:"test,omitempty"`
	TTL      int    `json:"ttl,omitempty"`
	Other    string `json:"-"`
}

func testDescriptor() *Descriptor {
	return &Descriptor{
		Name: "acct", Title: "Account", Env: "ACCT_", Short: "api_key",
		Settings: []Setting{
			{Key: "api_key", Secret: true, Help: "a key"},
			{Key: "username", Format: func(v string) error {
				if !strings.Contains(v, "/") {
					return errors.New("use customer/login")
				}
				return nil
			}, Help: "a user"},
			{Key: "password", Secret: true, Format: func(v string) error {
				if strings.HasPrefix(v, "bad") {
					return errors.New("it must not start with bad")
				}
				return nil
			}, Help: "a password"},
			{Key: "auth", Choices: []string{"session", "basic"}, Requires: "username", Help: "how"},
			{Key: "api_url", Help: "the root"},
			{Key: "test", Kind: Bool, Help: "the test system"},
			{Key: "ttl", Kind: Seconds, Min: 60, Max: 86400, Default: "120", Help: "the TTL"},
		},
		OneOf:     [][]string{{"api_key"}, {"username", "password"}},
		Exclusive: [][2]string{{"test", "api_url"}},
		New:       func() any { return new(account) },
	}
}

func envOf(kv map[string]string) Env {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func TestFromEnv(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("key-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    account
		wantErr string
	}{
		{"key", map[string]string{"ACCT_API_KEY": " k-1 ", "ACCT_TTL": "300"}, account{Key: "k-1", TTL: 300}, ""},
		{"key from a file", map[string]string{"ACCT_API_KEY_FILE": keyFile}, account{Key: "key-from-file"}, ""},
		{"choice in any case", map[string]string{"ACCT_USERNAME": "c/l", "ACCT_PASSWORD_FILE": keyFile, "ACCT_AUTH": "BASIC"}, account{User: "c/l", Password: "key-from-file", Auth: "basic"}, ""},
		{"secret format", map[string]string{"ACCT_USERNAME": "c/l", "ACCT_PASSWORD": "bad-key-from-file"}, account{}, "ACCT_PASSWORD is invalid: it must not start with bad"},
		{"bool", map[string]string{"ACCT_API_KEY": "k", "ACCT_TEST": "yes"}, account{Key: "k", Test: true}, ""},
		{"nothing", nil, account{}, "ACCT_API_KEY is not set: set it (or ACCT_API_KEY_FILE) to a key, or set ACCT_USERNAME and ACCT_PASSWORD"},
		{"value and file", map[string]string{"ACCT_API_KEY": "k", "ACCT_API_KEY_FILE": keyFile}, account{}, "ACCT_API_KEY and ACCT_API_KEY_FILE are both set: keep one"},
		{"missing file", map[string]string{"ACCT_API_KEY_FILE": filepath.Join(dir, "nope")}, account{}, "ACCT_API_KEY_FILE: no such file"},
		{"ttl with a unit", map[string]string{"ACCT_API_KEY": "k", "ACCT_TTL": "5m"}, account{}, `ACCT_TTL="5m" is invalid: use whole seconds from 60 to 86400`},
		{"ttl below the range", map[string]string{"ACCT_API_KEY": "k", "ACCT_TTL": "30"}, account{}, `ACCT_TTL="30" is invalid: use whole seconds from 60 to 86400`},
		{"bad bool", map[string]string{"ACCT_API_KEY": "k", "ACCT_TEST": "maybe"}, account{}, `ACCT_TEST="maybe" is invalid: use true or false`},
		{"both alternatives", map[string]string{"ACCT_API_KEY": "k", "ACCT_USERNAME": "c/l"}, account{}, "ACCT_API_KEY and ACCT_USERNAME/ACCT_PASSWORD are both set: keep one"},
		{"half a group", map[string]string{"ACCT_USERNAME": "c/l"}, account{}, "ACCT_PASSWORD is not set: set it (or ACCT_PASSWORD_FILE) to a password (it goes with ACCT_USERNAME)"},
		{"exclusive", map[string]string{"ACCT_API_KEY": "k", "ACCT_TEST": "true", "ACCT_API_URL": "http://x/"}, account{}, "ACCT_TEST and ACCT_API_URL are both set: keep one"},
		{"requires", map[string]string{"ACCT_API_KEY": "k", "ACCT_AUTH": "basic"}, account{}, "ACCT_AUTH applies only with ACCT_USERNAME: remove ACCT_AUTH or set ACCT_USERNAME"},
		{"choice", map[string]string{"ACCT_USERNAME": "c/l", "ACCT_PASSWORD": "p", "ACCT_AUTH": "token"}, account{}, `ACCT_AUTH="token" is invalid: use session or basic`},
		{"format", map[string]string{"ACCT_USERNAME": "login", "ACCT_PASSWORD": "p"}, account{}, `ACCT_USERNAME="login" is invalid: use customer/login`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := testDescriptor().FromEnv(envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "key-from-file") {
					t.Errorf("error shows a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := *p.(*account); got != tt.want {
				t.Errorf("provider %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestCheckNamesBySurface checks that one rule reads in each surface's own
// names, and that a value still to be expanded counts as set but is not
// checked.
func TestCheckNamesBySurface(t *testing.T) {
	d := testDescriptor()
	p := &account{User: "{env.USER}", Password: "p", TTL: 30}
	err := d.Check(p, Keys, func(v string) bool { return strings.HasPrefix(v, "{") })
	if err == nil || err.Error() != "ttl 30 is out of range: use whole seconds from 60 to 86400" {
		t.Errorf("keys: %v", err)
	}
	p.TTL = 0
	if err := d.Check(p, Keys, func(v string) bool { return strings.HasPrefix(v, "{") }); err != nil {
		t.Errorf("pending username checked: %v", err)
	}
	if err := d.Check(&account{}, Keys, nil); !errors.Is(err, ErrUnset) {
		t.Errorf("missing credentials: %v is not ErrUnset", err)
	}
}

func TestParseDurations(t *testing.T) {
	dur := func(v string) (int64, error) {
		d, err := time.ParseDuration(v)
		return int64(d), err
	}
	tests := []struct {
		raw     string
		want    int
		wantErr string
	}{
		{"90", 90, ""},
		{"2m", 120, ""},
		{"1.5s", 0, `ttl="1.5s" is invalid: use whole seconds (or a duration like 2m) from 60 to 86400`},
		{"0", 0, "is invalid"},
		{"-5", 0, "is invalid"},
		{"soon", 0, "is invalid"},
	}
	for _, tt := range tests {
		p := &account{}
		err := testDescriptor().Parse(p, "ttl", tt.raw, "ttl", dur)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || p.TTL != 0 {
				t.Errorf("%q: err = %v, ttl %d; want %q and nothing set", tt.raw, err, p.TTL, tt.wantErr)
			}
			continue
		}
		if err != nil || p.TTL != tt.want {
			t.Errorf("%q: ttl %d, err %v; want %d", tt.raw, p.TTL, err, tt.want)
		}
	}
	if err := testDescriptor().Parse(&account{}, "api_token", "x", "api_token", nil); err == nil || !strings.Contains(err.Error(), "use one of api_key, username") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestBind(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Descriptor)
		wantErr string
	}{
		{"fine", func(*Descriptor) {}, ""},
		{"no field", func(d *Descriptor) { d.Settings = append(d.Settings, Setting{Key: "zone"}) }, `no field of settings.account has the JSON key "zone"`},
		{"wrong kind", func(d *Descriptor) { d.Settings[6].Kind = Text }, `field "ttl" is a int, want string`},
		{"rule names nothing", func(d *Descriptor) { d.Exclusive = [][2]string{{"test", "url"}} }, `a rule names "url", which is not a setting`},
		{"not a pointer", func(d *Descriptor) { d.New = func() any { return account{} } }, "New must return a pointer to a struct"},
	}
	for _, tt := range tests {
		d := testDescriptor()
		tt.change(d)
		err := d.Bind()
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestSecretsAndHelp(t *testing.T) {
	d := testDescriptor()
	got := d.EnvSecrets(envOf(map[string]string{"ACCT_API_KEY": "s-1", "ACCT_PASSWORD": "s-2", "ACCT_USERNAME": "c/l"}))
	if strings.Join(got, ",") != "s-1,s-2" {
		t.Errorf("EnvSecrets = %q", got)
	}
	if got := d.Secrets(&account{Key: "s-1", User: "c/l"}); strings.Join(got, ",") != "s-1" {
		t.Errorf("Secrets = %q", got)
	}
	if got := d.Setting("ttl").Describe(); got != "the TTL, 60 to 86400 seconds; default 120" {
		t.Errorf("Describe = %q", got)
	}
	if got := d.Rule(Keys); got != "api_key, or username and password" {
		t.Errorf("Rule = %q", got)
	}
	if !d.InEnv(envOf(map[string]string{"ACCT_PASSWORD_FILE": "/x"})) || d.InEnv(envOf(map[string]string{"ACCT_TTL": "60"})) {
		t.Errorf("InEnv: credentials select the provider, other settings do not")
	}
}

// TestFingerprint: equal settings give equal fingerprints, any changed
// setting a different one, values cannot run into each other, and no
// value shows in it.
func TestFingerprint(t *testing.T) {
	d := testDescriptor()
	if err := d.Bind(); err != nil {
		t.Fatal(err)
	}
	base := account{Key: "secret-key-123", URL: "https://api.example/", TTL: 60}
	fp := d.Fingerprint(&base)
	for _, tc := range []struct {
		name string
		p    account
		same bool
	}{
		{"same settings", base, true},
		{"field outside the settings", account{Key: "secret-key-123", URL: "https://api.example/", TTL: 60, Other: "x"}, true},
		{"other key", account{Key: "secret-key-124", URL: "https://api.example/", TTL: 60}, false},
		{"other endpoint", account{Key: "secret-key-123", URL: "https://api.example/v2/", TTL: 60}, false},
		{"other ttl", account{Key: "secret-key-123", URL: "https://api.example/", TTL: 61}, false},
		{"values shifted between fields", account{User: "secret-key-123", URL: "https://api.example/", TTL: 60}, false},
	} {
		if got := d.Fingerprint(&tc.p) == fp; got != tc.same {
			t.Errorf("%s: same fingerprint = %t, want %t", tc.name, got, tc.same)
		}
	}
	if strings.Contains(fp, "secret") || strings.Contains(fp, "api.example") {
		t.Errorf("fingerprint %q shows a value", fp)
	}
}
