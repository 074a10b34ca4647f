package providertest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
)

// TestKitLockKeyIgnoresURLSpelling configures each provider with several
// spellings of its fake's API URL, as two processes of one machine may be
// configured (one with a trailing slash, one without; a host in capitals; a
// default port): each must ask for the same cross-process lock, or their
// read-modify-writes of one zone would interleave and lose records.
func TestKitLockKeyIgnoresURLSpelling(t *testing.T) {
	forEachProvider(t, func(t *testing.T, k *kit) {
		d, f := k.d, k.fake
		base := f.Settings()["api_url"]
		if base == "" {
			t.Fatal("the fake sets no api_url")
		}
		trimmed := strings.TrimSuffix(base, "/")
		spellings := []string{base, trimmed, trimmed + "/", strings.Replace(trimmed, "http://127.0.0.1", "HTTP://127.0.0.1", 1) + "//"}
		var mu sync.Mutex
		keys := map[string][]string{}
		for _, u := range spellings {
			env := Env(d, f)
			urlVar := d.EnvName(d.Setting("api_url"))
			p, err := providers.New(d, func(k string) (string, bool) {
				if k == urlVar {
					return u, true
				}
				return env(k)
			}, providers.Options{Lock: func(ctx context.Context, key string) (func(), error) {
				mu.Lock()
				keys[key] = append(keys[key], u)
				mu.Unlock()
				return func() {}, nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.AppendRecords(context.Background(), Zone+".", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "lock-" + u}}); err != nil {
				t.Fatalf("api_url %q: %v", u, err)
			}
		}
		if len(keys) != 1 {
			t.Fatalf("the spellings of one API URL took different locks: %q", keys)
		}
	})
}
