package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

func testEnv(kv ...string) settings.Env {
	return func(name string) (string, bool) {
		for i := 0; i < len(kv); i += 2 {
			if kv[i] == name {
				return kv[i+1], true
			}
		}
		return "", false
	}
}

// TestZoneCacheFile: what Load trusts of a cache file, and whose file it
// is: one per account (credentials) and endpoint.
func TestZoneCacheFile(t *testing.T) {
	d, err := providers.Lookup("mijnhost")
	if err != nil {
		t.Fatal(err)
	}
	const id = "mijnhost https://api.test/"
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	newCache := func(dir, key string) *zoneCache {
		c := newZoneCache(dir, d, testEnv("MIJNHOST_API_KEY", key), time.Minute)
		c.now = func() time.Time { return now }
		return c
	}

	dir := t.TempDir()
	a, a2, b := newCache(dir, "key-a"), newCache(dir, "key-a"), newCache(dir, "key-b")
	if a.path(id) != a2.path(id) || a.path(id) == b.path(id) || a.path(id) == a.path(id+"x") {
		t.Errorf("paths: same account %s %s, other key %s", a.path(id), a2.path(id), b.path(id))
	}
	if strings.Contains(a.path(id), "key-a") {
		t.Errorf("the path holds the key: %s", a.path(id))
	}
	a.Store(id, []string{"example.test."})
	if zs, ok := a2.Load(id); !ok || !slices.Equal(zs, []string{"example.test."}) {
		t.Errorf("same account: %q %v", zs, ok)
	}
	if _, ok := b.Load(id); ok {
		t.Error("another account's list was loaded")
	}
	if b, _ := os.ReadFile(a.path(id)); strings.Contains(string(b), "key-a") {
		t.Errorf("the file holds the key: %s", b)
	}

	tests := []struct {
		name    string
		content string // "" with link: a symbolic link to a good file
		link    bool
		ok      bool
	}{
		{"fresh", `{"listed":"2026-11-27T11:59:30Z","zones":["example.test."]}`, false, true},
		{"expired", `{"listed":"2026-11-27T11:59:00Z","zones":["example.test."]}`, false, false},
		{"from the future", `{"listed":"2026-11-27T12:05:00Z","zones":["example.test."]}`, false, false},
		{"no time", `{"zones":["example.test."]}`, false, false},
		{"no zones", `{"listed":"2026-11-27T11:59:30Z","zones":[]}`, false, false},
		{"not a zone name", `{"listed":"2026-11-27T11:59:30Z","zones":["example.test./../x"]}`, false, false},
		{"corrupt", `{"listed":"2026-11-27T11:59:30Z","zones":["exam`, false, false},
		{"not JSON", "\x00\x01", false, false},
		{"symbolic link", `{"listed":"2026-11-27T11:59:30Z","zones":["example.test."]}`, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := newCache(dir, "key-a")
			target := c.path(id)
			if tt.link {
				target = filepath.Join(dir, "elsewhere.json")
				if err := os.Symlink(target, c.path(id)); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(target, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, ok := c.Load(id); ok != tt.ok {
				t.Errorf("Load: %v, want %v", ok, tt.ok)
			}
		})
	}
}

// TestZoneCacheSetting: ACME_HOOK_ZONE_CACHE and where a cache is kept.
func TestZoneCacheSetting(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  time.Duration
		err   string
	}{
		{"", time.Minute, ""},
		{"0", 0, ""},
		{"300", 5 * time.Minute, ""},
		{"1.5", 0, `ACME_HOOK_ZONE_CACHE="1.5" is invalid: use whole seconds from 0 to 3600`},
		{"7200", 0, `ACME_HOOK_ZONE_CACHE="7200" is invalid: use whole seconds from 0 to 3600`},
	} {
		got, err := zoneCacheSeconds(testEnv("ACME_HOOK_ZONE_CACHE", tt.value))
		if tt.err != "" && (err == nil || err.Error() != tt.err) || tt.err == "" && (err != nil || got != tt.want) {
			t.Errorf("%q: %v, %v", tt.value, got, err)
		}
	}
	private := t.TempDir()
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	open := t.TempDir()
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		dir  string
		ttl  time.Duration
		want bool
	}{{private, time.Minute, true}, {private, 0, false}, {open, time.Minute, false}, {"off", time.Minute, false}} {
		if got := newZoneCaches(tt.dir, tt.ttl) != nil; got != tt.want {
			t.Errorf("caches in %s for %v: %v, want %v", tt.dir, tt.ttl, got, tt.want)
		}
	}
}
