package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/filelock"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

// defaultZoneCache is how long, in seconds, a hook process reuses the
// account's zone list another one stored (ACME_HOOK_ZONE_CACHE).
const defaultZoneCache = 60

// zoneCacheSeconds reads ACME_HOOK_ZONE_CACHE: whole seconds, 0 turns the
// cache off; defaultZoneCache when unset.
func zoneCacheSeconds(env settings.Env) (time.Duration, error) {
	v, err := env.Get("ACME_HOOK_ZONE_CACHE")
	if err != nil {
		return 0, err
	}
	if v == "" {
		return defaultZoneCache * time.Second, nil
	}
	n, err := env.Seconds("ACME_HOOK_ZONE_CACHE", 0, 3600)
	return time.Duration(n) * time.Second, err
}

// zoneCache keeps one account's zone list in a file beside the lock files,
// so that the hook processes a client starts one per call (lego's exec)
// list the account's zones once rather than once each (a
// zone.ZoneListStore, reached through providers.Options.ZoneList).
//
// What the directory shows: the file's name is an HMAC keyed with the
// account's settings (credentials included) over the provider's name and
// API endpoint, so it tells accounts apart without containing or revealing
// a credential; the file holds the zone names and when they were listed.
// Whoever can read the directory (this user and root: it must be private,
// else the cache is off) could test a guessed credential against the name,
// but can read the hook's environment anyway.
//
// A file that is missing, unreadable, not a regular file, corrupt, from the
// future or older than ttl is ignored; writes go to a temporary file
// renamed into place, so a reader never sees half a list. Errors are never
// reported: without the cache the zones are listed, as before.
type zoneCache struct {
	dir, provider string
	key           []byte // HMAC key: the account's settings
	ttl           time.Duration
	now           func() time.Time

	mu     sync.Mutex
	off    bool            // dropped: this process lists at the API from now on
	served bool            // a stored list was used by this process
	ids    map[string]bool // the endpoints asked for, for drop
}

// newZoneCache returns the cache of the account of provider d configured
// in env, kept in dir.
func newZoneCache(dir string, d *settings.Descriptor, env settings.Env, ttl time.Duration) *zoneCache {
	mac := sha256.New()
	for i := range d.Settings {
		v, _ := env.Get(d.EnvName(&d.Settings[i]))
		fmt.Fprintf(mac, "%d:%s=%d:%s;", len(d.Settings[i].Key), d.Settings[i].Key, len(v), v)
	}
	return &zoneCache{dir: dir, provider: d.Name, key: mac.Sum(nil), ttl: ttl, now: time.Now, ids: map[string]bool{}}
}

// path is the file of the account's list at the API endpoint id names.
func (c *zoneCache) path(id string) string {
	m := hmac.New(sha256.New, c.key)
	fmt.Fprintf(m, "acme-dns-hook zone list\x00%s\x00%s", c.provider, id)
	return filepath.Join(c.dir, "zones-"+c.provider+"-"+hex.EncodeToString(m.Sum(nil)[:16])+".json")
}

// stored is the file's content.
type stored struct {
	Listed time.Time `json:"listed"`
	Zones  []string  `json:"zones"`
}

// maxCacheFile bounds what is read of a cache file.
const maxCacheFile = 1 << 20

// Load returns the stored list when it is fresh and well-formed.
func (c *zoneCache) Load(id string) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids[id] = true
	if c.off {
		return nil, false
	}
	path := c.path(id)
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		return nil, false // missing, or a link or anything else planted there
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(f, maxCacheFile+1))
	var s stored
	if err != nil || len(b) > maxCacheFile || json.Unmarshal(b, &s) != nil || len(s.Zones) == 0 {
		return nil, false
	}
	age := c.now().Sub(s.Listed)
	if s.Listed.IsZero() || age < -time.Minute || age >= c.ttl {
		return nil, false
	}
	for _, z := range s.Zones {
		if z == "" || len(z) > 254 || strings.ContainsAny(z, " \t\r\n/\\\"") {
			return nil, false
		}
	}
	c.served = true
	return s.Zones, true
}

// Store writes the list the API just returned.
func (c *zoneCache) Store(id string, zones []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids[id] = true
	b, err := json.Marshal(stored{Listed: c.now().UTC(), Zones: zones})
	if err != nil {
		return
	}
	f, err := os.CreateTemp(c.dir, ".zones-*.tmp")
	if err != nil {
		return
	}
	_, werr := f.Write(b)
	if cerr := f.Close(); werr != nil || cerr != nil || os.Rename(f.Name(), c.path(id)) != nil {
		os.Remove(f.Name())
	}
}

// drop stops this process from using stored lists and removes them, when
// it used one: a name no stored zone held must be looked up in a fresh
// list. It reports whether a stored list had been used.
func (c *zoneCache) drop() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off = true
	for id := range c.ids {
		os.Remove(c.path(id))
	}
	served := c.served
	c.served = false
	return served
}

// zoneCaches makes the zone caches of a hook process: one per account, in
// dir, or none when ttl is zero or dir is not private to this user.
type zoneCaches struct {
	dir    string
	ttl    time.Duration
	caches []*zoneCache
}

// forAccount returns the cache of provider d's account, or nil when off.
func (z *zoneCaches) forAccount(d *settings.Descriptor, env settings.Env) *zoneCache {
	if z == nil || z.ttl <= 0 {
		return nil
	}
	c := newZoneCache(z.dir, d, env, z.ttl)
	z.caches = append(z.caches, c)
	return c
}

// newZoneCaches returns the caches of a process whose lock directory is
// dir ("off": none).
func newZoneCaches(dir string, ttl time.Duration) *zoneCaches {
	if dir == "off" || ttl <= 0 || filelock.CheckPrivate(dir) != nil {
		return nil
	}
	return &zoneCaches{dir: dir, ttl: ttl}
}

// relisting is the accounts' Set that looks a name up once more, in fresh
// zone lists, when no zone of the stored lists it was given holds it.
type relisting struct {
	*providers.Set
	caches *zoneCaches
}

// ZoneFor is Set.ZoneFor, asked again with fresh lists when it fails after
// a stored list was used.
func (r relisting) ZoneFor(ctx context.Context, name string) (string, string, error) {
	z, account, err := r.Set.ZoneFor(ctx, name)
	if err == nil || r.caches == nil {
		return z, account, err
	}
	used := false
	for _, c := range r.caches.caches {
		if c.drop() {
			used = true
		}
	}
	if !used {
		return z, account, err
	}
	return r.Set.ZoneFor(ctx, name)
}
