package hostuptest

import (
	"fmt"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
)

// SeedKey is the API key a [Seeded] fake accepts, with the scopes
// read:dns, write:dns and read:domains.
const SeedKey = "local-stack-api-key-7c1e"

// Seeded starts a fake whose account holds zone with seed (names relative
// to zone) and every name in extra as an empty zone, accepting SeedKey.
func Seeded(zone string, seed []libdns.RR, extra []string) (*Server, error) {
	s := NewServer()
	s.AddKey(SeedKey)
	recs := make([]Record, len(seed))
	for i, rr := range seed {
		r, err := RecordFromRR(rr)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("seed record %d: %w", i, err)
		}
		recs[i] = r
	}
	s.AddZone(zone, recs...)
	for _, z := range extra {
		s.AddZone(z)
	}
	return s, nil
}

// Settings are the provider settings (descriptor keys) that point a
// provider at a [Seeded] fake.
func (s *Server) Settings() map[string]string {
	return map[string]string{"api_key": SeedKey, "api_url": s.URL}
}

// Snapshot returns each record of zone as the API serves it (id, type,
// name, value, ttl, priority, weight, port, status), in zone order: equal
// snapshots mean nothing changed.
func (s *Server) Snapshot(zone string) []string { return apitest.JSONLines(s.Records(zone)) }

// FailServerErrors makes the next n requests answer with the provider's
// HTTP 500 error (FaultServerError), a fault every client must ride out by
// retrying.
func (s *Server) FailServerErrors(n int) { s.FailNext(n, FaultServerError) }
