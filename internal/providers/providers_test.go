package providers

import (
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"

	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(kv map[string]string) settings.Env {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func TestSelect(t *testing.T) {
	tests := []struct {
		name    string
		flag    string
		env     map[string]string
		want    string // names, comma-separated
		wantErr string
	}{
		{"flag wins", "mijnhost", map[string]string{"ACME_HOOK_PROVIDER": "nope"}, "mijnhost", ""},
		{"env names it", "", map[string]string{"ACME_HOOK_PROVIDER": "MijnHost"}, "mijnhost", ""},
		{"only credentials present", "", map[string]string{"MIJNHOST_API_KEY": "k"}, "mijnhost", ""},
		{"credentials from a file", "", map[string]string{"MIJNHOST_API_KEY_FILE": "/x"}, "mijnhost", ""},
		{"unknown flag", "godaddy", nil, "", `unknown provider "godaddy": use one of `},
		{"unknown env", "", map[string]string{"ACME_HOOK_PROVIDER": "x"}, "", "ACME_HOOK_PROVIDER: unknown provider"},
		{"nothing set", "", nil, "", "no provider selected: set ACME_HOOK_PROVIDER"},
		// Several.
		{"credentials of two", "", map[string]string{"MIJNHOST_API_KEY": "k", "HOSTUP_API_KEY_FILE": "/x"}, "hostup,mijnhost", ""},
		{"env lists two, in its order", "", map[string]string{"ACME_HOOK_PROVIDER": " xynta , mijnhost", "HOSTUP_API_KEY": "k"}, "xynta,mijnhost", ""},
		{"flag lists two, one twice", "hostup,mijnhost,HostUp", nil, "hostup,mijnhost", ""},
		{"unknown in a list", "", map[string]string{"ACME_HOOK_PROVIDER": "mijnhost,nope"}, "", `ACME_HOOK_PROVIDER: unknown provider "nope"`},
		{"empty entry", "mijnhost,", nil, "", `empty provider name in "mijnhost,"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := Select(tt.flag, envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			var names []string
			for _, d := range ds {
				names = append(names, d.Name)
			}
			if err != nil || strings.Join(names, ",") != tt.want {
				t.Fatalf("Select = %v, %v; want %s", names, err, tt.want)
			}
		})
	}
}

func TestNewFromEnv(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte("file-secret-key-123\n"), 0o600)
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"key", map[string]string{"MIJNHOST_API_KEY": "k-123456"}, ""},
		{"key file", map[string]string{"MIJNHOST_API_KEY_FILE": keyFile}, ""},
		{"missing key", map[string]string{}, "MIJNHOST_API_KEY is not set: set it (or MIJNHOST_API_KEY_FILE)"},
		{"both", map[string]string{"MIJNHOST_API_KEY": "a", "MIJNHOST_API_KEY_FILE": keyFile}, "MIJNHOST_API_KEY and MIJNHOST_API_KEY_FILE are both set"},
		{"unreadable file", map[string]string{"MIJNHOST_API_KEY_FILE": filepath.Join(dir, "nope")}, "MIJNHOST_API_KEY_FILE: no such file"},
		{"bad ttl", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_TTL": "5m"}, `MIJNHOST_TTL="5m" is invalid: use whole seconds from 1 to 86400`},
	}
	spec, _ := Lookup("mijnhost")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(spec, envOf(tt.env), Options{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "file-secret-key-123") {
					t.Errorf("error shows the secret: %v", err)
				}
				return
			}
			if err != nil || p == nil {
				t.Fatalf("New = %v, %v", p, err)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	got := Secrets(envOf(map[string]string{"MIJNHOST_API_KEY": "s3cret-value", "MIJNHOST_TTL": "60"}))
	if len(got) != 1 || got[0] != "s3cret-value" {
		t.Fatalf("Secrets = %q", got)
	}
}
