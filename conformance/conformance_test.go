// Package conformance runs libdns's own conformance suite (libdnstest, only
// in libdns v1.2.0-alpha.1, hence this nested module) against every
// registered provider, each talking to its fake API: a provider gets it by
// registering its fake (internal/providertest).
package conformance

import (
	"slices"
	"strings"
	"testing"

	"github.com/libdns/libdns/libdnstest"

	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providertest"
)

// TestLibdns runs libdnstest on a zone holding records of its own (the
// shared seed: every common type, quotes, backslashes, non-ASCII text),
// which must all survive byte for byte as the API stores them.
func TestLibdns(t *testing.T) {
	for _, name := range providertest.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d, err := providers.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			fake, err := providertest.StartFake(name, "example.com", providertest.Seed(), []string{"example.net"})
			if err != nil {
				t.Fatal(err)
			}
			defer fake.Close()
			before := fake.Snapshot("example.com")
			p, err := providertest.Provider(d, fake)
			if err != nil {
				t.Fatal(err)
			}
			suite := libdnstest.NewTestSuite(p, "example.com.")
			// No provider's API (documents or clients) shows SVCB or HTTPS.
			suite.SkipRRTypes = map[string]bool{"SVCB": true, "HTTPS": true}
			suite.RunTests(t)

			after := fake.Snapshot("example.com")
			for _, line := range before {
				if !slices.Contains(after, line) {
					t.Errorf("record %s did not survive the suite", line)
				}
			}
			// The suite's own cleanup only removes names starting with
			// "test-", so its SRV records (_service._tcp.test-…) may stay;
			// nothing else may.
			for _, line := range after {
				if !slices.Contains(before, line) && !strings.Contains(line, "_tcp.test-") {
					t.Errorf("the suite left %s behind", line)
				}
			}
			t.Logf("API requests: %v", fake.Requests())
		})
	}
}
