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

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
)

// fault makes chosen calls of a faulty backend fail.
type fault struct {
	zones   error // Zones fails with it
	read    error // the readAt-th Read (from 1) fails with it
	readAt  int
	write   error // Write fails with it
	call    error // the callAt-th Create or Delete (from 1) fails with it
	callAt  int
	applied bool  // a failing Write, Create or Delete still makes its change (the answer was lost)
	limit   error // CheckLimit refuses with it
}

// faultyZone is a whole-zone account with faults.
type faultyZone struct {
	whole
	f     fault
	reads int
}

func (b *faultyZone) Zones(ctx context.Context) ([]string, error) {
	if b.f.zones != nil {
		return nil, b.f.zones
	}
	return b.whole.Zones(ctx)
}

func (b *faultyZone) Read(ctx context.Context, zone string) ([]Record, error) {
	if b.reads++; b.reads == b.f.readAt {
		return nil, b.f.read
	}
	return b.whole.Read(ctx, zone)
}

func (b *faultyZone) Write(ctx context.Context, zone string, recs []Record) error {
	if b.f.write == nil || b.f.applied {
		if err := b.whole.Write(ctx, zone, recs); err != nil {
			return err
		}
	}
	return b.f.write
}

// faultyRecords is a per-record account with faults and a record limit.
type faultyRecords struct {
	perRecord
	f            fault
	reads, calls int
}

func (b *faultyRecords) Zones(ctx context.Context) ([]string, error) {
	if b.f.zones != nil {
		return nil, b.f.zones
	}
	return b.perRecord.Zones(ctx)
}

func (b *faultyRecords) Read(ctx context.Context, zone string) ([]Record, error) {
	if b.reads++; b.reads == b.f.readAt {
		return nil, b.f.read
	}
	return b.perRecord.Read(ctx, zone)
}

func (b *faultyRecords) Create(ctx context.Context, zone string, rr libdns.RR) (Record, error) {
	if b.calls++; b.calls == b.f.callAt {
		if b.f.applied {
			b.perRecord.Create(ctx, zone, rr)
		}
		return Record{}, b.f.call
	}
	return b.perRecord.Create(ctx, zone, rr)
}

func (b *faultyRecords) Delete(ctx context.Context, zone string, r Record) error {
	if b.calls++; b.calls == b.f.callAt {
		if b.f.applied {
			b.perRecord.Delete(ctx, zone, r)
		}
		return b.f.call
	}
	return b.perRecord.Delete(ctx, zone, r)
}

func (b *faultyRecords) CheckLimit(string, []Record, []Record) error { return b.f.limit }

// dropsKeptRecord is a faulty merge that loses the zone's first record.
func dropsKeptRecord(before []Record, ops []*op) plan {
	p := merge(before, ops)
	p.after, p.origin = p.after[1:], p.origin[1:]
	return p
}

var (
	// Provider answers as the api package reports them.
	refusedByProvider = &api.Error{Method: "PUT", Path: "domains/example.com/dns", Status: 422, Message: "invalid record"}
	noAnswer          = &api.Error{Method: "PUT", Path: "domains/example.com/dns", Message: "connection reset by peer"}
	badGateway        = &api.Error{Method: "PUT", Path: "domains/example.com/dns", Status: 502, Message: "HTML error page 502 Proxy Error"}
	// An error that does not say whether the provider acted.
	unknownOutcome = errors.New("decoding the answer: unexpected end of JSON input")
)

func TestWhichFailuresAreAtomic(t *testing.T) {
	token := []libdns.Record{txt("_acme-challenge", "token")}
	newA := []libdns.Record{libdns.RR{Name: "@", Type: "A", TTL: 900 * time.Second, Data: "192.0.2.99"}}
	stale := []libdns.Record{txt("_acme-challenge", "stale-token-from-someone-else")}
	errLocked := errors.New("lock file busy")
	tests := []struct {
		name       string
		perRecord  bool
		fault      fault
		faultyPlan bool
		silentDrop bool // the whole-zone account drops new records without saying so
		opts       Options
		kind       opKind
		zone       string // default testZone
		recs       []libdns.Record
		wantAtomic bool
		wantText   string // part of the error text, as before AtomicError existed
		wantCause  error  // found by errors.Is
	}{
		// Whole-zone flavour.
		{name: "zone listing fails", fault: fault{zones: noAnswer}, kind: opAppend, recs: token,
			wantAtomic: true, wantText: "listing zones: PUT domains/example.com/dns: connection reset by peer", wantCause: noAnswer},
		{name: "no account zone holds the name", kind: opAppend, zone: "example.org.", recs: token,
			wantAtomic: true, wantText: "no zone of this account holds example.org."},
		{name: "invalid input", kind: opSet, recs: []libdns.Record{libdns.RR{Type: "TXT", Data: "x"}},
			wantAtomic: true, wantText: "set records in example.com.: record name is empty"},
		{name: "lock fails", opts: Options{Lock: func(context.Context, string) (func(), error) { return nil, errLocked }}, kind: opAppend, recs: token,
			wantAtomic: true, wantText: "locking zone example.com.: lock file busy", wantCause: errLocked},
		{name: "read fails", fault: fault{read: context.DeadlineExceeded, readAt: 1}, kind: opDelete, recs: stale,
			wantAtomic: true, wantText: "reading zone example.com.: context deadline exceeded", wantCause: context.DeadlineExceeded},
		{name: "plan refused", faultyPlan: true, kind: opAppend, recs: token,
			wantAtomic: true, wantText: "writing zone example.com. for _acme-challenge.example.com.: refusing to write: record example.com. 900 A"},
		{name: "write refused by the provider", fault: fault{write: refusedByProvider}, kind: opSet, recs: newA,
			wantAtomic: true, wantText: "writing zone example.com. for example.com.: PUT domains/example.com/dns: HTTP 422: invalid record", wantCause: refusedByProvider},
		{name: "write without an answer", fault: fault{write: noAnswer, applied: true}, kind: opAppend, recs: token,
			wantText: "writing zone example.com. for _acme-challenge.example.com.: PUT domains/example.com/dns: connection reset by peer", wantCause: noAnswer},
		{name: "write answered 502", fault: fault{write: badGateway, applied: true}, kind: opDelete, recs: stale,
			wantText: "HTTP 502", wantCause: badGateway},
		{name: "write failed with an unknown outcome", fault: fault{write: unknownOutcome, applied: true}, kind: opAppend, recs: token,
			wantText: "writing zone example.com. for _acme-challenge.example.com.: decoding the answer", wantCause: unknownOutcome},
		// The read-back's refusal is not the write's: the write went through.
		{name: "read-back after the write refused", opts: Options{VerifyWrites: true}, fault: fault{read: refusedByProvider, readAt: 2}, kind: opAppend, recs: token,
			wantText: "writing zone example.com. for _acme-challenge.example.com.: checking the write: reading zone example.com.", wantCause: refusedByProvider},
		{name: "read-back differs from the write", opts: Options{VerifyWrites: true}, silentDrop: true, kind: opAppend, recs: token,
			wantText: `the zone read back differs from what was written: missing _acme-challenge.example.com. 120 TXT "token"`},
		// Per-record flavour.
		{name: "per-record: read fails", perRecord: true, fault: fault{read: noAnswer, readAt: 1}, kind: opAppend, recs: token,
			wantAtomic: true, wantText: "reading zone example.com.", wantCause: noAnswer},
		{name: "per-record: record limit", perRecord: true, fault: fault{limit: errors.New("zone holds 100 records, the most HostUp allows")}, kind: opAppend, recs: token,
			wantAtomic: true, wantText: "append records in example.com.: zone holds 100 records"},
		{name: "per-record: first create refused", perRecord: true, fault: fault{call: refusedByProvider, callAt: 1}, kind: opAppend, recs: token,
			wantAtomic: true, wantText: `append records in example.com.: creating _acme-challenge.example.com. 120 TXT "token": PUT`, wantCause: refusedByProvider},
		{name: "per-record: first delete refused", perRecord: true, fault: fault{call: refusedByProvider, callAt: 1}, kind: opDelete, recs: stale,
			wantAtomic: true, wantText: "delete records in example.com.: deleting _acme-challenge.example.com.", wantCause: refusedByProvider},
		{name: "per-record: first create without an answer", perRecord: true, fault: fault{call: noAnswer, callAt: 1, applied: true}, kind: opAppend, recs: token,
			wantText: "creating _acme-challenge.example.com.", wantCause: noAnswer},
		{name: "per-record: second change refused after the first was made", perRecord: true, fault: fault{call: refusedByProvider, callAt: 2}, kind: opSet, recs: newA,
			wantText: "(1 of 2 changes were made before this failure; the same call again completes it)", wantCause: refusedByProvider},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords()})
			m.dropNew = tt.silentDrop
			var b Backend = &faultyZone{whole: whole{m}, f: tt.fault}
			if tt.perRecord {
				b = &faultyRecords{perRecord: perRecord{m}, f: tt.fault}
			}
			e, err := New(b, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tt.faultyPlan {
				e.mergeFor = dropsKeptRecord
			}
			zone := tt.zone
			if zone == "" {
				zone = testZone
			}
			call := map[opKind]func(context.Context, string, []libdns.Record) ([]libdns.Record, error){
				opAppend: e.AppendRecords, opSet: e.SetRecords, opDelete: e.DeleteRecords,
			}[tt.kind]
			out, err := call(context.Background(), zone, tt.recs)
			if err == nil {
				t.Fatalf("%s succeeded with %v, want an error", tt.kind, out)
			}
			if got := IsAtomic(err); got != tt.wantAtomic {
				t.Errorf("IsAtomic = %v, want %v (err: %v)", got, tt.wantAtomic, err)
			}
			if _, top := err.(*AtomicError); top != tt.wantAtomic {
				t.Errorf("error is %T, want the *AtomicError itself: %v", err, tt.wantAtomic)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantText)
			}
			if tt.wantCause != nil && !errors.Is(err, tt.wantCause) {
				t.Errorf("errors.Is(err, %v) = false: the cause is lost (err: %v)", tt.wantCause, err)
			}
			var ae *api.Error
			if errors.Is(tt.wantCause, refusedByProvider) && (!errors.As(err, &ae) || ae.Status != 422) {
				t.Errorf("errors.As(err, *api.Error) does not find the provider's answer (err: %v)", err)
			}
			if tt.wantAtomic && !slices.Equal(contents(m.snapshot(testZone)), contents(baseRecords())) {
				t.Errorf("an atomic failure changed the zone:\n%s", strings.Join(contents(m.snapshot(testZone)), "\n"))
			}
		})
	}
}

// gated is a whole-zone account whose first Read waits for release.
type gated struct {
	whole
	once             sync.Once
	entered, release chan struct{}
}

func (g *gated) Read(ctx context.Context, zone string) ([]Record, error) {
	g.once.Do(func() {
		close(g.entered)
		<-g.release
	})
	return g.whole.Read(ctx, zone)
}

// TestGivingUpIsAtomicOnlyWhileQueued: a caller that gives up while its
// operation waits behind another zone write withdraws it; one that gives up
// while its operation is applied does not stop the write.
func TestGivingUpIsAtomicOnlyWhileQueued(t *testing.T) {
	m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords()})
	g := &gated{whole: whole{m}, entered: make(chan struct{}), release: make(chan struct{})}
	e, err := New(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	queued := make(chan struct{}, 3)
	e.queued = func(*op) { queued <- struct{}{} }
	start := func(ctx context.Context, value string) <-chan error {
		errc := make(chan error, 1)
		go func() {
			_, err := e.AppendRecords(ctx, testZone, []libdns.Record{txt("_acme-challenge", value)})
			errc <- err
		}()
		<-queued
		return errc
	}

	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	errA := start(ctxA, "a")
	<-g.entered // a's batch is reading the zone: a is being applied
	ctxB, cancelB := context.WithCancel(context.Background())
	defer cancelB()
	errB := start(ctxB, "b") // waits in the queue behind a's batch

	cancelB()
	cancelA()
	for name, tc := range map[string]struct {
		err        error
		wantAtomic bool
	}{"queued": {<-errB, true}, "being applied": {<-errA, false}} {
		if !errors.Is(tc.err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", name, tc.err)
		}
		if got := IsAtomic(tc.err); got != tc.wantAtomic {
			t.Errorf("%s: IsAtomic = %v, want %v (err: %v)", name, got, tc.wantAtomic, tc.err)
		}
	}

	close(g.release)
	// The next write to the zone runs after a's batch has finished.
	if _, err := e.AppendRecords(context.Background(), testZone, []libdns.Record{txt("_acme-challenge", "c")}); err != nil {
		t.Fatal(err)
	}
	has := func(v string) bool {
		return slices.ContainsFunc(m.snapshot(testZone), func(r Record) bool { return r.RR.Data == v })
	}
	if !has("a") || has("b") || !has("c") {
		t.Errorf("zone holds a %v, b %v, c %v; want a (written though its caller gave up), not b, c", has("a"), has("b"), has("c"))
	}
}

func TestFrontKeepsAtomicity(t *testing.T) {
	token := []libdns.Record{txt("_acme-challenge", "token")}
	explainers := map[string]func(error) error{
		"no Explain":         nil,
		"wrapping Explain":   func(err error) error { return fmt.Errorf("check the key: %w", err) },
		"chain-less Explain": func(err error) error { return errors.New(err.Error() + " (check the key)") },
	}
	backends := map[string]struct {
		f          fault
		wantAtomic bool
	}{
		"read fails":                 {fault{read: noAnswer, readAt: 1}, true},
		"write refused":              {fault{write: refusedByProvider}, true},
		"write without an answer":    {fault{write: noAnswer, applied: true}, false},
		"write with unknown outcome": {fault{write: unknownOutcome, applied: true}, false},
	}
	for ename, explain := range explainers {
		for bname, bt := range backends {
			t.Run(ename+"/"+bname, func(t *testing.T) {
				m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords()})
				f := Front{Lazy: &Lazy{}, Prefix: "test", Explain: explain, Build: func() (*Engine, error) {
					return New(&faultyZone{whole: whole{m}, f: bt.f}, Options{})
				}}
				_, err := f.AppendRecords(context.Background(), testZone, token)
				if err == nil || !strings.HasPrefix(err.Error(), "test: ") {
					t.Fatalf("err = %v, want the provider's prefix", err)
				}
				if got := IsAtomic(err); got != bt.wantAtomic {
					t.Errorf("IsAtomic = %v, want %v (err: %v)", got, bt.wantAtomic, err)
				}
				if _, top := err.(*AtomicError); top != bt.wantAtomic {
					t.Errorf("error is %T, want the *AtomicError itself: %v", err, bt.wantAtomic)
				}
			})
		}
	}
}
