package zone

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/libdns/libdns"
)

// failing is an account whose every call fails with err.
type failing struct{ err error }

func (f failing) ID() string                                     { return "failing" }
func (f failing) Zones(context.Context) ([]string, error)        { return nil, f.err }
func (f failing) Read(context.Context, string) ([]Record, error) { return nil, f.err }
func (f failing) Write(context.Context, string, []Record) error  { return f.err }

func TestLazyBuildsOnceForConcurrentCallers(t *testing.T) {
	m := newMemory("lazy-once", map[string][]Record{testZone: baseRecords()})
	var builds atomic.Int32
	var l Lazy
	f := Front{Lazy: &l, Prefix: "test", Build: func() (*Engine, error) {
		builds.Add(1)
		return New(whole{m}, Options{})
	}}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := f.GetRecords(context.Background(), testZone); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Fatalf("built %d times, want 1", n)
	}
	if _, err := f.ListZones(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := builds.Load(); n != 1 {
		t.Fatalf("built %d times after a later call, want 1", n)
	}
}

func TestLazyRetriesAFailedBuild(t *testing.T) {
	errConfig := errors.New("test: key is not set")
	var l Lazy
	calls := 0
	build := func() (*Engine, error) {
		calls++
		if calls == 1 {
			return nil, errConfig
		}
		return New(whole{newMemory("lazy-retry", map[string][]Record{testZone: nil})}, Options{})
	}
	f := Front{Lazy: &l, Build: build, Prefix: "test", Explain: func(err error) error {
		t.Errorf("Explain called for %v", err)
		return err
	}}
	// A build error is returned as it is: not prefixed, not explained.
	if _, err := f.AppendRecords(context.Background(), testZone, nil); err != errConfig {
		t.Fatalf("first call: got %v, want %v", err, errConfig)
	}
	if _, err := f.ListZones(context.Background()); err != nil {
		t.Fatalf("second call: %v", err)
	}
	if calls != 2 {
		t.Fatalf("build called %d times, want 2", calls)
	}
}

func TestFrontWrapsEngineErrors(t *testing.T) {
	cause := errors.New("401 Unauthorized")
	explain := func(err error) error { return fmt.Errorf("the key was rejected: %w", err) }
	ctx := context.Background()
	recs := []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "x"}}
	for _, tc := range []struct {
		name    string
		explain func(error) error
		want    string
	}{
		{"explained", explain, "test: the key was rejected: listing zones: 401 Unauthorized"},
		{"plain", nil, "test: listing zones: 401 Unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l Lazy
			f := Front{Lazy: &l, Prefix: "test", Explain: tc.explain, Build: func() (*Engine, error) {
				return New(failing{cause}, Options{})
			}}
			calls := map[string]func() (int, error){
				"GetRecords": func() (int, error) { r, err := f.GetRecords(ctx, testZone); return len(r), err },
				"AppendRecords": func() (int, error) {
					r, err := f.AppendRecords(ctx, testZone, recs)
					return len(r), err
				},
				"SetRecords": func() (int, error) { r, err := f.SetRecords(ctx, testZone, recs); return len(r), err },
				"DeleteRecords": func() (int, error) {
					r, err := f.DeleteRecords(ctx, testZone, recs)
					return len(r), err
				},
				"ListZones": func() (int, error) { z, err := f.ListZones(ctx); return len(z), err },
			}
			for name, call := range calls {
				n, err := call()
				if err == nil || err.Error() != tc.want || !errors.Is(err, cause) || n != 0 {
					t.Errorf("%s: got %d, %v; want 0, %q wrapping the cause", name, n, err, tc.want)
				}
			}
		})
	}
}
