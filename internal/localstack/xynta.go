package localstack

import (
	"encoding/json"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/xynta/xyntatest"
)

// The credentials the stack's Xynta fake accepts.
const (
	XyntaUID  = "local-stack-uid-52290"
	XyntaHash = "local-stack-hash-3f9a0c6d1e"
)

type xyntaFake struct{ *xyntatest.Server }

func init() {
	fakes["xynta"] = func(seed []libdns.RR, extra []string) (Fake, error) {
		s := xyntatest.NewServer()
		s.AddCredentials(XyntaUID, XyntaHash)
		recs := make([]json.RawMessage, len(seed))
		for i, rr := range seed {
			// Seed names are relative ("@", "www", "_sip._tcp"): the form the
			// Xynta API uses.
			recs[i] = xyntatest.Record{Name: rr.Name, Type: rr.Type, Value: rr.Data, TTL: int(rr.TTL / time.Second)}.JSON()
		}
		s.AddDomain(Zone, recs...)
		for _, z := range extra {
			s.AddDomain(z)
		}
		return &xyntaFake{s}, nil
	}
}

// Xynta returns the Xynta fake of a stack started with Provider "xynta",
// for tests that count its requests or inject its faults; nil otherwise.
func (s *Stack) Xynta() *xyntatest.Server {
	if f, ok := s.Fake.(*xyntaFake); ok {
		return f.Server
	}
	return nil
}

func (f *xyntaFake) Env() []string {
	return []string{"XYNTA_UID=" + XyntaUID, "XYNTA_HASH=" + XyntaHash, "XYNTA_API_URL=" + f.URL}
}

// Snapshot returns each record's JSON exactly as the fake stores it, in
// zone order: every field, in the order the API serves it.
func (f *xyntaFake) Snapshot(zone string) []string {
	var out []string
	for _, r := range f.Records(zone) {
		out = append(out, string(r))
	}
	return out
}
