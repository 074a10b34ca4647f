package localstack

import (
	"encoding/json"
	"fmt"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/hostup/hostuptest"
)

type hostupFake struct{ *hostuptest.Server }

func init() {
	fakes["hostup"] = func(seed []libdns.RR, extra []string) (Fake, error) {
		s := hostuptest.NewServer()
		s.AddKey(APIKey) // with the scopes read:dns, write:dns, read:domains
		recs := make([]hostuptest.Record, len(seed))
		for i, rr := range seed {
			r, err := hostuptest.RecordFromRR(rr)
			if err != nil {
				s.Close()
				return nil, fmt.Errorf("seed record %d: %w", i, err)
			}
			recs[i] = r
		}
		s.AddZone(Zone, recs...)
		for _, z := range extra {
			s.AddZone(z)
		}
		return &hostupFake{s}, nil
	}
}

// HostUp returns the HostUp fake of a stack started with Provider "hostup",
// for tests that count its requests or inject its faults; nil otherwise.
func (s *Stack) HostUp() *hostuptest.Server {
	if f, ok := s.Fake.(*hostupFake); ok {
		return f.Server
	}
	return nil
}

func (f *hostupFake) Env() []string {
	return []string{"HOSTUP_API_KEY=" + APIKey, "HOSTUP_API_URL=" + f.URL}
}

// Snapshot returns each record as the API serves it (id, type, name, value,
// ttl, priority, weight, port, status), in zone order.
func (f *hostupFake) Snapshot(zone string) []string {
	var out []string
	for _, r := range f.Records(zone) {
		b, _ := json.Marshal(r)
		out = append(out, string(b))
	}
	return out
}
