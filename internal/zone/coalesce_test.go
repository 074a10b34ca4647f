package zone

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/libdns/libdns"
)

// TestFiftyAppendsOneBatch holds the zone lock until 50 appends wait in the
// zone's queue, as they do behind a slow write: all of them must go in the
// one batch that takes the lock next, as README says (50 simultaneous
// appends become a handful of writes; 2 in the tests, which fail above 5).
// Nothing is timed: the lock opens once the queue has all 50.
func TestFiftyAppendsOneBatch(t *testing.T) {
	for _, flavour := range []string{"whole-zone", "per-record"} {
		t.Run(flavour, func(t *testing.T) {
			m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords()})
			var b Backend = whole{m}
			if flavour == "per-record" {
				b = perRecord{m}
			}
			locking, open := make(chan struct{}, 1), make(chan struct{})
			var once sync.Once
			e, err := New(b, Options{Lock: func(ctx context.Context, key string) (func(), error) {
				once.Do(func() { locking <- struct{}{}; <-open })
				return func() {}, nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			const n = 50
			queued := make(chan struct{}, n)
			e.queued = func(*op) { queued <- struct{}{} }
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					if _, err := e.AppendRecords(context.Background(), testZone, []libdns.Record{txt("_acme-challenge", fmt.Sprintf("token-%02d", i))}); err != nil {
						t.Error(err)
					}
				})
			}
			for range n {
				<-queued
			}
			<-locking
			close(open)
			wg.Wait()
			if got := len(m.snapshot(testZone)); got != len(baseRecords())+n {
				t.Fatalf("zone has %d records, want %d", got, len(baseRecords())+n)
			}
			// The first append's batch waited for the lock with whatever had
			// queued; everything else joins it once it has the lock.
			if r := m.count("read"); r != 1 {
				t.Errorf("%d reads for %d queued appends, want 1", r, n)
			}
			if flavour == "whole-zone" {
				if w := m.count("write"); w != 1 {
					t.Errorf("%d writes for %d queued appends, want 1", w, n)
				}
			}
		})
	}
}
