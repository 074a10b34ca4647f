package mijnhosttest

import (
	"time"

	"github.com/libdns/libdns"
)

// SeedKey is the API key a [Seeded] fake accepts.
const SeedKey = "local-stack-api-key-7c1e"

// Seeded starts a fake whose account holds zone with seed (names relative
// to zone) and every name in extra as an empty domain, accepting SeedKey.
func Seeded(zone string, seed []libdns.RR, extra []string) (*Server, error) {
	s := NewServer()
	s.AddKey(SeedKey)
	recs := make([]Record, len(seed))
	for i, rr := range seed {
		recs[i] = Record{Type: rr.Type, Name: libdns.AbsoluteName(rr.Name, zone+"."), Value: rr.Data, TTL: int(rr.TTL / time.Second)}
	}
	s.AddDomain(zone, recs...)
	for _, z := range extra {
		s.AddDomain(z)
	}
	return s, nil
}

// Settings are the provider settings (descriptor keys) that point a
// provider at a [Seeded] fake.
func (s *Server) Settings() map[string]string {
	return map[string]string{"api_key": SeedKey, "api_url": s.URL}
}

// Snapshot returns each record of zone as the API serves it, in API order:
// equal snapshots mean nothing changed.
func (s *Server) Snapshot(zone string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.domains[canonicalDomain(zone)]
	if !ok {
		return nil
	}
	out := make([]string, len(d.raws))
	for i, r := range d.raws {
		out[i] = string(r)
	}
	return out
}

// FailServerErrors makes the next n requests answer with the provider's
// HTTP 500 error (FaultServerError), a fault every client must ride out by
// retrying.
func (s *Server) FailServerErrors(n int) { s.FailNext(n, FaultServerError) }
