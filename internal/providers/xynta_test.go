package providers

import (
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"

	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/xynta/xyntatest"
	xyntadns "github.com/acme-dns-hook/acme-dns-hook/libdns/xynta"
)

func xyntaEnv(kv map[string]string) settings.Env {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

// xyntaSettings are the fields of a built provider that come from env.
type xyntaSettings struct {
	uid, hash, apiURL string
	ttl               int
}

func TestXyntaFromEnv(t *testing.T) {
	dir := t.TempDir()
	hashFile := filepath.Join(dir, "hash")
	os.WriteFile(hashFile, []byte("file-secret-hash-456\n"), 0o600)
	const uid, hash = "uid-31337", "hash-7e57ab1e"
	tests := []struct {
		name    string
		env     map[string]string
		want    xyntaSettings
		wantErr string
	}{
		{"uid and hash", map[string]string{"XYNTA_UID": uid, "XYNTA_HASH": hash}, xyntaSettings{uid, hash, "", 0}, ""},
		{"all settings", map[string]string{"XYNTA_UID": uid, "XYNTA_HASH": hash, "XYNTA_API_URL": "http://127.0.0.1:9/", "XYNTA_TTL": "300"},
			xyntaSettings{uid, hash, "http://127.0.0.1:9/", 300}, ""},
		{"hash from a file", map[string]string{"XYNTA_UID": uid, "XYNTA_HASH_FILE": hashFile}, xyntaSettings{uid, "file-secret-hash-456", "", 0}, ""},
		{"missing uid", map[string]string{"XYNTA_HASH": hash}, xyntaSettings{}, "XYNTA_UID is not set: set it (or XYNTA_UID_FILE) to the UserID"},
		{"missing hash", map[string]string{"XYNTA_UID": uid}, xyntaSettings{}, "XYNTA_HASH is not set: set it (or XYNTA_HASH_FILE) to the IPHash"},
		{"hash twice", map[string]string{"XYNTA_UID": uid, "XYNTA_HASH": hash, "XYNTA_HASH_FILE": hashFile}, xyntaSettings{}, "XYNTA_HASH and XYNTA_HASH_FILE are both set"},
		{"bad ttl", map[string]string{"XYNTA_UID": uid, "XYNTA_HASH": hash, "XYNTA_TTL": "2m"}, xyntaSettings{}, `XYNTA_TTL="2m" is invalid: use whole seconds from 1 to 86400`},
	}
	spec, err := Lookup("xynta")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(spec, xyntaEnv(tt.env), Options{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				for _, s := range []string{uid, hash, "file-secret-hash-456"} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error shows a secret: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			x, ok := p.(*xyntadns.Provider)
			if got := (xyntaSettings{x.UID, x.Hash, x.APIURL, x.TTL}); !ok || got != tt.want {
				t.Fatalf("built %T %q %q %q %d", p, x.UID, x.Hash, x.APIURL, x.TTL)
			}
		})
	}
}

func TestXyntaSpec(t *testing.T) {
	specs, err := Select("", xyntaEnv(map[string]string{"XYNTA_HASH_FILE": "/run/secrets/xynta"}))
	if err != nil || len(specs) != 1 || specs[0].Name != "xynta" || specs[0].Env != "XYNTA_" || !strings.Contains(specs[0].Title, "experimental") {
		t.Fatalf("Select = %+v, %v", specs, err)
	}
	secrets := Secrets(xyntaEnv(map[string]string{"XYNTA_UID": "uid-31337", "XYNTA_HASH": "hash-7e57ab1e", "XYNTA_API_URL": "http://api.example.test/"}))
	for _, s := range []string{"uid-31337", "hash-7e57ab1e"} {
		if !slices.Contains(secrets, s) {
			t.Errorf("Secrets lacks %q: %v", s, secrets)
		}
	}
	if slices.Contains(secrets, "http://api.example.test/") {
		t.Errorf("the API URL is treated as a secret")
	}
}

// TestXyntaWorksWithSurfaceOptions builds the provider the way the hook
// (no HTTP client) and legoprovider (a client with only a Timeout) do, and
// uses it against the fake.
func TestXyntaWorksWithSurfaceOptions(t *testing.T) {
	fake := xyntatest.NewServer()
	defer fake.Close()
	fake.AddCredentials("uid-31337", "hash-7e57ab1e")
	fake.AddDomain("example.nl", xyntatest.Record{Name: "@", Type: "A", Value: "192.0.2.1", TTL: 60}.JSON())
	env := xyntaEnv(map[string]string{"XYNTA_UID": "uid-31337", "XYNTA_HASH": "hash-7e57ab1e", "XYNTA_API_URL": fake.URL})
	spec, _ := Lookup("xynta")
	for _, opts := range []Options{{}, {HTTPClient: &http.Client{Timeout: 5 * time.Second}}} {
		p, err := New(spec, env, opts)
		if err != nil {
			t.Fatal(err)
		}
		zs, err := p.ListZones(context.Background())
		if err != nil || len(zs) != 1 || zs[0].Name != "example.nl." {
			t.Fatalf("ListZones = %v, %v", zs, err)
		}
	}
}
