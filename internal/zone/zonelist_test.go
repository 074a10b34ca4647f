package zone

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/libdns/libdns"
)

// listStore is a ZoneListStore in memory that counts its calls.
type listStore struct {
	mu           sync.Mutex
	zones        []string
	ok           bool
	loads, saves int
}

func (s *listStore) Load(string) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	return slices.Clone(s.zones), s.ok
}

func (s *listStore) Store(_ string, zones []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves++
	s.zones, s.ok = slices.Clone(zones), true
}

// TestZoneListStore: a stored list replaces the backend's listing; the
// backend's list is stored; a name no stored zone holds is looked up again
// at the backend, once, before it fails.
func TestZoneListStore(t *testing.T) {
	tests := []struct {
		name      string
		stored    []string // nil: nothing stored
		fqdn      string
		wantZone  string
		wantErr   string
		wantLists int // backend listings
		wantSaves int
	}{
		{"stored list used", []string{"example.test"}, "_acme-challenge.example.test.", "example.test.", "", 0, 0},
		{"nothing stored: listed and stored", nil, "_acme-challenge.example.test.", "example.test.", "", 1, 1},
		{"stale stored list: listed again", []string{"other.test."}, "_acme-challenge.example.test.", "example.test.", "", 1, 1},
		{"name of no zone: listed once, then fails", []string{"example.test."}, "_acme-challenge.example.org.", "", "no zone of this account holds _acme-challenge.example.org.", 1, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemory("zonelist-"+string(rune('a'+i)), map[string][]Record{"example.test.": nil})
			s := &listStore{zones: tt.stored, ok: tt.stored != nil}
			e, err := New(whole{m}, Options{ZoneList: s, GroupWindow: -1})
			if err != nil {
				t.Fatal(err)
			}
			z, err := e.ZoneFor(context.Background(), tt.fqdn)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
			} else if err != nil || z != tt.wantZone {
				t.Fatalf("zone %q, %v; want %q", z, err, tt.wantZone)
			}
			if n := m.count("zones"); n != tt.wantLists {
				t.Errorf("backend listings %d, want %d", n, tt.wantLists)
			}
			if s.saves != tt.wantSaves {
				t.Errorf("stored %d times, want %d", s.saves, tt.wantSaves)
			}
			if tt.wantSaves > 0 && !slices.Equal(s.zones, []string{"example.test."}) {
				t.Errorf("stored %q", s.zones)
			}
		})
	}
}

// TestZoneListStoreAppend: an append through an engine with a stored list
// costs the zone's read and write and no listing.
func TestZoneListStoreAppend(t *testing.T) {
	m := newMemory("zonelist-append", map[string][]Record{"example.test.": nil})
	e, err := New(whole{m}, Options{ZoneList: &listStore{zones: []string{"example.test."}, ok: true}, GroupWindow: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.AppendRecords(context.Background(), "example.test.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	if got := [3]int{m.count("zones"), m.count("read"), m.count("write")}; got != [3]int{0, 1, 1} {
		t.Errorf("listings, reads, writes = %v, want [0 1 1]", got)
	}
}
