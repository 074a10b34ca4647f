package localstack

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/realtimeregister"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/realtimeregister/realtimeregistertest"
)

// The user the Realtime Register fake accepts besides APIKey, for tests of
// Basic and session authentication.
const (
	RealtimeRegisterUsername = "localstack/acme"
	RealtimeRegisterPassword = "local-stack-password-3f9d"
)

type realtimeregisterFake struct{ *realtimeregistertest.Server }

func init() {
	fakes["realtimeregister"] = startRealtimeRegister
}

// startRealtimeRegister seeds Zone as a BASIC zone linked to the registered
// domain, converting the seed through the client's own record model (TXT
// escaping, MX and SRV priorities in prio, host names without dot), and
// every extra name as an empty BASIC zone.
func startRealtimeRegister(seed []libdns.RR, extra []string) (Fake, error) {
	s := realtimeregistertest.NewServer()
	s.AddAPIKey(APIKey)
	s.AddUser(RealtimeRegisterUsername, RealtimeRegisterPassword)
	recs, err := RealtimeRegisterRecords(Zone, seed...)
	if err != nil {
		s.Close()
		return nil, err
	}
	id := s.AddZone(realtimeregistertest.Zone{Name: Zone, Records: recs})
	s.AddDomain(realtimeregistertest.Domain{Name: Zone, ZoneID: id})
	for _, z := range extra {
		s.AddZone(realtimeregistertest.Zone{Name: z})
	}
	return &realtimeregisterFake{s}, nil
}

// RealtimeRegisterRecords converts libdns records (names relative to zone)
// to the fake's records the way the provider writes them.
func RealtimeRegisterRecords(zone string, rrs ...libdns.RR) ([]realtimeregistertest.Record, error) {
	out := make([]realtimeregistertest.Record, len(rrs))
	for i, rr := range rrs {
		r, err := realtimeregister.FromData(libdns.AbsoluteName(rr.Name, zone+"."), rr.Type, int(rr.TTL/time.Second), rr.Data, zone)
		if err != nil {
			return nil, fmt.Errorf("seed record %s %s: %w", rr.Name, rr.Type, err)
		}
		out[i] = realtimeregistertest.Record{Name: r.Name, Type: r.Type, Content: r.Content, TTL: r.TTL, Prio: r.Prio}
	}
	return out, nil
}

// RealtimeRegister returns the stack's Realtime Register fake, for tests
// that seed it, count its requests or inject faults; nil if the stack runs
// another provider.
func (s *Stack) RealtimeRegister() *realtimeregistertest.Server {
	if f, ok := s.Fake.(*realtimeregisterFake); ok {
		return f.Server
	}
	return nil
}

func (f *realtimeregisterFake) Env() []string {
	return []string{"REALTIMEREGISTER_API_KEY=" + APIKey, "REALTIMEREGISTER_API_URL=" + f.URL}
}

// Snapshot returns the records of the zone serving zone, each as the JSON
// the API returns for it (every field), in API order.
func (f *realtimeregisterFake) Snapshot(zone string) []string {
	var out []string
	for _, r := range f.Records(f.ZoneID(zone, "")) {
		b, _ := json.Marshal(r)
		out = append(out, string(b))
	}
	return out
}
