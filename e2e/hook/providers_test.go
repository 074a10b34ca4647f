package hook

import (
	"testing"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
)

// TestEveryProvider obtains an apex + wildcard certificate through the hook
// for every registered provider, from lego's exec (default and RAW),
// certbot and chained dehydrated: the certificate verifies, no output
// shows a credential, and the zone ends as it began, with the stale
// challenge value another client left at the name still there. A new provider is
// covered by registering its fake.
func TestEveryProvider(t *testing.T) {
	t.Parallel()
	clients := []struct {
		name  string
		issue acmeClient
	}{
		{"lego_exec", legoExec()},
		{"lego_exec_RAW", legoExec("EXEC_MODE=RAW")},
		{"certbot", certbot},
		{"dehydrated", dehydrated(true)},
	}
	for _, provider := range localstack.Providers() {
		for _, c := range clients {
			t.Run(provider+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				stack := newStack(t, localstack.Options{Provider: provider, CA: true, Zones: []string{"example.net"}})
				addStaleChallenge(t, stack)
				before := stack.Fake.Snapshot(localstack.Zone)
				stack.Fake.ResetCounts()
				out := obtain(t, newE2E(t, stack, hookEnv(t, stack, "ACME_HOOK_PROPAGATION_TIMEOUT=20")), c.issue, wildcardNames)
				assertNoSecrets(t, out, stack.Secrets()...)
				if len(stack.Fake.Requests()) == 0 {
					t.Errorf("no request reached the %s fake: the certificate was not obtained through acme-dns-hook", provider)
				}
				assertZoneUnchanged(t, stack, before)
			})
		}
	}
}
