package hook

import (
	"context"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/hostup/hostuptest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providertest"
)

// staleValue is a challenge value another ACME client left behind.
const staleValue = "stale-value-of-another-client-0123456789ab"

// addStaleChallenge writes staleValue at _acme-challenge of the stack's
// zone through its provider, before a test takes its snapshot: a cleanup
// that removes every value at the name, not just its own, then changes the
// zone and fails the test.
func addStaleChallenge(t *testing.T, stack *localstack.Stack) {
	t.Helper()
	p, err := providertest.Provider(stack.Descriptor, stack.Fake)
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := stack.Fake.(*hostuptest.Server); ok {
		// Active at once, so the snapshot does not change when it would
		// turn from pending to active; then the fake's default again.
		h.SetPendingFor(0)
		defer h.SetPendingFor(time.Second)
	}
	if _, err := p.AppendRecords(context.Background(), localstack.Zone+".", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: staleValue}}); err != nil {
		t.Fatal(err)
	}
}
