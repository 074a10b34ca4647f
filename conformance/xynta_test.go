package conformance

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/libdns/libdns/libdnstest"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/xynta/xyntatest"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/xynta"
)

func TestXynta(t *testing.T) {
	fake := xyntatest.NewServer()
	defer fake.Close()
	fake.AddCredentials("conformance-uid", "conformance-hash")
	// The zone starts with records of its own, as a real one would, one of
	// them with keys the provider does not know: all must survive byte for
	// byte.
	before := []json.RawMessage{
		xyntatest.Record{Name: "@", Type: "A", Value: "192.0.2.1", TTL: 900}.JSON(),
		xyntatest.Record{Name: "@", Type: "TXT", Value: "v=spf1 -all", TTL: 900}.JSON(),
		json.RawMessage(`{"name":"www","type":"CNAME","value":"example.com.","ttl":3600,"id":98765432109876543210,"locked":true}`),
	}
	fake.AddDomain("example.com", before...)
	fake.AddDomain("example.co.uk", xyntatest.Record{Name: "@", Type: "A", Value: "192.0.2.2", TTL: 900}.JSON())
	p := &xynta.Provider{UID: "conformance-uid", Hash: "conformance-hash", APIURL: fake.URL, Retry: fastRetry}
	suite := libdnstest.NewTestSuite(p, "example.com.")
	// The fake accepts A AAAA CNAME MX TXT SRV NS CAA (which types the real
	// API takes is unknown); SVCB and HTTPS are not among them.
	suite.SkipRRTypes = map[string]bool{"SVCB": true, "HTTPS": true}
	suite.RunTests(t)
	got := fake.Records("example.com")
	for _, r := range before {
		if !slices.ContainsFunc(got, func(g json.RawMessage) bool { return bytes.Equal(g, r) }) {
			t.Errorf("record %s did not survive the suite byte for byte", r)
		}
	}
	t.Logf("requests: %v", fake.Requests())
}
