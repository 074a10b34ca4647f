package zone

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

// limited is a per-record backend whose API holds at most max records per
// zone, not counting NS records.
type limited struct {
	perRecord
	max int
}

func (l limited) CheckLimit(zone string, before, after []Record) error {
	count := func(rs []Record) int {
		n := 0
		for _, r := range rs {
			if r.RR.Type != "NS" {
				n++
			}
		}
		return n
	}
	if n := count(after); n > l.max && n > count(before) {
		return fmt.Errorf("zone %s would hold %d records, the limit is %d", zone, n, l.max)
	}
	return nil
}

// flaky is a per-record backend whose calls fail from the failAt-th create
// or delete on, until healed.
type flaky struct {
	perRecord
	mu     *sync.Mutex
	calls  *int
	failAt int
	log    *[]string
}

func (f flaky) step(what string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	*f.calls++
	*f.log = append(*f.log, what)
	if f.failAt > 0 && *f.calls >= f.failAt {
		return errors.New("HTTP 503: try later")
	}
	return nil
}

func (f flaky) Create(ctx context.Context, zone string, rr libdns.RR) (Record, error) {
	if err := f.step("create " + rr.Data); err != nil {
		return Record{}, err
	}
	return f.perRecord.Create(ctx, zone, rr)
}

func (f flaky) Delete(ctx context.Context, zone string, r Record) error {
	if err := f.step("delete " + r.RR.Data); err != nil {
		return err
	}
	return f.perRecord.Delete(ctx, zone, r)
}

func TestRecordLimiter(t *testing.T) {
	base := len(baseRecords())
	tests := []struct {
		name    string
		kind    opKind
		recs    []libdns.Record
		wantErr string
		creates int
	}{
		{"append that fits", opAppend, []libdns.Record{txt("a", "1"), txt("b", "2")}, "", 2},
		{"append that overfills changes nothing", opAppend, []libdns.Record{txt("a", "1"), txt("b", "2"), txt("c", "3")},
			fmt.Sprintf("would hold %d records, the limit is %d", base+3, base+2), 0},
		{"NS records do not count", opAppend, []libdns.Record{txt("a", "1"), txt("b", "2"), libdns.NS{Name: "sub", Target: "ns.example.net."}}, "", 3},
		{"set that replaces within the limit", opSet, []libdns.Record{txt("@", "one"), txt("@", "two"), txt("@", "three")}, "", 3},
		{"delete always works", opDelete, []libdns.Record{txt("_acme-challenge", "stale-token-from-someone-else")}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords()})
			e, err := New(limited{perRecord{m}, base + 2}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.submit(context.Background(), testZone, tt.kind, tt.recs)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if n := m.count("create"); n != tt.creates {
				t.Errorf("%d creates, want %d", n, tt.creates)
			}
		})
	}
}

func TestPartialFailureIsReportedAndRepairable(t *testing.T) {
	tests := []struct {
		name    string
		kind    opKind
		recs    []libdns.Record
		failAt  int
		wantErr string
	}{
		{"append fails at the third create", opAppend,
			[]libdns.Record{txt("x", "1"), txt("x", "2"), txt("x", "3"), txt("x", "4")}, 3,
			`creating x.example.com. 120 TXT "3": HTTP 503: try later (2 of 4 changes were made before this failure; the same call again completes it)`},
		{"set fails after deleting the old set", opSet,
			[]libdns.Record{libdns.TXT{Name: "@", TTL: time.Minute, Text: "new-1"}, libdns.TXT{Name: "@", TTL: time.Minute, Text: "new-2"}}, 2,
			`creating example.com. 60 TXT "new-1": HTTP 503: try later (1 of 3 changes were made before this failure`},
		{"first change fails: nothing to report", opAppend, []libdns.Record{txt("x", "1")}, 1,
			`creating x.example.com. 120 TXT "1": HTTP 503: try later`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords()})
			var mu sync.Mutex
			var calls int
			var log []string
			e, _ := New(flaky{perRecord{m}, &mu, &calls, tt.failAt, &log}, Options{})
			_, err := e.submit(context.Background(), testZone, tt.kind, tt.recs)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v\nwant %q", err, tt.wantErr)
			}
			if tt.failAt == 1 && strings.Contains(err.Error(), "changes were made") {
				t.Errorf("reports progress although nothing was done: %v", err)
			}
			// Healed, the same call completes the operation without duplicates.
			// The healed backend has the flaky one's ID: another Account keeps
			// the flaky engine's queue from taking the repeat.
			e2, _ := New(perRecord{m}, Options{Account: "healed"})
			if _, err := e2.submit(context.Background(), testZone, tt.kind, tt.recs); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, r := range m.snapshot(testZone) {
				if k := show(r.RR); seen[k] {
					t.Errorf("duplicate %s", k)
				} else {
					seen[k] = true
				}
			}
			for _, rec := range tt.recs {
				rr := rec.RR()
				if rr.TTL == 0 {
					rr.TTL = 120 * time.Second
				}
				rr.Name = libdns.AbsoluteName(rr.Name, testZone)
				if !seen[show(rr)] {
					t.Errorf("%s missing after the repeat", show(rr))
				}
			}
		})
	}
}

func TestPerRecordSetDeletesFirst(t *testing.T) {
	m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords()})
	var mu sync.Mutex
	var calls int
	var log []string
	e, _ := New(flaky{perRecord{m}, &mu, &calls, 0, &log}, Options{})
	// Same value, new TTL: an API refusing exact duplicates must see the
	// old record gone before the new one is created.
	_, err := e.SetRecords(context.Background(), testZone, []libdns.Record{libdns.TXT{Name: "_acme-challenge", TTL: time.Hour, Text: "stale-token-from-someone-else"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"delete stale-token-from-someone-else", "create stale-token-from-someone-else"}; fmt.Sprint(log) != fmt.Sprint(want) {
		t.Errorf("calls %v, want %v", log, want)
	}
}
