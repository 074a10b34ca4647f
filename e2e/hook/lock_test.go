package hook

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/filelock"
)

// goodValue has the shape of a DNS-01 value: 43 base64url characters.
const goodValue = "LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ"

// TestLockAcrossEnvironments runs pairs of hook processes at once on one
// zone of every provider, the two of a pair configured as certbot from an
// SSH session and the same renewal from cron would be: one with
// XDG_RUNTIME_DIR, its own HOME and TMPDIR and the API URL as the fake
// gives it, the other without XDG_RUNTIME_DIR, another HOME and TMPDIR and
// the API URL spelt with or without a trailing slash and the host in
// capitals. Neither sets ACME_HOOK_LOCK_DIR. Both must take the same zone
// lock: every value presented arrives, every value cleaned up goes, and
// nothing else changes. The fake answers slowly, so read-modify-writes that
// did not share a lock would overlap and lose values.
func TestLockAcrossEnvironments(t *testing.T) {
	t.Parallel()
	for _, provider := range localstack.Providers() {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			stack := newStack(t, localstack.Options{Provider: provider})
			before := stack.Fake.Snapshot(localstack.Zone)
			d := stack.Descriptor
			urlVar := d.EnvName(d.Setting("api_url"))
			base := stack.Fake.Settings()["api_url"]
			other := strings.Replace(base, "http://127.0.0.1", "HTTP://127.0.0.1", 1)
			if strings.HasSuffix(other, "/") {
				other = strings.TrimSuffix(other, "/")
			} else {
				other += "/"
			}
			common := append(stack.Env(), "ACME_HOOK_WAIT=false")
			sshDir, cronDir := t.TempDir(), t.TempDir()
			ssh := append(slices.Clone(common), "XDG_RUNTIME_DIR="+sshDir, "HOME="+sshDir, "TMPDIR="+sshDir)
			cron := append(withoutVar(common, urlVar), urlVar+"="+other, "HOME="+cronDir, "TMPDIR="+cronDir)
			stack.Fake.SetLatency(20 * time.Millisecond)

			const pairs = 5
			values := func(cmd string) {
				var wg sync.WaitGroup
				for i := range 2 * pairs {
					env := ssh
					if i%2 == 1 {
						env = cron
					}
					wg.Go(func() {
						var stderr bytes.Buffer
						v := fmt.Sprintf("lock-pair-value-%02d-0123456789abcdefghijklmn", i)
						if code := run(context.Background(), []string{cmd, "_acme-challenge.example.test.", v}, env, &stderr, &stderr); code != 0 {
							t.Errorf("%s %d exited %d: %s", cmd, i, code, stderr.String())
						}
					})
				}
				wg.Wait()
			}
			values("present")
			var got []string
			for _, rr := range stack.Fake.Zones()[localstack.Zone+"."] {
				if rr.Type == "TXT" && strings.HasPrefix(rr.Data, "lock-pair-value-") {
					got = append(got, rr.Data)
				}
			}
			if len(got) != 2*pairs {
				t.Fatalf("%d of %d values presented by processes in two environments arrived: %q", len(got), 2*pairs, got)
			}
			values("cleanup")
			stack.Fake.SetLatency(0)
			assertZoneUnchanged(t, stack, before)
		})
	}
}

// TestLockHeldTooLong holds the zone's lock in this process, as a hung hook
// would, and runs the hook with a one-second ACME_HOOK_LOCK_TIMEOUT: it
// says whom it waits for, gives up with an error naming the holder and the
// setting, exits non-zero, and changes nothing.
func TestLockHeldTooLong(t *testing.T) {
	t.Parallel()
	stack := newStack(t, localstack.Options{})
	before := stack.Fake.Snapshot(localstack.Zone)
	u, err := url.Parse(stack.Fake.Settings()["api_url"])
	if err != nil {
		t.Fatal(err)
	}
	// The key the mijn.host provider locks the zone with, in the default
	// directory every process of this user shares.
	unlock, err := filelock.Lock(context.Background(), filelock.DefaultDir(), "mijnhost "+api.Endpoint(u)+"|"+localstack.Zone+".")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	env := append(stack.Env(), "ACME_HOOK_WAIT=false", "ACME_HOOK_LOCK_TIMEOUT=1")
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"present", "_acme-challenge.example.test.", goodValue}, env, &stderr, &stderr)
	out := stderr.String()
	if code != 1 {
		t.Errorf("exit %d, want 1: %s", code, out)
	}
	pid := "pid " + strconv.Itoa(os.Getpid())
	for _, want := range []string{"waiting up to 1s for the zone lock held by " + pid, "still held by " + pid, "ACME_HOOK_LOCK_TIMEOUT"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	stack.Fake.SetLatency(0)
	assertZoneUnchanged(t, stack, before)
}
