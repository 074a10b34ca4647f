package conformance

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/libdns/libdns/libdnstest"

	rtrtest "github.com/acme-dns-hook/acme-dns-hook/internal/api/realtimeregister/realtimeregistertest"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/realtimeregister"
)

// TestRealtimeRegisterAuthModesAndPremiumTwin runs libdnstest against the Realtime Register fake,
// once per way of authenticating, on a zone that has records of its own
// (which must survive byte for byte) and a PREMIUM twin the provider must
// leave alone.
func TestRealtimeRegisterAuthModesAndPremiumTwin(t *testing.T) {
	tests := []struct {
		name string
		auth func(*realtimeregister.Provider)
	}{
		{"api_key", func(p *realtimeregister.Provider) { p.APIKey = "conformance-key" }},
		{"session", func(p *realtimeregister.Provider) {
			p.Username, p.Password = "conformance/user", "conformance-password"
		}},
		{"basic", func(p *realtimeregister.Provider) {
			p.Username, p.Password, p.Auth = "conformance/user", "conformance-password", "basic"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := rtrtest.NewServer()
			defer fake.Close()
			fake.AddAPIKey("conformance-key")
			fake.AddUser("conformance/user", "conformance-password")
			seed := []rtrtest.Record{
				{Name: "example.com", Type: "A", Content: "192.0.2.1", TTL: 900},
				{Name: "example.com", Type: "TXT", Content: `v=spf1 -all`, TTL: 900},
				{Name: "example.com", Type: "MX", Content: "mail.example.com", TTL: 900, Prio: rtrtest.Prio(10)},
				{Name: "quoted.example.com", Type: "TXT", Content: `a \"quoted\" \\ value`, TTL: 300},
			}
			id := fake.AddZone(rtrtest.Zone{Name: "example.com", Records: seed})
			premium := fake.AddZone(rtrtest.Zone{Name: "example.com", Service: rtrtest.Premium,
				Records: []rtrtest.Record{{Name: "example.com", Type: "A", Content: "192.0.2.99", TTL: 600}}})
			fake.AddDomain(rtrtest.Domain{Name: "example.com", ZoneID: id})
			fake.AddZone(rtrtest.Zone{Name: "example.net"})
			p := &realtimeregister.Provider{APIURL: fake.URL}
			tt.auth(p)

			suite := libdnstest.NewTestSuite(p, "example.com.")
			// The API's record types (official TypeScript and PHP clients) do
			// not include SVCB and HTTPS.
			suite.SkipRRTypes = map[string]bool{"SVCB": true, "HTTPS": true}
			suite.RunTests(t)

			got := fake.Records(id)
			for _, r := range seed {
				want, _ := json.Marshal(r)
				if !slices.ContainsFunc(got, func(g rtrtest.Record) bool { b, _ := json.Marshal(g); return string(b) == string(want) }) {
					t.Errorf("record %s did not survive the suite", want)
				}
			}
			if rest := fake.Records(premium); len(rest) != 1 || rest[0].Content != "192.0.2.99" {
				t.Errorf("the PREMIUM zone was touched: %+v", rest)
			}
			t.Logf("API requests: %v", fake.Requests())
		})
	}
}
