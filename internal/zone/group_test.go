package zone

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

// TestGroupWindow submits operations one after another to an idle zone,
// each only once the one before waits in the queue, and opens the
// group-commit window only then: operations of every engine sharing the
// backend ID and account must be one batch (one read, one write), written
// through that account's backend, after one zone listing; another
// account's never join it.
func TestGroupWindow(t *testing.T) {
	type engine struct {
		account string
		store   int // which memory store the engine's backend writes to
	}
	for _, tc := range []struct {
		name    string
		engines []engine
		writes  int // whole-zone writes over both stores
	}{
		{"one engine", []engine{{"a", 0}}, 1},
		{"two engines of one account", []engine{{"a", 0}, {"a", 0}}, 1},
		{"two accounts", []engine{{"a", 0}, {"b", 1}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stores := []*memory{
				newMemory(t.Name(), map[string][]Record{testZone: baseRecords()}),
				newMemory(t.Name(), map[string][]Record{testZone: baseRecords()}),
			}
			gate := make(chan time.Time)
			queued := make(chan struct{}, 1)
			var engines []*Engine
			for _, spec := range tc.engines {
				e, err := New(whole{stores[spec.store]}, Options{Account: spec.account})
				if err != nil {
					t.Fatal(err)
				}
				e.window = func() <-chan time.Time { return gate }
				e.queued = func(*op) { queued <- struct{}{} }
				engines = append(engines, e)
			}
			const perEngine = 3
			var wg sync.WaitGroup
			want := make([][]string, len(stores))
			for i := range perEngine {
				for k, e := range engines {
					value := fmt.Sprintf("engine-%d-token-%d", k, i)
					want[tc.engines[k].store] = append(want[tc.engines[k].store], value)
					wg.Go(func() {
						if _, err := e.AppendRecords(context.Background(), testZone, []libdns.Record{txt("_acme-challenge", value)}); err != nil {
							t.Error(err)
						}
					})
					<-queued
				}
			}
			close(gate)
			wg.Wait()
			writes := 0
			for s, m := range stores {
				writes += m.count("write")
				var got []string
				for _, r := range m.snapshot(testZone) {
					if strings.HasPrefix(r.RR.Data, "engine-") {
						got = append(got, r.RR.Data)
					}
				}
				slices.Sort(got)
				slices.Sort(want[s])
				if !slices.Equal(got, want[s]) {
					t.Errorf("store %d holds %q, want %q: a record went to another account's backend or was lost", s, got, want[s])
				}
				if r := m.count("read"); r > 1 {
					t.Errorf("store %d was read %d times for one batch", s, r)
				}
				if z := m.count("zones"); z > 1 {
					t.Errorf("store %d listed its zones %d times: engines of one account share the list", s, z)
				}
			}
			if writes != tc.writes {
				t.Errorf("%d zone writes, want %d", writes, tc.writes)
			}
		})
	}
}

// TestGroupWindowOff: with a negative GroupWindow an operation on an idle
// zone is written without waiting, so a caller that submits one at a time
// pays nothing for the window.
func TestGroupWindowOff(t *testing.T) {
	for _, tc := range []struct {
		window time.Duration
		waits  bool
	}{
		{0, true}, {time.Second, true}, {-1, false},
	} {
		e, err := New(whole{newMemory(t.Name(), nil)}, Options{GroupWindow: tc.window})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.window != nil; got != tc.waits {
			t.Errorf("GroupWindow %v: waits = %t, want %t", tc.window, got, tc.waits)
		}
	}
}

// TestFailedBatchNamesEveryCaller: when the one write of a batch fails,
// every caller in it gets an error naming the zone and every name the
// batch held, not only its own.
func TestFailedBatchNamesEveryCaller(t *testing.T) {
	m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords()})
	e, err := New(&faultyZone{whole: whole{m}, f: fault{write: errors.New("HTTP 500: internal error")}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan time.Time)
	queued := make(chan struct{}, 1)
	e.window = func() <-chan time.Time { return gate }
	e.queued = func(*op) { queued <- struct{}{} }
	names := []string{"_acme-challenge.a", "_acme-challenge.b", "_acme-challenge.c"}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { _, errs[i] = e.AppendRecords(context.Background(), testZone, []libdns.Record{txt(name, "v")}) })
		<-queued
	}
	close(gate)
	wg.Wait()
	want := "writing zone example.com. for _acme-challenge.a.example.com. _acme-challenge.b.example.com. _acme-challenge.c.example.com.: HTTP 500"
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("caller %d: err = %v, want it to hold %q", i, err, want)
		}
	}
}
