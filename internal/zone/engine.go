// Package zone is the zone engine: libdns record semantics implemented once,
// over a small Backend interface that each provider implements in one of two
// flavours — whole-zone replace (ZoneWriter) or per-record create/delete
// (RecordWriter).
//
// The engine guarantees, for every backend:
//   - records it does not mean to touch are handed back to the backend exactly
//     as read (Record.Raw), so a whole-zone write reproduces them byte for byte;
//   - AppendRecords never replaces; appending a record that exists already is
//     a no-op; SetRecords replaces one (name, type) set; DeleteRecords removes
//     exact matches only, and deleting an absent record succeeds;
//   - writes to one zone are serialised across every Engine in the process
//     with the same Backend.ID, and across processes with Options.Lock;
//     operations that queue up while a write is in flight, or within
//     Options.GroupWindow of the first write to an idle zone, are coalesced
//     into one read and one write, whichever Engine of the process they come
//     from, as long as the Engines share Backend.ID and Options.Account;
//   - a write that would drop a record the engine meant to keep is refused
//     and never sent;
//   - with Options.VerifyWrites, the zone is read back after each write and a
//     difference from what was sent is an error;
//   - a failed AppendRecords, SetRecords or DeleteRecords returns an
//     *AtomicError (a libdns.AtomicErr) exactly when the engine knows the call
//     changed nothing, as set out below.
//
// A failed write operation is atomic when it failed before any change was
// sent: invalid input, the account's zone listing or a name no account zone
// holds, the lock, the read of the zone, a plan refused for dropping a
// record, a RecordLimiter's refusal, or a caller that gave up while its
// operation still waited in the queue. It is
// also atomic when the one backend call that would have made the change
// failed with an error the provider is known to have refused (see Refusal:
// for an *api.Error, every try was answered with a 4xx status). It is not
// atomic when the change may have reached the provider: a write that ended
// without an answer (transport error, timeout, cancellation) or with a 5xx
// status, a successful write whose read-back (Options.VerifyWrites) failed
// or differs, or a caller that gave up once its operation was being applied.
// The zone may then hold the change, in full or, at a per-record backend, in
// part.
//
// At a whole-zone backend (ZoneWriter) the one call is the Write of the
// whole zone. At a per-record backend (RecordWriter) an operation is one
// Create or Delete call per changed record, so only a failure of its first
// call can be atomic: once one of its changes is made, a failure leaves the
// rest undone and is not atomic (the same call again completes it).
//
// Names handed to the backend are absolute (FQDN with a trailing dot); names
// exchanged with libdns callers are relative to the zone they pass.
package zone

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
)

// Record is one record as a backend holds it.
type Record struct {
	// RR is the record with an absolute Name ("_acme-challenge.example.com.")
	// and libdns Data (zone-file syntax, TXT unquoted).
	RR libdns.RR
	// Raw is the backend's own encoding of the record as read. The engine
	// passes it back untouched for every record it keeps; it is nil for
	// records the engine creates.
	Raw []byte
	// ID identifies the record at per-record backends.
	ID string
}

// Backend reads one provider account.
type Backend interface {
	// ID names the API endpoint (and, where it matters, the account).
	// Engines whose backends share an ID serialise their writes per zone.
	ID() string
	// Zones lists the account's zones (domains), with or without a trailing dot.
	Zones(ctx context.Context) ([]string, error)
	// Read returns every record of zone (an FQDN with a trailing dot).
	Read(ctx context.Context, zone string) ([]Record, error)
}

// ZoneWriter is a backend whose API replaces the whole record set at once.
type ZoneWriter interface {
	Backend
	// Write replaces the zone's records with records: the kept ones carry
	// the Raw they were read with, new ones have Raw == nil. Its error
	// implements Refusal, or wraps one, when it can tell that the zone was
	// left as it was.
	Write(ctx context.Context, zone string, records []Record) error
}

// RecordWriter is a backend whose API creates and deletes single records.
type RecordWriter interface {
	Backend
	// Create adds one record and returns it as stored (with its ID).
	Create(ctx context.Context, zone string, rr libdns.RR) (Record, error)
	// Delete removes one record previously returned by Read or Create.
	// As for ZoneWriter.Write, an error of Create or Delete implements
	// Refusal, or wraps one, when it can tell that nothing was changed.
	Delete(ctx context.Context, zone string, r Record) error
}

// RecordLimiter is optionally implemented by a RecordWriter whose API caps
// the number of records per zone. The engine asks it before it sends any
// change of an operation, so an operation that would overfill the zone
// changes nothing and fails with the limiter's error.
type RecordLimiter interface {
	// CheckLimit returns an error saying why the zone cannot go from
	// before to after (every record the zone would hold once the operation
	// is applied; new records have no ID), or nil when it can.
	CheckLimit(zone string, before, after []Record) error
}

// Options tune an Engine.
type Options struct {
	// DefaultTTL replaces a zero TTL on records to create; default 120s.
	DefaultTTL time.Duration
	// ZoneCacheTTL is how long the account's zone list is reused; default 1m.
	ZoneCacheTTL time.Duration
	// Lock, when set, is held around every read-modify-write of a zone, in
	// addition to the in-process lock; use it for a lock shared between
	// processes. key is unique per backend ID and zone.
	Lock func(ctx context.Context, key string) (unlock func(), err error)
	// VerifyWrites reads the zone back after each write and fails if it
	// differs from what was sent (for APIs that may drop data silently).
	VerifyWrites bool
	// GroupWindow is how long the first operation on an idle zone waits for
	// others to join its batch before the zone is read; operations that
	// arrive while a batch is being written wait for it anyway and join the
	// next one. Zero means DefaultGroupWindow; a negative value disables the
	// wait, for callers that submit one operation at a time (the lego
	// providers, the hook binary).
	GroupWindow time.Duration
	// Account tells apart the accounts behind one Backend.ID, for example
	// a hash of the credentials (never the credentials themselves): the
	// operations of Engines in one process share a batch only when their
	// backends' IDs, their Accounts, their VerifyWrites and whether they
	// have a Lock are equal, and a batch is applied through the backend and
	// Lock of the Engine whose operation opened it.
	Account string
	// ZoneList, when set, keeps the account's zone list beyond this
	// process (the hook binary keeps it on disk between its calls): when
	// the engine holds no fresh list it asks Load before listing, and it
	// hands Store every list the backend returns. A list from Load is used
	// for that call only, never kept in the engine, and a refresh (a name
	// no listed zone holds) always asks the backend.
	ZoneList ZoneListStore
}

// ZoneListStore keeps an account's zone list outside the engine
// (Options.ZoneList). Each is for one account; id is the Backend.ID.
type ZoneListStore interface {
	// Load returns the stored list and true when one is fresh enough to use.
	Load(id string) ([]string, bool)
	// Store keeps the list the backend just returned (canonical, sorted).
	Store(id string, zones []string)
}

// DefaultGroupWindow is the group-commit window of an Engine whose
// Options.GroupWindow is zero. It is long enough to gather the presents of
// certificates a client such as Caddy obtains at once (their orders reach
// the provider within tens of milliseconds of each other on a fast CA), and
// short against the seconds an ACME validation takes.
const DefaultGroupWindow = 100 * time.Millisecond

// Engine implements libdns semantics over a Backend. Safe for concurrent use.
type Engine struct {
	b    Backend
	opts Options

	acct     *account                   // the zone list, shared by the process's engines of one account
	mergeFor func([]Record, []*op) plan // replaced in tests to simulate a faulty merge
	queued   func(*op)                  // set in tests: called once an operation waits in its zone's queue
	window   func() <-chan time.Time    // the group-commit wait; replaced in tests
}

// New returns an engine over b, which must implement ZoneWriter or RecordWriter.
func New(b Backend, opts Options) (*Engine, error) {
	switch b.(type) {
	case ZoneWriter, RecordWriter:
	default:
		return nil, fmt.Errorf("zone engine: backend %s implements neither ZoneWriter nor RecordWriter", b.ID())
	}
	if opts.DefaultTTL <= 0 {
		opts.DefaultTTL = 120 * time.Second
	}
	if opts.ZoneCacheTTL <= 0 {
		opts.ZoneCacheTTL = time.Minute
	}
	if opts.GroupWindow == 0 {
		opts.GroupWindow = DefaultGroupWindow
	}
	v, _ := accounts.LoadOrStore(b.ID()+"|"+opts.Account, &account{listing: make(chan struct{}, 1)})
	e := &Engine{b: b, opts: opts, acct: v.(*account), mergeFor: merge}
	if d := opts.GroupWindow; d > 0 {
		e.window = func() <-chan time.Time { return time.After(d) }
	}
	return e, nil
}

// ListZones returns the account's zones as FQDNs with a trailing dot, sorted.
func (e *Engine) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	zs, err := e.accountZones(ctx, false)
	if err != nil {
		return nil, err
	}
	out := make([]libdns.Zone, len(zs))
	for i, z := range zs {
		out[i] = libdns.Zone{Name: z}
	}
	return out, nil
}

// ZoneFor returns the account zone that holds name: the longest zone of the
// account equal to name or a parent of it.
func (e *Engine) ZoneFor(ctx context.Context, name string) (string, error) {
	name = Canonical(name)
	for refreshed := false; ; refreshed = true {
		zs, err := e.accountZones(ctx, refreshed)
		if err != nil {
			return "", err
		}
		if best := Longest(name, zs); best != "" {
			return best, nil
		}
		if refreshed {
			shown := zs
			if len(shown) > 10 {
				shown = append(slices.Clip(shown[:10]), "…")
			}
			return "", fmt.Errorf("no zone of this account holds %s (account zones: %s)", name, strings.Join(shown, " "))
		}
	}
}

// account is the zone list of one account (backend ID and Options.Account),
// shared by every Engine of the process that reaches it.
type account struct {
	listing chan struct{} // one zone listing at a time
	mu      sync.Mutex
	zones   []string
	at      time.Time
}

var accounts sync.Map // backend ID + "|" + Options.Account -> *account

// accountZones returns the cached zone list, or fetches it. Concurrent
// callers share one fetch; with refresh, a list fetched after the call began
// is fresh enough. The list is shared with the process's other engines of
// the same account, each applying its own ZoneCacheTTL.
func (e *Engine) accountZones(ctx context.Context, refresh bool) ([]string, error) {
	a := e.acct
	asked := time.Now()
	select {
	case a.listing <- struct{}{}:
		defer func() { <-a.listing }()
	case <-ctx.Done():
		return nil, fmt.Errorf("listing zones: %w", ctx.Err())
	}
	a.mu.Lock()
	if a.zones != nil && time.Since(a.at) < e.opts.ZoneCacheTTL && (!refresh || a.at.After(asked)) {
		zs := a.zones
		a.mu.Unlock()
		return zs, nil
	}
	a.mu.Unlock()
	if e.opts.ZoneList != nil && !refresh {
		if stored, ok := e.opts.ZoneList.Load(e.b.ID()); ok {
			return canonicalZones(stored), nil
		}
	}
	raw, err := e.b.Zones(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing zones: %w", err)
	}
	zs := canonicalZones(raw)
	a.mu.Lock()
	a.zones, a.at = zs, time.Now()
	a.mu.Unlock()
	if e.opts.ZoneList != nil {
		e.opts.ZoneList.Store(e.b.ID(), zs)
	}
	return zs, nil
}

// canonicalZones returns zone names canonical, sorted and without repeats.
func canonicalZones(raw []string) []string {
	zs := make([]string, 0, len(raw))
	for _, z := range raw {
		zs = append(zs, Canonical(z))
	}
	sort.Strings(zs)
	return slices.Compact(zs)
}

// GetRecords returns the records at or below zone, with names relative to
// zone and typed values (libdns.TXT, libdns.Address, …) where the data parses.
func (e *Engine) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	az, err := e.ZoneFor(ctx, zone)
	if err != nil {
		return nil, err
	}
	recs, err := e.read(ctx, az)
	if err != nil {
		return nil, err
	}
	zone = Canonical(zone)
	var out []libdns.Record
	for _, r := range recs {
		if InZone(r.RR.Name, zone) {
			out = append(out, relative(r.RR, zone))
		}
	}
	return out, nil
}

// AppendRecords adds records that are not in the zone yet and returns every
// input record as it now exists (exact duplicates are not added twice).
// Its error is an *AtomicError when the zone was left as it was (see the
// package documentation).
func (e *Engine) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return e.submit(ctx, zone, opAppend, recs)
}

// SetRecords makes each (name, type) set named in recs hold exactly the
// input records, leaving every other set untouched, and returns recs.
// Its error is an *AtomicError when the zone was left as it was (see the
// package documentation). It is not atomic in general at per-record
// backends: a failure can leave a set partially updated, which a retry of
// the same call repairs.
func (e *Engine) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return e.submit(ctx, zone, opSet, recs)
}

// DeleteRecords removes the records that match an input exactly (an empty
// Type or Data, or a zero TTL, matches any) and returns those removed.
// Input records not in the zone are ignored. Its error is an *AtomicError
// when the zone was left as it was (see the package documentation).
func (e *Engine) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return e.submit(ctx, zone, opDelete, recs)
}

type opKind int

const (
	opAppend opKind = iota
	opSet
	opDelete
)

func (k opKind) String() string {
	return [...]string{"append", "set", "delete"}[k]
}

type op struct {
	ctx  context.Context
	kind opKind
	rrs  []libdns.RR // absolute names, TTL defaulted
	done chan result // buffered: the waiter may have gone
}

type result struct {
	rrs []libdns.RR
	err error
}

type queue struct {
	mu      sync.Mutex
	pending []*op
	running bool
}

func (e *Engine) submit(ctx context.Context, zone string, kind opKind, recs []libdns.Record) ([]libdns.Record, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	az, err := e.ZoneFor(ctx, zone)
	if err != nil {
		return nil, unchanged(err)
	}
	zone = Canonical(zone)
	o := &op{ctx: ctx, kind: kind, done: make(chan result, 1)}
	for _, rec := range recs {
		rr, err := e.absolute(rec.RR(), zone, kind)
		if err != nil {
			return nil, unchanged(fmt.Errorf("%s records in %s: %w", kind, zone, err))
		}
		o.rrs = append(o.rrs, rr)
	}

	v, _ := zoneQueues.LoadOrStore(e.queueKey(az), &queue{})
	q := v.(*queue)
	q.mu.Lock()
	q.pending = append(q.pending, o)
	lead := !q.running
	q.running = true
	q.mu.Unlock()
	if e.queued != nil {
		e.queued(o)
	}
	if lead {
		go e.drain(az, q)
	}

	select {
	case r := <-o.done:
		if r.err != nil {
			return nil, r.err
		}
		out := make([]libdns.Record, len(r.rrs))
		for i, rr := range r.rrs {
			out[i] = relative(rr, zone)
		}
		return out, nil
	case <-ctx.Done():
		q.mu.Lock()
		n := len(q.pending)
		q.pending = slices.DeleteFunc(q.pending, func(p *op) bool { return p == o })
		withdrawn := len(q.pending) < n
		q.mu.Unlock()
		err := fmt.Errorf("%s records in %s: %w", kind, zone, ctx.Err())
		if withdrawn {
			// No batch took the operation, and none can now.
			return nil, unchanged(err)
		}
		// A batch has the operation and may be writing it.
		return nil, err
	}
}

// absolute validates one input record and makes its name absolute.
func (e *Engine) absolute(rr libdns.RR, zone string, kind opKind) (libdns.RR, error) {
	if strings.TrimSpace(rr.Name) == "" {
		return rr, errors.New(`record name is empty (use "@" for the zone apex)`)
	}
	rr.Name = Canonical(libdns.AbsoluteName(rr.Name, zone))
	if !InZone(rr.Name, zone) {
		return rr, fmt.Errorf("record name %s is outside the zone", rr.Name)
	}
	rr.Type = strings.ToUpper(strings.TrimSpace(rr.Type))
	if rr.TTL < 0 {
		return rr, fmt.Errorf("record %s %s: negative TTL", rr.Name, rr.Type)
	}
	if rr.TTL > 0 && rr.TTL < time.Second {
		rr.TTL = time.Second
	}
	rr.TTL = rr.TTL.Truncate(time.Second)
	if kind == opDelete {
		return rr, nil
	}
	if rr.Type == "" || rr.Data == "" {
		return rr, fmt.Errorf("record %s needs a type and data", rr.Name)
	}
	if rr.TTL == 0 {
		rr.TTL = e.opts.DefaultTTL
	}
	return rr, nil
}

// queueKey names the queue of zone that e's operations join: one per
// process for engines that may share a batch (see Options.Account).
func (e *Engine) queueKey(zone string) string {
	return fmt.Sprintf("%s|%s|%s|verify=%t|lock=%t", e.b.ID(), e.opts.Account, zone, e.opts.VerifyWrites, e.opts.Lock != nil)
}

// zoneQueues holds every queue of the process, by queueKey. A queue is
// kept once made: there is one per zone an account writes to.
var zoneQueues sync.Map

// drain runs batches for one zone until no operation is pending. The first
// batch waits for the group-commit window, so that operations arriving
// together on an idle zone share it.
func (e *Engine) drain(zone string, q *queue) {
	if e.window != nil {
		<-e.window()
	}
	for {
		q.mu.Lock()
		batch := q.pending
		q.pending = nil
		if len(batch) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		e.runBatch(zone, q, batch)
	}
}

// runBatch takes the zone's locks, picks up whatever else queued meanwhile,
// and applies all operations with one read and (whole-zone) one write.
func (e *Engine) runBatch(zone string, q *queue, batch []*op) {
	ctx, bc := newBatchContext(batch)
	defer bc.stop()
	fail := func(ops []*op, err error) {
		for _, o := range ops {
			o.done <- result{err: err}
		}
	}
	unlock, err := e.lock(ctx, zone)
	if err != nil {
		fail(batch, unchanged(fmt.Errorf("locking zone %s: %w", zone, err)))
		return
	}
	defer unlock()
	// Operations that arrived while we waited for the lock join this batch.
	q.mu.Lock()
	if ctx.Err() == nil {
		bc.add(q.pending)
		batch = append(batch, q.pending...)
		q.pending = nil
	}
	q.mu.Unlock()

	before, err := e.read(ctx, zone)
	if err != nil {
		fail(batch, unchanged(err))
		return
	}
	switch b := e.b.(type) {
	case ZoneWriter:
		e.writeZone(ctx, b, zone, before, batch)
	case RecordWriter:
		e.writeRecords(ctx, b, zone, before, batch)
	}
}

// writeZone applies the batch with one Write of the whole zone. A plan that
// is refused is never sent, and a Write the provider refused changed
// nothing: both fail atomically. A Write that failed otherwise, or whose
// read-back failed or differs, may have changed the zone.
func (e *Engine) writeZone(ctx context.Context, b ZoneWriter, zone string, before []Record, batch []*op) {
	p := e.mergeFor(before, batch)
	err := p.check(before)
	untouched := err != nil
	if err == nil && p.changed {
		err = b.Write(ctx, zone, p.after)
		untouched = err != nil && refused(err)
		if err == nil && e.opts.VerifyWrites {
			err = e.verify(ctx, zone, p.after)
		}
	}
	if err != nil {
		err = fmt.Errorf("writing zone %s for %s: %w", zone, batchNames(batch), err)
		if untouched {
			err = unchanged(err)
		}
	}
	for i, o := range batch {
		switch {
		case p.errs[i] != nil:
			// Not known to be atomic: the plan was written for the others.
			o.done <- result{err: p.errs[i]}
		case err != nil:
			o.done <- result{err: err}
		default:
			o.done <- result{rrs: p.results[i]}
		}
	}
}

// batchNames lists the distinct record names of a batch's operations, so
// that every caller of a failed batch write learns whose records it held.
func batchNames(batch []*op) string {
	var names []string
	for _, o := range batch {
		for _, rr := range o.rrs {
			if !slices.Contains(names, rr.Name) {
				names = append(names, rr.Name)
			}
		}
	}
	sort.Strings(names)
	const shown = 10
	if len(names) > shown {
		return fmt.Sprintf("%s and %d more names", strings.Join(names[:shown], " "), len(names)-shown)
	}
	return strings.Join(names, " ")
}

// writeRecords applies each operation with single-record calls, in order.
// An operation that fails leaves the ones after it unaffected; its error
// says how many of its changes were made before the failure. It fails
// atomically when it was refused before any call, or when its first call
// was refused by the provider.
func (e *Engine) writeRecords(ctx context.Context, b RecordWriter, zone string, cur []Record, batch []*op) {
	for _, o := range batch {
		p := e.mergeFor(cur, []*op{o})
		err := p.errs[0]
		if err == nil {
			err = p.check(cur)
		}
		if l, ok := b.(RecordLimiter); ok && err == nil && p.changed {
			err = l.CheckLimit(zone, cur, p.after)
		}
		untouched := err != nil
		if err == nil {
			var made int
			cur, made, err = applyRecords(ctx, b, zone, cur, p)
			untouched = err != nil && made == 0 && refused(err)
		}
		if err != nil {
			err = fmt.Errorf("%s records in %s: %w", o.kind, zone, err)
			if untouched {
				err = unchanged(err)
			}
			o.done <- result{err: err}
			continue
		}
		o.done <- result{rrs: p.results[0]}
	}
}

// applyRecords deletes what the plan dropped and creates what it added,
// returning the zone as it now is and how many changes were made. Deletes go
// first, so that a record set replaced with a different TTL never holds two
// copies of one value. On a failure the error tells how many changes were
// made before it.
func applyRecords(ctx context.Context, b RecordWriter, zone string, cur []Record, p plan) ([]Record, int, error) {
	total := len(p.deleted)
	for _, o := range p.origin {
		if o < 0 {
			total++
		}
	}
	done := 0
	partial := func(err error) error {
		if done == 0 {
			return err
		}
		return fmt.Errorf("%w (%d of %d changes were made before this failure; the same call again completes it)", err, done, total)
	}
	var now []Record
	for i, r := range cur {
		if !p.deleted[i] {
			now = append(now, r)
			continue
		}
		if err := b.Delete(ctx, zone, r); err != nil {
			return append(now, cur[i:]...), done, partial(fmt.Errorf("deleting %s: %w", show(r.RR), err))
		}
		done++
	}
	for k, r := range p.after {
		if p.origin[k] >= 0 {
			continue
		}
		created, err := b.Create(ctx, zone, r.RR)
		if err != nil {
			return now, done, partial(fmt.Errorf("creating %s: %w", show(r.RR), err))
		}
		done++
		created.RR = canonicalRR(created.RR)
		now = append(now, created)
	}
	return now, done, nil
}

func (e *Engine) verify(ctx context.Context, zone string, sent []Record) error {
	got, err := e.read(ctx, zone)
	if err != nil {
		return fmt.Errorf("checking the write: %w", err)
	}
	missing, extra := diff(sent, got)
	if len(missing)+len(extra) == 0 {
		return nil
	}
	return fmt.Errorf("the zone read back differs from what was written: missing %s; unexpected %s", describe(missing), describe(extra))
}

// read reads the zone and puts every name in canonical form (Raw is untouched).
func (e *Engine) read(ctx context.Context, zone string) ([]Record, error) {
	recs, err := e.b.Read(ctx, zone)
	if err != nil {
		return nil, fmt.Errorf("reading zone %s: %w", zone, err)
	}
	for i := range recs {
		recs[i].RR = canonicalRR(recs[i].RR)
	}
	return recs, nil
}

func canonicalRR(rr libdns.RR) libdns.RR {
	rr.Name = Canonical(rr.Name)
	rr.Type = strings.ToUpper(rr.Type)
	return rr
}

// lock serialises read-modify-write cycles on one zone: in process by
// backend ID and zone, and across processes through Options.Lock.
func (e *Engine) lock(ctx context.Context, zone string) (func(), error) {
	key := e.b.ID() + "|" + zone
	v, _ := zoneLocks.LoadOrStore(key, make(chan struct{}, 1))
	ch := v.(chan struct{})
	select {
	case ch <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := func() { <-ch }
	if e.opts.Lock == nil {
		return release, nil
	}
	unlock, err := e.opts.Lock(ctx, key)
	if err != nil {
		release()
		return nil, err
	}
	return func() { unlock(); release() }, nil
}

var zoneLocks sync.Map // backend ID + zone -> chan struct{} (capacity 1)

// batchContext is cancelled once every operation in the batch has given up,
// so one caller's cancellation never aborts a write others still wait for.
type batchContext struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	live   int
	stops  []func() bool
}

func newBatchContext(ops []*op) (context.Context, *batchContext) {
	ctx, cancel := context.WithCancel(context.Background())
	bc := &batchContext{cancel: cancel}
	bc.add(ops)
	return ctx, bc
}

func (bc *batchContext) add(ops []*op) {
	bc.mu.Lock()
	bc.live += len(ops)
	bc.mu.Unlock()
	for _, o := range ops {
		stop := context.AfterFunc(o.ctx, func() {
			bc.mu.Lock()
			defer bc.mu.Unlock()
			if bc.live--; bc.live == 0 {
				bc.cancel()
			}
		})
		bc.mu.Lock()
		bc.stops = append(bc.stops, stop)
		bc.mu.Unlock()
	}
}

func (bc *batchContext) stop() {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	for _, s := range bc.stops {
		s()
	}
	bc.cancel()
}
