package providers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	libhostup "github.com/acme-dns-hook/acme-dns-hook/libdns/hostup"
)

func TestHostUpFromEnv(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte("hostup-file-secret-42\n"), 0o600)
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		want    *libhostup.Provider
	}{
		{"key", map[string]string{"HOSTUP_API_KEY": "hk-123456"}, "", &libhostup.Provider{APIKey: "hk-123456"}},
		{"key file, URL and TTL", map[string]string{"HOSTUP_API_KEY_FILE": keyFile, "HOSTUP_API_URL": "http://127.0.0.1:9/api/v2/", "HOSTUP_TTL": "60"}, "",
			&libhostup.Provider{APIKey: "hostup-file-secret-42", APIURL: "http://127.0.0.1:9/api/v2/", TTL: 60}},
		{"missing key", map[string]string{}, "HOSTUP_API_KEY is not set: set it (or HOSTUP_API_KEY_FILE) to an API key from the HostUp control panel with the scopes read:dns, write:dns and read:domains", nil},
		{"both", map[string]string{"HOSTUP_API_KEY": "a", "HOSTUP_API_KEY_FILE": keyFile}, "HOSTUP_API_KEY and HOSTUP_API_KEY_FILE are both set", nil},
		{"ttl below HostUp's minimum", map[string]string{"HOSTUP_API_KEY": "k", "HOSTUP_TTL": "30"}, `HOSTUP_TTL="30" is invalid: use whole seconds from 60 to 86400`, nil},
	}
	spec, err := Lookup("hostup")
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
				if strings.Contains(err.Error(), "hostup-file-secret-42") {
					t.Errorf("error shows the secret: %v", err)
				}
				return
			}
			h, ok := p.(*libhostup.Provider)
			if err != nil || !ok || h.APIKey != tt.want.APIKey || h.APIURL != tt.want.APIURL || h.TTL != tt.want.TTL {
				t.Fatalf("New = %#v, %v", p, err)
			}
		})
	}
}

func TestHostUpSelected(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HOSTUP_API_KEY": "k"}, "hostup"},
		{map[string]string{"HOSTUP_API_KEY_FILE": "/run/secrets/hostup"}, "hostup"},
		{map[string]string{"ACME_HOOK_PROVIDER": "HostUp"}, "hostup"},
	}
	for _, tt := range tests {
		ss, err := Select("", envOf(tt.env))
		if err != nil || len(ss) != 1 || ss[0].Name != tt.want || ss[0].Env != "HOSTUP_" || ss[0].Title != "HostUp" {
			t.Errorf("Select(%v) = %+v, %v", tt.env, ss, err)
		}
	}
	secrets := Secrets(envOf(map[string]string{"HOSTUP_API_KEY": "hk-secret-9", "HOSTUP_API_URL": "http://x"}))
	if len(secrets) != 1 || secrets[0] != "hk-secret-9" {
		t.Errorf("Secrets = %q, want only the key", secrets)
	}
}
