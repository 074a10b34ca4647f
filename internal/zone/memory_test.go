package zone

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libdns/libdns"
)

// memory is an in-memory account used by the engine tests: it records what
// the engine sends so tests can assert on the exact bytes and call counts.
type memory struct {
	id    string
	delay time.Duration // per call, to widen race windows

	mu      sync.Mutex
	zones   map[string][]Record
	calls   map[string]int
	writes  [][]Record
	nextID  int
	dropNew bool // Write silently drops records created by the engine
}

// newMemory returns an account whose backend ID is id made unique, since
// engines share queues and zone lists by ID for the life of the process
// (go test -count runs a test again in the same process).
func newMemory(id string, zones map[string][]Record) *memory {
	return &memory{id: fmt.Sprintf("%s#%d", id, memories.Add(1)), zones: zones, calls: map[string]int{}}
}

var memories atomic.Int64

func (m *memory) ID() string { return m.id }

func (m *memory) count(name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[name]
}

func (m *memory) call(name string) {
	m.mu.Lock()
	m.calls[name]++
	m.mu.Unlock()
	time.Sleep(m.delay)
}

func (m *memory) Zones(context.Context) ([]string, error) {
	m.call("zones")
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for z := range m.zones {
		out = append(out, z)
	}
	return out, nil
}

func (m *memory) Read(_ context.Context, zone string) ([]Record, error) {
	m.call("read")
	m.mu.Lock()
	defer m.mu.Unlock()
	recs, ok := m.zones[zone]
	if !ok {
		return nil, fmt.Errorf("no zone %s", zone)
	}
	return append([]Record(nil), recs...), nil
}

func (m *memory) snapshot(zone string) []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Record(nil), m.zones[zone]...)
}

// rawOf is the memory backend's own encoding, with a field the engine does
// not know about.
func rawOf(rr libdns.RR, extra string) []byte {
	b, _ := json.Marshal(map[string]any{"name": rr.Name, "type": rr.Type, "data": rr.Data, "ttl": int(rr.TTL.Seconds()), "x-extra": extra})
	return b
}

// whole is the whole-zone flavour.
type whole struct{ *memory }

func (w whole) Write(_ context.Context, zone string, recs []Record) error {
	w.call("write")
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, append([]Record(nil), recs...))
	var stored []Record
	for _, r := range recs {
		if r.Raw == nil {
			if w.dropNew {
				continue
			}
			r.Raw = rawOf(r.RR, "created")
		}
		stored = append(stored, r)
	}
	w.zones[zone] = stored
	return nil
}

// perRecord is the per-record flavour.
type perRecord struct{ *memory }

func (p perRecord) Create(_ context.Context, zone string, rr libdns.RR) (Record, error) {
	p.call("create")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextID++
	r := Record{RR: rr, Raw: rawOf(rr, "created"), ID: strconv.Itoa(p.nextID)}
	p.zones[zone] = append(p.zones[zone], r)
	return r, nil
}

func (p perRecord) Delete(_ context.Context, zone string, r Record) error {
	p.call("delete")
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, cur := range p.zones[zone] {
		if cur.ID == r.ID {
			p.zones[zone] = append(p.zones[zone][:i:i], p.zones[zone][i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("no record with id %s", r.ID)
}

// seed returns records with absolute names and Raw, from "name type ttl data" lines.
func seed(zone string, lines ...[4]string) []Record {
	var out []Record
	for i, l := range lines {
		ttl, _ := strconv.Atoi(l[2])
		rr := libdns.RR{Name: libdns.AbsoluteName(l[0], zone), Type: l[1], TTL: time.Duration(ttl) * time.Second, Data: l[3]}
		out = append(out, Record{RR: rr, Raw: rawOf(rr, "seed"), ID: "s" + strconv.Itoa(i)})
	}
	return out
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
