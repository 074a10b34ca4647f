package hook

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
)

// TestZoneListCache runs the built hook as lego's exec does, one process
// per call, on mijn.host's fake, and counts the requests exactly: the
// account's zones are listed by the first call only, the list kept in the
// lock directory without any secret, and only if that directory is
// private; a corrupt or stale list is not trusted, ACME_HOOK_ZONE_CACHE=0
// turns the cache off, and each account has a file of its own.
func TestZoneListCache(t *testing.T) {
	t.Parallel()
	const (
		list = mijnhosttest.EndpointListDomains
		get  = mijnhosttest.EndpointGetRecords
		put  = mijnhosttest.EndpointPutRecords
	)
	stack := newStack(t, localstack.Options{Provider: "mijnhost"})
	dir := t.TempDir()
	env := hookEnv(t, stack, "ACME_HOOK_LOCK_DIR="+dir, "ACME_HOOK_WAIT=false")
	before := stack.Fake.Snapshot(localstack.Zone)
	hook := func(env []string, args ...string) {
		t.Helper()
		var out bytes.Buffer
		if code := run(context.Background(), args, env, &out, &out); code != 0 {
			t.Fatalf("acme-dns-hook %s: exit %d\n%s", strings.Join(args, " "), code, out.String())
		}
	}
	counts := func(step string, want map[string]int) {
		t.Helper()
		if got := stack.Fake.Requests(); !maps.Equal(got, want) {
			t.Errorf("%s: API requests %v, want %v", step, got, want)
		}
		stack.Fake.ResetCounts()
	}
	cacheFile := func() string {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(dir, "zones-*.json"))
		if len(files) != 1 {
			t.Fatalf("cache files %q, want one", files)
		}
		return files[0]
	}
	names := []string{"_acme-challenge.a.example.test.", "_acme-challenge.b.example.test."}

	// A lock directory other users may read holds no cache.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stack.Fake.ResetCounts()
	for _, n := range names {
		hook(env, "present", n, goodValue)
		hook(env, "cleanup", n, goodValue)
	}
	counts("directory others may read", map[string]int{list: 4, get: 4, put: 4})
	if files, _ := filepath.Glob(filepath.Join(dir, "zones-*")); len(files) != 0 {
		t.Errorf("cache files in a directory others may read: %q", files)
	}

	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		hook(env, "present", n, goodValue)
	}
	counts("two presents", map[string]int{list: 1, get: 2, put: 2})
	for _, n := range names {
		hook(env, "cleanup", n, goodValue)
	}
	counts("two cleanups", map[string]int{get: 2, put: 2})
	assertZoneUnchanged(t, stack, before)

	// Nothing in the directory holds a secret.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		for _, s := range stack.Secrets() {
			if strings.Contains(e.Name(), s) || bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a secret", e.Name())
			}
		}
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}

	// A corrupt file is ignored, and replaced by the fresh list.
	file := cacheFile()
	if err := os.WriteFile(file, []byte(`{"listed": "yesterday", "zones": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	hook(env, "present", names[0], goodValue)
	counts("present over a corrupt cache", map[string]int{list: 1, get: 1, put: 1})
	var s struct{ Zones []string }
	if b, err := os.ReadFile(file); err != nil || json.Unmarshal(b, &s) != nil || !strings.Contains(strings.Join(s.Zones, " "), "example.test.") {
		t.Errorf("cache file after the corrupt one: %v %q", err, s.Zones)
	}

	// A stored list without the name's zone: listed once more, then used.
	stale, _ := json.Marshal(map[string]any{"listed": time.Now().UTC(), "zones": []string{"elsewhere.test."}})
	if err := os.WriteFile(file, stale, 0o600); err != nil {
		t.Fatal(err)
	}
	hook(env, "cleanup", names[0], goodValue)
	counts("cleanup over a stale cache", map[string]int{list: 1, get: 1, put: 1})

	// Turned off: every call lists.
	off := append(env, "ACME_HOOK_ZONE_CACHE=0")
	hook(off, "present", names[1], goodValue)
	hook(off, "cleanup", names[1], goodValue)
	counts("cache off", map[string]int{list: 2, get: 2, put: 2})
	assertZoneUnchanged(t, stack, before)

	// Another account (another fake) beside it: a file of its own.
	other := newStack(t, localstack.Options{Provider: "mijnhost"})
	otherEnv := hookEnv(t, other, "ACME_HOOK_LOCK_DIR="+dir, "ACME_HOOK_WAIT=false")
	hook(otherEnv, "present", names[0], goodValue)
	hook(otherEnv, "cleanup", names[0], goodValue)
	if files, _ := filepath.Glob(filepath.Join(dir, "zones-*.json")); len(files) != 2 {
		t.Errorf("cache files of two accounts: %q", files)
	}
}

// TestLegoExecRequestCounts obtains a certificate with the lego CLI's
// exec provider and the built hook, one process per call, at mijn.host's
// fake with a private lock directory: each present and each cleanup costs
// one zone read and one write, and the account's zones are listed once.
func TestLegoExecRequestCounts(t *testing.T) {
	t.Parallel()
	stack := newStack(t, localstack.Options{Provider: "mijnhost", CA: true})
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	w := newE2E(t, stack, hookEnv(t, stack, "ACME_HOOK_LOCK_DIR="+dir))
	before := stack.Fake.Snapshot(localstack.Zone)
	stack.Fake.ResetCounts()
	names := []string{"example.test", "*.example.test", "host1.example.test"}
	obtain(t, w, legoExec(), names)
	calls := 2 * len(names) // a present and a cleanup per name
	want := map[string]int{mijnhosttest.EndpointListDomains: 1, mijnhosttest.EndpointGetRecords: calls, mijnhosttest.EndpointPutRecords: calls}
	if got := stack.Fake.Requests(); !maps.Equal(got, want) {
		t.Errorf("API requests %v, want %v", got, want)
	}
	assertZoneUnchanged(t, stack, before)
}
