package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providertest"
)

// TestPresentWaitsForDNS freezes the DNS server before present, so the
// record the API now holds is not served: the hook must keep asking (twice
// at least) without returning, and return once the server catches up. A
// hook that trusted the API's answer would return before DNS had the value,
// and the ACME server would fail the challenge.
func TestPresentWaitsForDNS(t *testing.T) {
	stack, err := providertest.Start("mijnhost", providertest.Zone, providertest.Seed(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	const name = "_acme-challenge.example.test."
	env := append(stack.Env(), "ACME_HOOK_LOCK_DIR="+t.TempDir(), "ACME_HOOK_POLLING_INTERVAL=1", "ACME_HOOK_PROPAGATION_TIMEOUT=600")
	stack.DNS.Freeze()
	answers := make(chan *dns.Msg, 100)
	stack.DNS.OnQuery(func(q dns.Question, m *dns.Msg) {
		if q.Qtype == dns.TypeTXT && strings.EqualFold(q.Name, name) {
			answers <- m.Copy()
		}
	})
	done := make(chan int, 1)
	stderr := &apitest.Buffer{}
	go func() {
		done <- run(context.Background(), []string{"present", name, goodValue}, envFunc(env), &bytes.Buffer{}, stderr)
	}()
	for asked := 0; asked < 2; {
		select {
		case m := <-answers:
			if strings.Contains(m.String(), goodValue) {
				t.Fatal("the frozen server served the new value")
			}
			asked++
		case code := <-done:
			t.Fatalf("present returned (exit %d) while DNS did not have the record: %s", code, stderr.String())
		}
	}
	stack.DNS.Thaw()
	if code := <-done; code != 0 {
		t.Fatalf("present exited %d after DNS caught up: %s", code, stderr.String())
	}
}
