package xyntatest

import (
	"encoding/json"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
)

// The credentials a [Seeded] fake accepts.
const (
	SeedUID  = "local-stack-uid-52290"
	SeedHash = "local-stack-hash-3f9a0c6d1e"
)

// Seeded starts a fake whose account holds zone with seed (names relative
// to zone, the form the Xynta API uses) and every name in extra as an empty
// domain, accepting SeedUID and SeedHash.
func Seeded(zone string, seed []libdns.RR, extra []string) (*Server, error) {
	s := NewServer()
	s.AddCredentials(SeedUID, SeedHash)
	recs := make([]json.RawMessage, len(seed))
	for i, rr := range seed {
		recs[i] = apitest.HouseStyle(Record{Name: rr.Name, Type: rr.Type, Value: rr.Data, TTL: int(rr.TTL / time.Second)})
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
	return map[string]string{"uid": SeedUID, "hash": SeedHash, "api_url": s.URL}
}

// Snapshot returns each record's JSON exactly as the fake stores it, in
// zone order: equal snapshots mean nothing changed.
func (s *Server) Snapshot(zone string) []string {
	var out []string
	for _, r := range s.Records(zone) {
		out = append(out, string(r))
	}
	return out
}

// FailServerErrors makes the next n requests answer with the provider's
// HTTP 500 error (FaultServerError), a fault every client must ride out by
// retrying.
func (s *Server) FailServerErrors(n int) { s.FailNext(n, FaultServerError) }
