// Package conformance runs libdns's own conformance suite (libdnstest, only
// in libdns v1.2.0-alpha.1, hence this nested module) against every provider
// of this project, each talking to its fake API.
package conformance

import (
	"testing"
	"time"

	"github.com/libdns/libdns/libdnstest"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/mijnhost"
)

var fastRetry = api.Retry{Attempts: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}

func TestMijnhost(t *testing.T) {
	fake := mijnhosttest.NewServer()
	defer fake.Close()
	fake.AddKey("conformance-key")
	// The zone starts with records of its own, as a real one would.
	fake.AddDomain("example.com",
		mijnhosttest.Record{Type: "A", Name: "example.com.", Value: "192.0.2.1", TTL: 900},
		mijnhosttest.Record{Type: "TXT", Name: "example.com.", Value: "v=spf1 -all", TTL: 900},
	)
	fake.AddDomain("example.net")
	p := &mijnhost.Provider{APIKey: "conformance-key", APIURL: fake.URL, Retry: fastRetry}
	suite := libdnstest.NewTestSuite(p, "example.com.")
	// mijn.host accepts A AAAA CNAME MX TXT SRV NS CAA; SVCB and HTTPS are
	// not among the types any client or document shows.
	suite.SkipRRTypes = map[string]bool{"SVCB": true, "HTTPS": true}
	suite.RunTests(t)
	before := []mijnhosttest.Record{
		{Type: "A", Name: "example.com.", Value: "192.0.2.1", TTL: 900},
		{Type: "TXT", Name: "example.com.", Value: "v=spf1 -all", TTL: 900},
	}
	got := fake.Records("example.com")
	for _, r := range before {
		found := false
		for _, g := range got {
			found = found || g == r
		}
		if !found {
			t.Errorf("record %+v did not survive the suite", r)
		}
	}
}
