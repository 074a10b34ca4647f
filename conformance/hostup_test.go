package conformance

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/libdns/libdns/libdnstest"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/hostup/hostuptest"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/hostup"
)

func TestHostUp(t *testing.T) {
	fake := hostuptest.NewServer()
	defer fake.Close()
	fake.AddKey("conformance-key")
	prio := 10
	// The zone starts with records of its own, as a real one would; every
	// field of them (ids and statuses included) must survive the suite.
	fake.AddZone("example.com",
		hostuptest.Record{Type: "A", Name: "@", Value: "192.0.2.1", TTL: 900},
		hostuptest.Record{Type: "TXT", Name: "@", Value: "v=spf1 -all", TTL: 900},
		hostuptest.Record{Type: "MX", Name: "@", Value: "mail.example.com", TTL: 900, Priority: &prio},
	)
	fake.AddZone("example.net")
	before := fake.Records("example.com")
	p := &hostup.Provider{APIKey: "conformance-key", APIURL: fake.URL, Retry: fastRetry}
	suite := libdnstest.NewTestSuite(p, "example.com.")
	// HostUp takes A AAAA CNAME ALIAS MX TXT NS SRV CAA TLSA; SVCB and HTTPS
	// are not among them.
	suite.SkipRRTypes = map[string]bool{"SVCB": true, "HTTPS": true}
	suite.RunTests(t)
	got := fake.Records("example.com")
	for _, r := range before {
		if !slices.ContainsFunc(got, func(g hostuptest.Record) bool { return reflect.DeepEqual(g, r) }) {
			t.Errorf("record %+v did not survive the suite", r)
		}
	}
	// The suite's own cleanup only removes names starting with "test-", so
	// its SRV records (_service._tcp.test-…) stay; nothing else may.
	for _, g := range got {
		if !slices.ContainsFunc(before, func(r hostuptest.Record) bool { return reflect.DeepEqual(g, r) }) &&
			!(g.Type == "SRV" && strings.Contains(g.Name, "._tcp.test-")) {
			t.Errorf("the suite left %+v behind", g)
		}
	}
	t.Logf("requests: %v", fake.Requests())
}
