// Package certmagicsolver is a DNS-01 solver for Go programs that obtain
// certificates with certmagic (or acmez directly), over any libdns provider
// that appends and deletes records. It batches: every challenge presented
// before the first Wait is written with one AppendRecords call per zone,
// and every record is deleted with one DeleteRecords call per zone once the
// last presented record has been cleaned up. Over this project's providers
// (one read and one whole-zone write per call), one 10-name certificate
// then costs 5 API requests: 1 zone listing, 1 read + 1 write to present, 1
// read + 1 write to clean up, instead of 2 + 2 per name with certmagic's
// DNS01Solver.
//
// Use it as the ACME issuer's DNS-01 solver (over this project's providers,
// set the provider's GroupWindow to -1: the solver batches already, and the
// engine's group-commit wait would only delay each batch by 100 ms):
//
//	s := certmagicsolver.New(provider, certmagicsolver.Options{})
//	defer s.Close()
//	issuer := certmagic.NewACMEIssuer(cfg, certmagic.ACMEIssuer{DNS01Solver: s, ...})
//
// # What happens when
//
//   - Present checks the name and value and queues the record; it does no
//     I/O and returns at once (acmez's Solver contract).
//   - The first Wait of a queued record writes the whole queue: the zone of
//     each name is found (from the provider's zone list when it implements
//     libdns.ZoneLister, else through DNS by SOA), then one AppendRecords
//     call per zone, zones in parallel. Later Waits of records of that batch
//     wait for that write. When no Wait comes (acmez allows a caller to
//     skip it), a timer writes the queue Options.WriteFallback after the
//     first record was queued.
//   - Right after a batch is written, the solver starts checking every
//     record of it in parallel (at most Options.CheckConcurrency at once):
//     it asks the zone's authoritative servers (or Options.Resolvers) at
//     once, then every Options.PropagationInterval, until each serves the
//     value or Options.PropagationTimeout passes. Wait returns when its own
//     record is visible. Options.SkipPropagationCheck turns the check off.
//   - CleanUp queues the record's deletion and returns at once. The queued
//     deletions are written (one DeleteRecords call per zone) when no
//     presented record remains and no further CleanUp or Present came for
//     Options.CleanupDelay, or, at the latest, Options.CleanupMaxAge after
//     the oldest one was queued. Close writes them at once.
//
// The writes, deletions and checks run on the solver's own context: a
// caller whose context ends gets its error from Wait, and nobody else does.
// A batch write that fails fails the Wait of every record in it with an
// error naming the zone and every name of the write.
//
// # CNAMEs
//
// The solver writes where acmez asks (_acme-challenge.<identifier>); it
// does not follow a CNAME from there. The propagation check follows a CNAME
// in the authoritative servers' answers as a CA does.
package certmagicsolver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
	"github.com/mholt/acmez/v3"
	"github.com/mholt/acmez/v3/acme"

	"github.com/acme-dns-hook/acme-dns-hook/internal/dnsname"
	"github.com/acme-dns-hook/acme-dns-hook/internal/propagation"
	"github.com/acme-dns-hook/acme-dns-hook/internal/solver"
)

// Provider is what the solver needs of a libdns provider. One that also
// implements libdns.ZoneLister has the zone of each name picked from its
// zone list (the longest zone holding the name); for any other the zone is
// found through DNS (the closest enclosing name with an SOA record, asked of
// Options.SystemResolvers).
type Provider interface {
	libdns.RecordAppender
	libdns.RecordDeleter
}

// Defaults of Options.
const (
	DefaultWriteFallback       = time.Second
	DefaultPropagationTimeout  = 2 * time.Minute
	DefaultPropagationInterval = 250 * time.Millisecond
	DefaultCheckConcurrency    = 10
	DefaultCleanupDelay        = 500 * time.Millisecond
	DefaultCleanupMaxAge       = 30 * time.Second
	DefaultWriteTimeout        = 2 * time.Minute
)

// Options tune a Solver. The zero value is ready to use; a zero duration or
// count means its default.
type Options struct {
	// TTL of the records written; 0 leaves it to the provider's default.
	TTL time.Duration

	// WriteFallback is how long a queued record waits for a Wait before a
	// timer writes the queue anyway (default 1s).
	WriteFallback time.Duration

	// SkipPropagationCheck makes Wait return as soon as the record's batch
	// is written, without asking DNS. Safe only where a record is served by
	// every authoritative server the moment the provider's API call
	// returns.
	SkipPropagationCheck bool
	// PropagationTimeout bounds the check of one record (default 2m);
	// PropagationInterval is the pause between two looks (default 250ms;
	// the first look is at once).
	PropagationTimeout, PropagationInterval time.Duration
	// CheckConcurrency is the most records checked at once (default 10).
	CheckConcurrency int
	// Resolvers, when set, are the DNS servers ("host:port"; port 53 when
	// left out) the check asks, with recursion desired, instead of each
	// zone's authoritative servers. Leave empty unless those are the
	// servers the CA asks: a recursive resolver's cache may show a value
	// the CA does not see yet, or hide one it does.
	Resolvers []string
	// SystemResolvers are the recursive resolvers that find a zone's
	// authoritative servers and, for a provider that cannot list its zones,
	// the zone of a name (default: those of /etc/resolv.conf).
	SystemResolvers []string

	// CleanupDelay is how long the solver waits after the last CleanUp of
	// every presented record before it deletes (default 500ms), so that
	// cleanups of concurrent orders share the deletion.
	CleanupDelay time.Duration
	// CleanupMaxAge bounds how long a cleaned-up record waits for the
	// others (default 30s): the queued deletions are written then, even
	// while other records are still presented.
	CleanupMaxAge time.Duration

	// WriteTimeout bounds one batch write or deletion, zone lookups
	// included (default 2m).
	WriteTimeout time.Duration

	// Logger receives a debug line per write and deletion, and the errors
	// of deletions (which no caller sees: CleanUp returned before them).
	// nil discards.
	Logger *slog.Logger
}

// Solver is an acmez Solver and Waiter for DNS-01 challenges. Create it
// with New; it is safe for concurrent use by any number of orders. Close it
// when done, so that pending deletions are written.
type Solver struct {
	p     Provider
	opts  Options
	zones *solver.Solver
	check *propagation.Checker
	sem   chan struct{} // bounds concurrent checks

	base   context.Context // the solver's own context; Close cancels it
	cancel context.CancelFunc
	bg     sync.WaitGroup // background writes, deletions and checks

	mu       sync.Mutex
	records  map[string]*record // presented, not yet cleaned up; by key
	queue    []*record          // presented, not yet in a batch
	fallback *time.Timer        // writes queue when no Wait comes
	doomed   []*record          // cleaned up, deletion not yet written
	oldest   time.Time          // when doomed[0] was queued
	cleanup  *time.Timer        // writes the doomed
	due      time.Time          // when cleanup fires
	closed   bool
}

// record is one TXT record the solver presented.
type record struct {
	name, value string // canonical FQDN, DNS-01 value
	refs        int    // Presents not yet cleaned up

	batch *batch // nil while queued
	// set by the batch before it closes done:
	zone     string // "" when the zone was not found
	writeErr error

	checked  chan struct{} // closed when checkErr is final
	checkErr error
	stop     context.CancelFunc // ends the check; set under Solver.mu
	dropped  bool               // cleaned up: start no check
}

// batch is one write of queued records.
type batch struct {
	records []*record
	done    chan struct{} // closed when every record's zone and writeErr are set
}

func key(name, value string) string { return name + " " + value }

// New returns a solver writing through p. It panics if p is nil.
func New(p Provider, opts Options) *Solver {
	if p == nil {
		panic("certmagicsolver.New: nil provider")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.WriteFallback, DefaultWriteFallback)
	def(&opts.PropagationTimeout, DefaultPropagationTimeout)
	def(&opts.PropagationInterval, DefaultPropagationInterval)
	def(&opts.CleanupDelay, DefaultCleanupDelay)
	def(&opts.CleanupMaxAge, DefaultCleanupMaxAge)
	def(&opts.WriteTimeout, DefaultWriteTimeout)
	if opts.CheckConcurrency <= 0 {
		opts.CheckConcurrency = DefaultCheckConcurrency
	}
	base, cancel := context.WithCancel(context.Background())
	return &Solver{
		p:    p,
		opts: opts,
		zones: &solver.Solver{
			Provider:  p,
			Resolvers: opts.SystemResolvers,
		},
		check: &propagation.Checker{
			Resolvers:       opts.Resolvers,
			SystemResolvers: opts.SystemResolvers,
			Timeout:         opts.PropagationTimeout,
			Interval:        opts.PropagationInterval,
		},
		sem:     make(chan struct{}, opts.CheckConcurrency),
		base:    base,
		cancel:  cancel,
		records: map[string]*record{},
	}
}

// challenge returns the canonical record name and the value of a DNS-01
// challenge, or an error naming what is wrong.
func challenge(c acme.Challenge) (name, value string, err error) {
	if c.Type != "" && c.Type != acme.ChallengeTypeDNS01 {
		return "", "", fmt.Errorf("certmagicsolver: challenge type %q is not %s: use this solver as the DNS-01 solver only", c.Type, acme.ChallengeTypeDNS01)
	}
	if _, err := dnsname.Domain(c.Identifier.Value); err != nil {
		return "", "", fmt.Errorf("certmagicsolver: identifier %w", err)
	}
	name, err = dnsname.Name(c.DNS01TXTRecordName())
	if err != nil {
		return "", "", fmt.Errorf("certmagicsolver: record name of identifier %q: %w", c.Identifier.Value, err)
	}
	value = c.DNS01KeyAuthorization()
	return name, value, nil
}

// Present queues the TXT record of the challenge and returns: it checks the
// record name and does no I/O. The record is written by the first Wait, or
// by the fallback timer (Options.WriteFallback) when no Wait comes.
// Presenting the same challenge twice queues one record, which then needs
// two CleanUps. It fails after Close.
func (s *Solver) Present(_ context.Context, c acme.Challenge) error {
	name, value, err := challenge(c)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("certmagicsolver: presenting TXT %s: the solver is closed", name)
	}
	k := key(name, value)
	if r := s.records[k]; r != nil {
		r.refs++
		return nil
	}
	// The same record cleaned up but not deleted yet: keep it instead.
	for i, r := range s.doomed {
		if key(r.name, r.value) == k {
			s.doomed = slices.Delete(s.doomed, i, i+1)
			r.refs, r.dropped = 1, false
			s.records[k] = r
			s.scheduleCleanupLocked()
			return nil
		}
	}
	r := &record{name: name, value: value, refs: 1, checked: make(chan struct{})}
	s.records[k] = r
	s.queue = append(s.queue, r)
	if len(s.queue) == 1 {
		s.fallback = time.AfterFunc(s.opts.WriteFallback, s.flushQueue)
	}
	// A new record is outstanding: cleanups wait for it (up to their
	// maximum age).
	s.scheduleCleanupLocked()
	return nil
}

// Wait returns once the challenge's record is written and, unless
// Options.SkipPropagationCheck, served by the zone's authoritative servers
// (or Options.Resolvers). The first Wait of a queued record writes every
// queued record, one AppendRecords call per zone; the others wait for that
// write. It returns ctx's error when ctx ends first; the write and the check
// go on for the other records. A failed write fails every Wait of its
// records with an error naming the zone and every name written with it.
func (s *Solver) Wait(ctx context.Context, c acme.Challenge) error {
	name, value, err := challenge(c)
	if err != nil {
		return err
	}
	s.mu.Lock()
	r := s.records[key(name, value)]
	if r == nil {
		s.mu.Unlock()
		return fmt.Errorf("certmagicsolver: waiting for TXT %s: it was not presented (or was cleaned up)", name)
	}
	b := r.batch
	if b == nil {
		b = s.flushLocked()
	}
	s.mu.Unlock()

	select {
	case <-b.done:
	case <-ctx.Done():
		return fmt.Errorf("certmagicsolver: waiting for TXT %s to be written: %w", name, context.Cause(ctx))
	}
	if r.writeErr != nil {
		return r.writeErr
	}
	if s.opts.SkipPropagationCheck {
		return nil
	}
	select {
	case <-r.checked:
		return r.checkErr
	case <-ctx.Done():
		return fmt.Errorf("certmagicsolver: waiting for TXT %s to propagate: %w", name, context.Cause(ctx))
	}
}

// CleanUp queues the deletion of the challenge's record and returns at once
// (see the package documentation for when deletions are written). A record
// that was never written is only dropped from the queue. Cleaning up a
// challenge that was not presented does nothing.
func (s *Solver) CleanUp(_ context.Context, c acme.Challenge) error {
	name, value, err := challenge(c)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(name, value)
	r := s.records[k]
	if r == nil {
		return nil
	}
	if r.refs--; r.refs > 0 {
		return nil
	}
	delete(s.records, k)
	r.dropped = true
	if r.stop != nil {
		r.stop()
	}
	if r.batch == nil {
		s.queue = slices.DeleteFunc(s.queue, func(q *record) bool { return q == r })
		if len(s.queue) == 0 && s.fallback != nil {
			s.fallback.Stop()
		}
		s.scheduleCleanupLocked()
		return nil
	}
	if len(s.doomed) == 0 {
		s.oldest = time.Now()
	}
	s.doomed = append(s.doomed, r)
	s.scheduleCleanupLocked()
	return nil
}

// scheduleCleanupLocked sets the cleanup timer: CleanupDelay from now when
// no presented record is left, else when the oldest queued deletion reaches
// CleanupMaxAge.
func (s *Solver) scheduleCleanupLocked() {
	if s.cleanup != nil {
		s.cleanup.Stop()
	}
	if len(s.doomed) == 0 || s.closed {
		return
	}
	due := time.Until(s.oldest.Add(s.opts.CleanupMaxAge))
	if len(s.records) == 0 {
		due = min(due, s.opts.CleanupDelay)
	}
	due = max(due, 0)
	s.due = time.Now().Add(due)
	s.cleanup = time.AfterFunc(due, s.flushDeletions)
}

// Close writes every queued deletion at once, deletes the records still
// presented (no CleanUp will come for them once the solver is closed),
// waits for the writes, deletions and checks under way, and returns the
// errors of the deletions it wrote. Records queued but never written are
// dropped. After Close, Present fails; Close is idempotent.
func (s *Solver) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.fallback != nil {
		s.fallback.Stop()
	}
	if s.cleanup != nil {
		s.cleanup.Stop()
	}
	s.queue = nil
	doomed := s.doomed
	s.doomed = nil
	for k, r := range s.records {
		delete(s.records, k)
		r.dropped = true
		if r.stop != nil {
			r.stop()
		}
		if r.batch != nil {
			doomed = append(doomed, r)
		}
	}
	s.mu.Unlock()
	err := s.deleteRecords(doomed)
	s.cancel()
	s.bg.Wait()
	return err
}

// flushQueue writes the queued records (the fallback timer).
func (s *Solver) flushQueue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) > 0 && !s.closed {
		s.flushLocked()
	}
}

// flushLocked starts writing the queue as one batch and returns it.
func (s *Solver) flushLocked() *batch {
	b := &batch{records: s.queue, done: make(chan struct{})}
	s.queue = nil
	if s.fallback != nil {
		s.fallback.Stop()
	}
	for _, r := range b.records {
		r.batch = b
	}
	if s.closed {
		for _, r := range b.records {
			r.writeErr = fmt.Errorf("certmagicsolver: writing TXT %s: the solver is closed", r.name)
		}
		close(b.done)
		return b
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.write(b)
	}()
	return b
}

// write finds the zones of a batch's records, writes each zone's records
// with one AppendRecords call (zones in parallel), closes b.done, then
// starts the checks of the records written.
func (s *Solver) write(b *batch) {
	ctx, cancel := context.WithTimeout(s.base, s.opts.WriteTimeout)
	defer cancel()
	byZone := s.group(ctx, b.records)
	var wg sync.WaitGroup
	for z, rs := range byZone {
		wg.Go(func() {
			recs := make([]libdns.Record, len(rs))
			for i, r := range rs {
				recs[i] = libdns.TXT{Name: libdns.RelativeName(r.name, z), TTL: s.opts.TTL, Text: r.value}
			}
			s.logf("adding %d TXT record(s) to zone %s: %s", len(rs), z, names(rs))
			if _, err := s.p.AppendRecords(ctx, z, recs); err != nil {
				err = fmt.Errorf("certmagicsolver: writing TXT records to zone %s failed for %s: %w", z, names(rs), err)
				for _, r := range rs {
					r.writeErr = err
				}
			}
		})
	}
	wg.Wait()
	close(b.done)
	if s.opts.SkipPropagationCheck {
		return
	}
	for _, r := range b.records {
		if r.writeErr != nil {
			continue
		}
		s.startCheck(r)
	}
}

// group sets the zone of each record and returns the records by zone; a
// record whose zone is not found gets its writeErr instead.
func (s *Solver) group(ctx context.Context, rs []*record) map[string][]*record {
	zoneOf := map[string]string{}
	errOf := map[string]error{}
	for _, r := range rs {
		if _, ok := zoneOf[r.name]; ok {
			continue
		}
		if _, ok := errOf[r.name]; ok {
			continue
		}
		z, err := s.zones.Zone(ctx, r.name)
		if err != nil {
			errOf[r.name] = fmt.Errorf("certmagicsolver: finding the zone of %s: %w", r.name, err)
			continue
		}
		zoneOf[r.name] = z
	}
	byZone := map[string][]*record{}
	for _, r := range rs {
		if err := errOf[r.name]; err != nil {
			r.writeErr = err
			continue
		}
		r.zone = zoneOf[r.name]
		byZone[r.zone] = append(byZone[r.zone], r)
	}
	return byZone
}

// startCheck checks r in the background, at most CheckConcurrency at once,
// until it is visible, PropagationTimeout passes, it is cleaned up or the
// solver is closed.
func (s *Solver) startCheck(r *record) {
	s.mu.Lock()
	if r.dropped {
		s.mu.Unlock()
		r.checkErr = fmt.Errorf("certmagicsolver: TXT %s was cleaned up before it was seen in DNS", r.name)
		close(r.checked)
		return
	}
	ctx, cancel := context.WithCancel(s.base)
	r.stop = cancel
	s.mu.Unlock()
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer cancel()
		select {
		case s.sem <- struct{}{}:
			defer func() { <-s.sem }()
			if err := s.check.Wait(ctx, r.zone, r.name, r.value); err != nil {
				r.checkErr = fmt.Errorf("certmagicsolver: propagation check: %w", err)
			}
		case <-ctx.Done():
			r.checkErr = fmt.Errorf("certmagicsolver: propagation check of TXT %s: %w", r.name, context.Cause(ctx))
		}
		close(r.checked)
	}()
}

// flushDeletions writes the queued deletions (the cleanup timer).
func (s *Solver) flushDeletions() {
	s.mu.Lock()
	doomed := s.doomed
	s.doomed = nil
	if len(doomed) == 0 || s.closed {
		s.mu.Unlock()
		return
	}
	s.bg.Add(1)
	s.mu.Unlock()
	defer s.bg.Done()
	if err := s.deleteRecords(doomed); err != nil {
		s.errorf("%v", err)
	}
}

// deleteRecords deletes rs, once their writes have ended, with one
// DeleteRecords call per zone (zones in parallel), and joins the errors.
func (s *Solver) deleteRecords(rs []*record) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.base), s.opts.WriteTimeout)
	defer cancel()
	byZone := map[string][]*record{}
	for _, r := range rs {
		select {
		case <-r.batch.done:
		case <-ctx.Done():
			return fmt.Errorf("certmagicsolver: deleting TXT %s: its write did not end: %w", r.name, ctx.Err())
		}
		if r.zone != "" {
			byZone[r.zone] = append(byZone[r.zone], r)
		}
	}
	errs := make([]error, 0, len(byZone))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for z, rs := range byZone {
		wg.Go(func() {
			recs := make([]libdns.Record, len(rs))
			for i, r := range rs {
				recs[i] = libdns.TXT{Name: libdns.RelativeName(r.name, z), Text: r.value}
			}
			s.logf("deleting %d TXT record(s) from zone %s: %s", len(rs), z, names(rs))
			if _, err := s.p.DeleteRecords(ctx, z, recs); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("certmagicsolver: deleting TXT records from zone %s failed for %s: %w", z, names(rs), err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// names lists the distinct record names of rs, sorted.
func names(rs []*record) string {
	set := map[string]bool{}
	for _, r := range rs {
		set[r.name] = true
	}
	return strings.Join(slices.Sorted(maps.Keys(set)), ", ")
}

func (s *Solver) logf(format string, args ...any) {
	if s.opts.Logger != nil {
		s.opts.Logger.Debug(fmt.Sprintf(format, args...))
	}
}

func (s *Solver) errorf(format string, args ...any) {
	if s.opts.Logger != nil {
		s.opts.Logger.Error(fmt.Sprintf(format, args...))
	}
}

// Interface guards.
var (
	_ acmez.Solver = (*Solver)(nil)
	_ acmez.Waiter = (*Solver)(nil)
)
