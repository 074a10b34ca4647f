package zone

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

// benchZoneSize is the size of the zone the benchmarks merge into.
const benchZoneSize = 2000

// benchStore is a whole-zone backend held in memory that behaves like a
// real one as far as the engine can tell: Read hands out a fresh copy of
// the zone, Write stores what it is given and encodes new records.
type benchStore struct {
	id string

	mu    sync.Mutex
	zones map[string][]Record
}

func (s *benchStore) ID() string { return s.id }

func (s *benchStore) Zones(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for z := range s.zones {
		out = append(out, z)
	}
	return out, nil
}

func (s *benchStore) Read(_ context.Context, zone string) ([]Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs, ok := s.zones[zone]
	if !ok {
		return nil, fmt.Errorf("no zone %s", zone)
	}
	return append([]Record(nil), recs...), nil
}

func (s *benchStore) Write(_ context.Context, zone string, recs []Record) error {
	stored := make([]Record, len(recs))
	for i, r := range recs {
		if r.Raw == nil {
			r.Raw = benchRaw(r.RR)
		}
		stored[i] = r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zones[zone] = stored
	return nil
}

func benchRaw(rr libdns.RR) []byte {
	b, _ := json.Marshal(map[string]any{"type": rr.Type, "name": rr.Name, "value": rr.Data, "ttl": int(rr.TTL / time.Second)})
	return b
}

// benchRecords returns a zone of n records of the usual kinds, with
// absolute names and Raw as a backend would read them.
func benchRecords(zone string, n int) []Record {
	out := make([]Record, 0, n)
	for i := 0; len(out) < n; i++ {
		host := fmt.Sprintf("host%d.%s", i, zone)
		for _, rr := range []libdns.RR{
			{Name: host, Type: "A", TTL: time.Hour, Data: fmt.Sprintf("192.0.2.%d", i%250+1)},
			{Name: host, Type: "AAAA", TTL: time.Hour, Data: fmt.Sprintf("2001:db8::%x", i+1)},
			{Name: host, Type: "TXT", TTL: 300 * time.Second, Data: fmt.Sprintf("site-verification=%08d", i)},
			{Name: "www." + host, Type: "CNAME", TTL: time.Hour, Data: host},
			{Name: host, Type: "MX", TTL: time.Hour, Data: "10 mail." + zone},
		} {
			if len(out) == n {
				break
			}
			out = append(out, Record{RR: rr, Raw: benchRaw(rr)})
		}
	}
	return out
}

func newBenchEngine(b *testing.B, zone string) *Engine {
	b.Helper()
	s := &benchStore{id: "bench " + b.Name(), zones: map[string][]Record{zone: benchRecords(zone, benchZoneSize)}}
	e, err := New(s, Options{GroupWindow: -1}) // the merge alone, not the group-commit wait
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkMerge2000 measures one zone write's worth of engine work on a
// 2,000-record zone: read it, merge the change in, hand the whole zone to
// the backend. Each iteration appends TXT records and deletes them again,
// so the zone is the same at the start of every iteration; ns/op and
// allocs/op cover both operations.
func BenchmarkMerge2000(b *testing.B) {
	const zone = "example.com."
	ctx := context.Background()
	for _, n := range []int{1, 50} {
		b.Run(fmt.Sprintf("append+delete-%d-TXT", n), func(b *testing.B) {
			e := newBenchEngine(b, zone)
			recs := make([]libdns.Record, n)
			for i := range recs {
				recs[i] = libdns.TXT{Name: "_acme-challenge", TTL: time.Minute, Text: fmt.Sprintf("token-%03d-gdD3xYKkIdsFWbIeVYVjpLbnFEGsuW0ug3GIuUR4Ly4", i)}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.AppendRecords(ctx, zone, recs); err != nil {
					b.Fatal(err)
				}
				if _, err := e.DeleteRecords(ctx, zone, recs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
