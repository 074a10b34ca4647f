package legoconfig

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

// calls is a provider of two zones that logs each call (not each record)
// and fails the next failAppends appends and failDeletes deletes.
type calls struct {
	mu                       sync.Mutex
	log                      []string
	failAppends, failDeletes int
}

func (c *calls) ListZones(context.Context) ([]libdns.Zone, error) {
	return []libdns.Zone{{Name: "example.test."}, {Name: "other.test."}}, nil
}

func (c *calls) call(op, zone string, recs []libdns.Record, fail *int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for _, r := range recs {
		names = append(names, r.RR().Name)
	}
	slices.Sort(names)
	c.log = append(c.log, op+" "+zone+" "+strings.Join(names, ","))
	if *fail > 0 {
		*fail--
		return errors.New("HTTP 500: the API broke")
	}
	return nil
}

func (c *calls) AppendRecords(_ context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return recs, c.call("append", zone, recs, &c.failAppends)
}

func (c *calls) DeleteRecords(_ context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return recs, c.call("delete", zone, recs, &c.failDeletes)
}

func (c *calls) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.log
	c.log = nil
	return out
}

// timers stands in for time.AfterFunc: the test fires the functions.
type timers struct {
	mu      sync.Mutex
	pending []func()
	armed   int
}

func (t *timers) after(_ time.Duration, f func()) func() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.armed++
	i := len(t.pending)
	t.pending = append(t.pending, f)
	return func() bool {
		t.mu.Lock()
		defer t.mu.Unlock()
		stopped := t.pending[i] != nil
		t.pending[i] = nil
		return stopped
	}
}

// fire runs every timer not stopped, as if its time had come.
func (t *timers) fire() {
	t.mu.Lock()
	fs := slices.Clone(t.pending)
	for i := range t.pending {
		t.pending[i] = nil
	}
	t.mu.Unlock()
	for _, f := range fs {
		if f != nil {
			f()
		}
	}
}

type testProvider struct {
	*Provider
	rec    *calls
	timers *timers
	warned []string
}

func newTest(t *testing.T, batch bool) *testProvider {
	t.Helper()
	tp := &testProvider{rec: &calls{}, timers: &timers{}}
	p, err := New("legoX", &Config{Records: tp.rec, BatchPresents: batch}, func(msg string) { tp.warned = append(tp.warned, msg) })
	if err != nil {
		t.Fatal(err)
	}
	p.after = tp.timers.after
	tp.Provider = p
	return tp
}

func name(s string) string {
	if s == "d" {
		return "_acme-challenge.d.other.test."
	}
	return "_acme-challenge." + s + ".example.test."
}

func (tp *testProvider) present(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := tp.Present(context.Background(), name(n), "v-"+n); err != nil {
			t.Fatalf("present %s: %v", n, err)
		}
	}
}

func (tp *testProvider) cleanup(n string) error {
	return tp.CleanUp(context.Background(), name(n), "v-"+n)
}

// TestCleanupsBatchedPerZone: lego's cleanups, one after another, cost one
// delete per zone, made by the zone's last cleanup.
func TestCleanupsBatchedPerZone(t *testing.T) {
	tp := newTest(t, false)
	tp.present(t, "a", "b", "c", "d")
	if got, want := tp.rec.take(), []string{"append example.test. _acme-challenge.a", "append example.test. _acme-challenge.b", "append example.test. _acme-challenge.c", "append other.test. _acme-challenge.d"}; !slices.Equal(got, want) {
		t.Fatalf("presents: %q, want %q", got, want)
	}
	steps := []struct {
		cleanup string
		want    []string
	}{
		{"a", nil},
		{"d", []string{"delete other.test. _acme-challenge.d"}},
		{"b", nil},
		{"c", []string{"delete example.test. _acme-challenge.a,_acme-challenge.b,_acme-challenge.c"}},
	}
	for _, s := range steps {
		if err := tp.cleanup(s.cleanup); err != nil {
			t.Fatalf("cleanup %s: %v", s.cleanup, err)
		}
		if got := tp.rec.take(); !slices.Equal(got, s.want) {
			t.Errorf("after cleanup %s: %q, want %q", s.cleanup, got, s.want)
		}
	}
	tp.timers.fire() // the fallback was stopped by the flush
	if got := tp.rec.take(); len(got) != 0 || len(tp.warned) != 0 {
		t.Errorf("after the last cleanup: calls %q, warnings %q", got, tp.warned)
	}
}

// TestCleanupFallback: a cleanup held back for a challenge that is never
// cleaned up is deleted when its timer fires; a failure then is logged and
// returned by the zone's next cleanup, joined with that one's own.
func TestCleanupFallback(t *testing.T) {
	tp := newTest(t, false)
	tp.present(t, "a", "b", "c")
	tp.rec.take()
	if err := tp.cleanup("a"); err != nil {
		t.Fatal(err)
	}
	if tp.timers.armed != 1 {
		t.Fatalf("%d timers armed, want 1", tp.timers.armed)
	}
	tp.rec.failDeletes = 1
	tp.timers.fire()
	if got, want := tp.rec.take(), []string{"delete example.test. _acme-challenge.a"}; !slices.Equal(got, want) {
		t.Fatalf("fallback: %q, want %q", got, want)
	}
	if len(tp.warned) != 1 || !strings.Contains(tp.warned[0], "removing TXT _acme-challenge.a.example.test.: HTTP 500: the API broke") {
		t.Errorf("warnings %q", tp.warned)
	}
	err := tp.cleanup("b") // c is still outstanding: held, and a's failure returned
	if err == nil || !strings.Contains(err.Error(), "legoX: removing TXT _acme-challenge.a.example.test.: HTTP 500") {
		t.Errorf("next cleanup: %v, want the fallback's failure", err)
	}
	tp.rec.failDeletes = 1
	err = tp.cleanup("c")
	if err == nil || err.Error() != "legoX: removing TXT _acme-challenge.b.example.test., _acme-challenge.c.example.test.: HTTP 500: the API broke" {
		t.Errorf("last cleanup: %v", err)
	}
	if got, want := tp.rec.take(), []string{"delete example.test. _acme-challenge.b,_acme-challenge.c"}; !slices.Equal(got, want) {
		t.Errorf("last cleanup: %q, want %q", got, want)
	}
}

// TestCleanupJoinedError: the zone's last cleanup returns the error of the
// one delete, naming every name of the batch.
func TestCleanupJoinedError(t *testing.T) {
	tp := newTest(t, false)
	tp.present(t, "a", "b", "c")
	tp.rec.failDeletes = 1
	for _, n := range []string{"a", "b"} {
		if err := tp.cleanup(n); err != nil {
			t.Fatalf("cleanup %s: %v", n, err)
		}
	}
	err := tp.cleanup("c")
	want := "legoX: removing TXT _acme-challenge.a.example.test., _acme-challenge.b.example.test., _acme-challenge.c.example.test.: HTTP 500: the API broke"
	if err == nil || err.Error() != want {
		t.Errorf("err %v, want %q", err, want)
	}
}

// TestPresentReturnsAfterWrite: by default a present returns once its
// record is written; with BatchPresents it queues, and Timeout writes.
func TestPresentReturnsAfterWrite(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprint("batch=", batch), func(t *testing.T) {
			tp := newTest(t, batch)
			tp.present(t, "a")
			got := tp.rec.take()
			if want := []string{"append example.test. _acme-challenge.a"}; batch && len(got) != 0 || !batch && !slices.Equal(got, want) {
				t.Errorf("calls when present returned: %q", got)
			}
		})
	}
}

// TestBatchedPresents: presents queue until lego asks for Timeout, which
// writes each zone once and returns after the write.
func TestBatchedPresents(t *testing.T) {
	tp := newTest(t, true)
	tp.present(t, "a", "b", "d", "c")
	if got := tp.rec.take(); len(got) != 0 {
		t.Fatalf("presents wrote %q", got)
	}
	if tp.timers.armed != 1 {
		t.Errorf("%d fallback timers, want 1", tp.timers.armed)
	}
	to, iv := tp.Timeout()
	if to != DefaultPropagationTimeout || iv != DefaultPollingInterval {
		t.Errorf("Timeout %v %v", to, iv)
	}
	got := tp.rec.take()
	slices.Sort(got)
	if want := []string{"append example.test. _acme-challenge.a,_acme-challenge.b,_acme-challenge.c", "append other.test. _acme-challenge.d"}; !slices.Equal(got, want) {
		t.Errorf("first Timeout: %q, want %q", got, want)
	}
	tp.Timeout()
	tp.timers.fire()
	if got := tp.rec.take(); len(got) != 0 {
		t.Errorf("later: %q", got)
	}
	for _, n := range []string{"a", "b", "c", "d"} {
		if err := tp.Failed(name(n), "v-"+n); err != nil {
			t.Errorf("Failed(%s) = %v", n, err)
		}
		if err := tp.cleanup(n); err != nil {
			t.Fatal(err)
		}
	}
	got = tp.rec.take()
	if want := []string{"delete example.test. _acme-challenge.a,_acme-challenge.b,_acme-challenge.c", "delete other.test. _acme-challenge.d"}; !slices.Equal(got, want) {
		t.Errorf("cleanups: %q, want %q", got, want)
	}
}

// TestBatchedPresentFallback: queued presents are written by the fallback
// timer when Timeout does not come.
func TestBatchedPresentFallback(t *testing.T) {
	tp := newTest(t, true)
	tp.present(t, "a", "b")
	tp.timers.fire()
	if got, want := tp.rec.take(), []string{"append example.test. _acme-challenge.a,_acme-challenge.b"}; !slices.Equal(got, want) {
		t.Errorf("fallback: %q, want %q", got, want)
	}
	tp.Timeout()
	if got := tp.rec.take(); len(got) != 0 {
		t.Errorf("Timeout after the fallback wrote %q", got)
	}
}

// TestBatchedPresentFailure: a failed batch write is reported for each of
// its challenges by Failed (what PreCheck hands lego), logged, and makes
// Timeout short; cleaning up forgets it.
func TestBatchedPresentFailure(t *testing.T) {
	tp := newTest(t, true)
	tp.present(t, "a", "b", "d")
	tp.rec.failAppends = 1
	if to, iv := tp.Timeout(); to != DefaultPollingInterval || iv != DefaultPollingInterval {
		t.Errorf("Timeout after a failed write: %v %v, want one polling interval", to, iv)
	}
	got := tp.rec.take()
	slices.Sort(got)
	if want := []string{"append example.test. _acme-challenge.a,_acme-challenge.b", "append other.test. _acme-challenge.d"}; !slices.Equal(got, want) {
		t.Fatalf("writes %q", got)
	}
	// One of the two zones' writes failed, whichever came first.
	var failed []string
	for _, n := range []string{"a", "b", "d"} {
		if err := tp.Failed(name(n), "v-"+n); err != nil {
			failed = append(failed, n)
			if !strings.HasPrefix(err.Error(), "legoX: writing the batched challenge records: adding TXT ") || !strings.HasSuffix(err.Error(), ": HTTP 500: the API broke") || !strings.Contains(err.Error(), name(n)) {
				t.Errorf("Failed(%s) = %v", n, err)
			}
		}
	}
	if !slices.Equal(failed, []string{"a", "b"}) && !slices.Equal(failed, []string{"d"}) {
		t.Errorf("failed challenges %q, want those of one zone", failed)
	}
	if len(tp.warned) != 1 || !strings.Contains(tp.warned[0], "HTTP 500: the API broke") {
		t.Errorf("warnings %q", tp.warned)
	}
	for _, n := range []string{"a", "b", "d"} {
		tp.cleanup(n)
		if err := tp.Failed(name(n), "v-"+n); err != nil {
			t.Errorf("Failed(%s) after cleanup: %v", n, err)
		}
	}
	if to, _ := tp.Timeout(); to != DefaultPropagationTimeout {
		t.Errorf("Timeout once cleaned up: %v", to)
	}
}

// TestCleanupOfUnwrittenPresent: a challenge cleaned up before its batch
// was written is dropped from the batch, and nothing is deleted for it.
func TestCleanupOfUnwrittenPresent(t *testing.T) {
	tp := newTest(t, true)
	tp.present(t, "a", "b")
	if err := tp.cleanup("a"); err != nil {
		t.Fatal(err)
	}
	tp.Timeout()
	if err := tp.cleanup("b"); err != nil {
		t.Fatal(err)
	}
	if got, want := tp.rec.take(), []string{"append example.test. _acme-challenge.b", "delete example.test. _acme-challenge.b"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
}
