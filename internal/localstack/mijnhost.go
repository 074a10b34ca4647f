package localstack

import (
	"encoding/json"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
)

// APIKey is the key every fake of the stack accepts.
const APIKey = "local-stack-api-key-7c1e"

type mijnhostFake struct{ *mijnhosttest.Server }

func init() {
	fakes["mijnhost"] = func(seed []libdns.RR, extra []string) (Fake, error) {
		s := mijnhosttest.NewServer()
		s.AddKey(APIKey)
		recs := make([]mijnhosttest.Record, len(seed))
		for i, rr := range seed {
			recs[i] = mijnhosttest.Record{Type: rr.Type, Name: libdns.AbsoluteName(rr.Name, Zone+"."), Value: rr.Data, TTL: int(rr.TTL / time.Second)}
		}
		s.AddDomain(Zone, recs...)
		for _, z := range extra {
			s.AddDomain(z)
		}
		return &mijnhostFake{s}, nil
	}
}

func (f *mijnhostFake) Env() []string {
	return []string{"MIJNHOST_API_KEY=" + APIKey, "MIJNHOST_API_URL=" + f.URL}
}

func (f *mijnhostFake) Snapshot(zone string) []string {
	var out []string
	for _, r := range f.Records(zone) {
		b, _ := json.Marshal(r)
		out = append(out, string(b))
	}
	return out
}
