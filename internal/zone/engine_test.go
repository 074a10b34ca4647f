package zone

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

const testZone = "example.com."

func baseRecords() []Record {
	return seed(testZone,
		[4]string{"@", "A", "900", "192.0.2.10"},
		[4]string{"@", "MX", "900", "10 mail.example.com."},
		[4]string{"@", "TXT", "900", `v=spf1 include:spf.example.net ~all`},
		[4]string{"quotes", "TXT", "300", `say "hello"; then \ leave`},
		[4]string{"unicode", "TXT", "300", "grüße — 日本"},
		[4]string{"www", "CNAME", "3600", "example.com."},
		[4]string{"_acme-challenge", "TXT", "60", "stale-token-from-someone-else"},
	)
}

// flavours runs a test against both backend flavours.
func flavours(t *testing.T, f func(t *testing.T, m *memory, e *Engine)) {
	for _, name := range []string{"whole-zone", "per-record"} {
		t.Run(name, func(t *testing.T) {
			m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords(), "other.org.": nil})
			var b Backend = whole{m}
			if name == "per-record" {
				b = perRecord{m}
			}
			e, err := New(b, Options{})
			if err != nil {
				t.Fatal(err)
			}
			f(t, m, e)
		})
	}
}

func txt(name, text string) libdns.Record { return libdns.TXT{Name: name, Text: text} }

// contents returns the zone as sorted "name ttl type data" lines.
func contents(recs []Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, show(r.RR))
	}
	sort.Strings(out)
	return out
}

func TestSemantics(t *testing.T) {
	type step struct {
		kind    opKind
		recs    []libdns.Record
		wantOut int // records returned
	}
	tests := []struct {
		name       string
		steps      []step
		wantAdd    []string // lines expected in the zone afterwards besides the base
		wantGone   []string // base lines expected gone
		wantWrites int      // whole-zone writes
	}{
		{
			name:       "append two values on one name keeps both and the stale one",
			steps:      []step{{opAppend, []libdns.Record{txt("_acme-challenge", "apex-token")}, 1}, {opAppend, []libdns.Record{txt("_acme-challenge", "wildcard-token")}, 1}},
			wantAdd:    []string{`_acme-challenge.example.com. 120 TXT "apex-token"`, `_acme-challenge.example.com. 120 TXT "wildcard-token"`},
			wantWrites: 2,
		},
		{
			name:       "append of an existing record is a no-op",
			steps:      []step{{opAppend, []libdns.Record{txt("quotes", `say "hello"; then \ leave`)}, 1}},
			wantWrites: 0,
		},
		{
			name:       "delete removes the exact value only",
			steps:      []step{{opAppend, []libdns.Record{txt("_acme-challenge", "mine")}, 1}, {opDelete, []libdns.Record{txt("_acme-challenge", "mine")}, 1}},
			wantWrites: 2,
		},
		{
			name:       "delete of an absent record succeeds without writing",
			steps:      []step{{opDelete, []libdns.Record{txt("_acme-challenge", "never-there")}, 0}},
			wantWrites: 0,
		},
		{
			name:       "delete with a different TTL does not match",
			steps:      []step{{opDelete, []libdns.Record{libdns.TXT{Name: "quotes", TTL: time.Hour, Text: `say "hello"; then \ leave`}}, 0}},
			wantWrites: 0,
		},
		{
			name:       "delete with empty data removes the whole set of that type",
			steps:      []step{{opDelete, []libdns.Record{libdns.RR{Name: "@", Type: "TXT"}}, 1}},
			wantGone:   []string{`example.com. 900 TXT "v=spf1 include:spf.example.net ~all"`},
			wantWrites: 1,
		},
		{
			name:       "set replaces one (name,type) set only",
			steps:      []step{{opSet, []libdns.Record{libdns.Address{Name: "@", TTL: 300 * time.Second, IP: mustAddr("192.0.2.99")}}, 1}},
			wantAdd:    []string{`example.com. 300 A "192.0.2.99"`},
			wantGone:   []string{`example.com. 900 A "192.0.2.10"`},
			wantWrites: 1,
		},
		{
			name:       "set to the current content writes nothing",
			steps:      []step{{opSet, []libdns.Record{libdns.CNAME{Name: "www", TTL: time.Hour, Target: "example.com."}}, 1}},
			wantWrites: 0,
		},
		{
			name:       "names in any case and with a trailing dot address the same record",
			steps:      []step{{opDelete, []libdns.Record{libdns.RR{Name: "WWW.Example.COM.", Type: "CNAME"}}, 1}},
			wantGone:   []string{`www.example.com. 3600 CNAME "example.com."`},
			wantWrites: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flavours(t, func(t *testing.T, m *memory, e *Engine) {
				ctx := context.Background()
				for i, s := range tt.steps {
					out, err := e.submit(ctx, testZone, s.kind, s.recs)
					if err != nil {
						t.Fatalf("step %d (%s): %v", i, s.kind, err)
					}
					if len(out) != s.wantOut {
						t.Errorf("step %d (%s) returned %d records, want %d: %v", i, s.kind, len(out), s.wantOut, out)
					}
				}
				want := contents(baseRecords())
				want = slices.DeleteFunc(want, func(l string) bool { return slices.Contains(tt.wantGone, l) })
				want = append(want, tt.wantAdd...)
				sort.Strings(want)
				if got := contents(m.snapshot(testZone)); !slices.Equal(got, want) {
					t.Errorf("zone after:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				if _, ok := e.b.(ZoneWriter); ok {
					if got := m.count("write"); got != tt.wantWrites {
						t.Errorf("%d writes, want %d", got, tt.wantWrites)
					}
				}
			})
		})
	}
}

func TestUntouchedRecordsGoBackByteForByte(t *testing.T) {
	m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords()})
	e, err := New(whole{m}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.AppendRecords(context.Background(), testZone, []libdns.Record{txt("_acme-challenge", "token")}); err != nil {
		t.Fatal(err)
	}
	if len(m.writes) != 1 {
		t.Fatalf("%d writes, want 1", len(m.writes))
	}
	sent, base := m.writes[0], baseRecords()
	if len(sent) != len(base)+1 {
		t.Fatalf("sent %d records, want %d", len(sent), len(base)+1)
	}
	for i, r := range base {
		if !bytes.Equal(sent[i].Raw, r.Raw) {
			t.Errorf("record %d sent as %s, read as %s", i, sent[i].Raw, r.Raw)
		}
	}
	if last := sent[len(sent)-1]; last.Raw != nil || last.RR.Data != "token" || last.RR.Name != "_acme-challenge.example.com." || last.RR.TTL != 120*time.Second {
		t.Errorf("new record sent as %+v", last)
	}
}

func TestRefusesWriteThatLosesRecords(t *testing.T) {
	faults := map[string]func([]Record, []*op) plan{
		"drops a kept record": func(before []Record, ops []*op) plan {
			p := merge(before, ops)
			p.after, p.origin = p.after[1:], p.origin[1:]
			return p
		},
		"alters a kept record": func(before []Record, ops []*op) plan {
			p := merge(before, ops)
			p.after[2].Raw = []byte(`{"name":"example.com.","type":"TXT","data":"rewritten"}`)
			return p
		},
		"duplicates a kept record": func(before []Record, ops []*op) plan {
			p := merge(before, ops)
			p.after, p.origin = append(p.after, p.after[0]), append(p.origin, 0)
			return p
		},
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords()})
			e, _ := New(whole{m}, Options{})
			e.mergeFor = fault
			_, err := e.AppendRecords(context.Background(), testZone, []libdns.Record{txt("_acme-challenge", "token")})
			if err == nil || !strings.Contains(err.Error(), "refusing to write") {
				t.Fatalf("err = %v, want a refusal", err)
			}
			if n := m.count("write"); n != 0 {
				t.Fatalf("%d writes sent, want none", n)
			}
		})
	}
}

func TestConcurrentAppendsCoalesce(t *testing.T) {
	flavours(t, func(t *testing.T, m *memory, e *Engine) {
		m.delay = 5 * time.Millisecond
		const n = 50
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				_, err := e.AppendRecords(context.Background(), testZone, []libdns.Record{txt("_acme-challenge", fmt.Sprintf("token-%02d", i))})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got := m.snapshot(testZone)
		if len(got) != len(baseRecords())+n {
			t.Fatalf("zone has %d records, want %d", len(got), len(baseRecords())+n)
		}
		if !slices.Equal(contents(got[:len(baseRecords())]), contents(baseRecords())) {
			t.Errorf("base records changed")
		}
		reads := m.count("read")
		t.Logf("%d appends: %d reads, %d writes, %d creates", n, reads, m.count("write"), m.count("create"))
		// README: a handful of writes, the tests fail above 5.
		if reads > 5 {
			t.Errorf("%d reads for %d concurrent appends: not coalesced", reads, n)
		}
		if w := m.count("write"); w > 5 {
			t.Errorf("%d writes for %d concurrent appends: not coalesced", w, n)
		}
	})
}

func TestEnginesSharingABackendSerialise(t *testing.T) {
	m := newMemory("shared-id", map[string][]Record{testZone: baseRecords()})
	m.delay = 2 * time.Millisecond
	var locks sync.Map
	lock := func(_ context.Context, key string) (func(), error) {
		v, _ := locks.LoadOrStore(key, new(int))
		*(v.(*int))++ // the in-process lock is held: no race here
		return func() {}, nil
	}
	var wg sync.WaitGroup
	for i := range 10 {
		e, _ := New(whole{m}, Options{Lock: lock}) // ten engines, as ten Caddy modules would have
		wg.Go(func() {
			if _, err := e.AppendRecords(context.Background(), testZone, []libdns.Record{txt("_acme-challenge", fmt.Sprint("t", i))}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(m.snapshot(testZone)); got != len(baseRecords())+10 {
		t.Fatalf("zone has %d records, want %d: an update was lost", got, len(baseRecords())+10)
	}
	v, ok := locks.Load(m.id + "|" + testZone)
	if !ok || *(v.(*int)) == 0 {
		t.Errorf("Options.Lock was not used")
	}
}

func TestVerifyWritesCatchesSilentDrop(t *testing.T) {
	m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords()})
	m.dropNew = true
	e, _ := New(whole{m}, Options{VerifyWrites: true})
	_, err := e.AppendRecords(context.Background(), testZone, []libdns.Record{txt("_acme-challenge", "token")})
	if err == nil || !strings.Contains(err.Error(), `missing _acme-challenge.example.com. 120 TXT "token"`) {
		t.Fatalf("err = %v, want the dropped record named", err)
	}
}

func TestZoneFor(t *testing.T) {
	m := newMemory(t.Name(), map[string][]Record{"example.com.": nil, "sub.example.com.": nil, "example.net.": nil})
	e, _ := New(whole{m}, Options{})
	tests := []struct{ name, want, wantErr string }{
		{"_acme-challenge.example.com.", "example.com.", ""},
		{"_acme-challenge.www.sub.example.com", "sub.example.com.", ""},
		{"EXAMPLE.NET.", "example.net.", ""},
		{"notexample.com.", "", "no zone of this account holds notexample.com."},
		{"example.org", "", "account zones: example.com. example.net. sub.example.com."},
	}
	for _, tt := range tests {
		got, err := e.ZoneFor(context.Background(), tt.name)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ZoneFor(%q) err = %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ZoneFor(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	// Three hits share one listing; each of the two misses refreshes once.
	if n := m.count("zones"); n != 3 {
		t.Errorf("zone list fetched %d times, want 3 (cached, refreshed on a miss)", n)
	}
}

func TestConcurrentCallersShareOneListing(t *testing.T) {
	m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords()})
	m.delay = 10 * time.Millisecond
	e, _ := New(whole{m}, Options{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := e.ZoneFor(context.Background(), "_acme-challenge.example.com."); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := m.count("zones"); n != 1 {
		t.Errorf("zone list fetched %d times by 20 concurrent callers, want 1", n)
	}
}

func TestGetRecordsRelativeAndTyped(t *testing.T) {
	m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords()})
	e, _ := New(whole{m}, Options{})
	recs, err := e.GetRecords(context.Background(), "example.com")
	if err != nil {
		t.Fatal(err)
	}
	var quoted libdns.TXT
	for _, r := range recs {
		if tx, ok := r.(libdns.TXT); ok && tx.Name == "quotes" {
			quoted = tx
		}
	}
	if quoted.Text != `say "hello"; then \ leave` {
		t.Errorf("TXT came back as %+v", quoted)
	}
	if _, ok := recs[0].(libdns.Address); !ok || recs[0].RR().Name != "@" {
		t.Errorf("first record = %#v, want libdns.Address at @", recs[0])
	}
	// A zone argument below the account zone sees only its own names.
	sub, err := e.GetRecords(context.Background(), "www.example.com.")
	if err != nil || len(sub) != 1 || sub[0].RR().Name != "@" {
		t.Errorf("GetRecords(www.example.com.) = %v, %v", sub, err)
	}
}

func TestInvalidInputChangesNothing(t *testing.T) {
	tests := []struct {
		name string
		kind opKind
		rec  libdns.Record
		want string
	}{
		{"empty name", opAppend, libdns.RR{Type: "TXT", Data: "x"}, "record name is empty"},
		{"no data", opAppend, libdns.RR{Name: "a", Type: "TXT"}, "needs a type and data"},
		{"outside zone", opAppend, libdns.RR{Name: "foo.example.org.", Type: "TXT", Data: "x"}, "outside the zone"},
		{"negative ttl", opSet, libdns.RR{Name: "a", Type: "TXT", Data: "x", TTL: -time.Second}, "negative TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords()})
			e, _ := New(whole{m}, Options{})
			_, err := e.submit(context.Background(), testZone, tt.kind, []libdns.Record{txt("ok", "fine"), tt.rec})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if m.count("write")+m.count("read") != 0 {
				t.Errorf("backend was called despite invalid input")
			}
		})
	}
}

// ctxGated is a whole-zone account whose Reads each wait for release, and
// give up as soon as their context ends, as a real client does.
type ctxGated struct {
	whole
	entered chan struct{}
	release chan struct{}
}

func (g *ctxGated) Read(ctx context.Context, zone string) ([]Record, error) {
	g.entered <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.whole.Read(ctx, zone)
}

// TestCancelledWaiterLeavesOthersAlone puts two appends in one batch (the
// second queues while the first holds up the zone lock), cancels the first
// while the batch reads the zone, and only then lets the read go on: the
// batch must go on for the second, whose record lands.
func TestCancelledWaiterLeavesOthersAlone(t *testing.T) {
	m := newMemory(t.Name(), map[string][]Record{testZone: baseRecords()})
	g := &ctxGated{whole: whole{m}, entered: make(chan struct{}, 1), release: make(chan struct{})}
	locking, unlock := make(chan struct{}, 1), make(chan struct{})
	e, _ := New(g, Options{Lock: func(ctx context.Context, key string) (func(), error) {
		locking <- struct{}{}
		<-unlock
		return func() {}, nil
	}})
	queued := make(chan struct{}, 2)
	e.queued = func(*op) { queued <- struct{}{} }
	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	errA, errB := make(chan error, 1), make(chan error, 1)
	go func() { _, err := e.AppendRecords(ctxA, testZone, []libdns.Record{txt("a", "1")}); errA <- err }()
	<-queued
	<-locking // a's batch waits for the zone lock
	go func() {
		_, err := e.AppendRecords(context.Background(), testZone, []libdns.Record{txt("b", "2")})
		errB <- err
	}()
	<-queued // b waits in the queue and joins a's batch once it has the lock
	close(unlock)
	<-g.entered // the batch of a and b reads the zone
	cancelA()
	if err := <-errA; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled append: err = %v, want context.Canceled", err)
	}
	close(g.release)
	if err := <-errB; err != nil {
		t.Fatalf("the other append failed: %v", err)
	}
	if !slices.ContainsFunc(m.snapshot(testZone), func(r Record) bool { return r.RR.Data == "2" }) {
		t.Errorf("the other append did not land")
	}
	if m.count("read") != 1 {
		t.Errorf("%d reads: a and b were not one batch", m.count("read"))
	}
}

func TestNewRejectsReadOnlyBackend(t *testing.T) {
	if _, err := New(newMemory("ro", nil), Options{}); err == nil {
		t.Fatal("New accepted a backend that cannot write")
	}
}
