package realtimeregistertest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/libdns/libdns"
)

// The credentials a [Seeded] fake accepts: an API key, and a user for tests
// of Basic and session authentication.
const (
	SeedKey      = "local-stack-api-key-7c1e"
	SeedUsername = "localstack/acme"
	SeedPassword = "local-stack-password-3f9d"
)

// Seeded starts a fake whose account holds zone as a BASIC zone linked to
// the registered domain, with seed (names relative to zone), and every name
// in extra as an empty BASIC zone.
func Seeded(zone string, seed []libdns.RR, extra []string) (*Server, error) {
	recs := make([]Record, len(seed))
	for i, rr := range seed {
		r, err := RecordFromRR(rr, zone)
		if err != nil {
			return nil, err
		}
		recs[i] = r
	}
	s := NewServer()
	s.AddAPIKey(SeedKey)
	s.AddUser(SeedUsername, SeedPassword)
	id := s.AddZone(Zone{Name: zone, Records: recs})
	s.AddDomain(Domain{Name: zone, ZoneID: id})
	for _, z := range extra {
		s.AddZone(Zone{Name: z})
	}
	return s, nil
}

// RecordFromRR converts a libdns record (name relative to zone) to the form
// the API stores: absolute name without dot, MX and SRV priority in prio,
// host names absolute without dot, TXT with \ and " escaped.
func RecordFromRR(rr libdns.RR, zone string) (Record, error) {
	origin := strings.TrimSuffix(strings.ToLower(zone), ".")
	r := Record{
		Name: strings.TrimSuffix(libdns.AbsoluteName(rr.Name, origin+"."), "."),
		Type: strings.ToUpper(rr.Type),
		TTL:  int(rr.TTL / time.Second),
	}
	host := func(h string) string {
		switch {
		case h == ".":
			return h
		case strings.HasSuffix(h, "."):
			return strings.TrimSuffix(h, ".")
		}
		return h + "." + origin
	}
	f := strings.Fields(rr.Data)
	switch r.Type {
	case "TXT":
		r.Content = strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(rr.Data)
	case "MX", "SRV":
		want := map[string]int{"MX": 2, "SRV": 4}[r.Type]
		if len(f) != want {
			return Record{}, fmt.Errorf("seed record %s %s: data %q has %d fields, want %d", rr.Name, r.Type, rr.Data, len(f), want)
		}
		p, err := strconv.Atoi(f[0])
		if err != nil {
			return Record{}, fmt.Errorf("seed record %s %s: priority %q: %w", rr.Name, r.Type, f[0], err)
		}
		r.Prio = Prio(p)
		r.Content = host(f[len(f)-1])
		if r.Type == "SRV" {
			r.Content = f[1] + " " + f[2] + " " + r.Content
		}
	case "CNAME", "NS", "ALIAS":
		r.Content = host(strings.TrimSpace(rr.Data))
	default:
		r.Content = strings.TrimSpace(rr.Data)
	}
	return r, nil
}

// Settings are the provider settings (descriptor keys) that point a
// provider at a [Seeded] fake.
func (s *Server) Settings() map[string]string {
	return map[string]string{"api_key": SeedKey, "api_url": s.URL}
}

// Snapshot returns the records of the zone serving zone, each as the JSON
// the API returns for it (every field), in API order: equal snapshots mean
// nothing changed.
func (s *Server) Snapshot(zone string) []string {
	id := s.ZoneID(zone, "")
	s.mu.Lock()
	defer s.mu.Unlock()
	z, ok := s.zones[id]
	if !ok {
		return nil
	}
	out := make([]string, len(z.raws))
	for i, r := range z.raws {
		out[i] = string(r)
	}
	return out
}

// FailServerErrors makes the next n requests answer with the provider's
// HTTP 500 error (FaultServerError), a fault every client must ride out by
// retrying.
func (s *Server) FailServerErrors(n int) { s.FailNext(n, FaultServerError) }
