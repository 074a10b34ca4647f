package zone

import (
	"context"
	"fmt"
	"sync"

	"github.com/libdns/libdns"
)

// Lazy holds an Engine that is built on first use, for a provider that is
// configured by filling in its fields rather than by a constructor. The zero
// value is ready to use; a Lazy must not be copied after first use. It is
// safe for concurrent use.
type Lazy struct {
	mu sync.Mutex
	e  *Engine
}

// Engine returns the engine, calling build to make it if no call has made
// it yet. Concurrent first callers wait for one build. A build that fails is
// not remembered: its error is returned as is, and the next call builds
// again. Once an engine is built, build is never called again, so a change
// to the configuration it reads has no effect.
func (l *Lazy) Engine(build func() (*Engine, error)) (*Engine, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.e != nil {
		return l.e, nil
	}
	e, err := build()
	if err != nil {
		return nil, err
	}
	l.e = e
	return e, nil
}

// Front is a provider's libdns face over its lazily built engine: each method
// gets the engine from Lazy (making it with Build on first use) and runs the
// engine's method of the same name. An error from Build is returned as is;
// an error from the engine is returned as "Prefix: " followed by the error,
// passed through Explain first when Explain is set. An engine error that is
// atomic stays so: the prefixed error is itself an *AtomicError (wrapping
// the prefixed text), whatever Explain makes of the chain.
//
// A provider keeps a Lazy among its fields and makes a Front for each call,
// so its zero value populated with fields is all the setup it needs.
type Front struct {
	// Lazy holds the provider's engine.
	Lazy *Lazy
	// Build validates the provider's configuration and makes its engine;
	// its errors carry the provider's prefix already.
	Build func() (*Engine, error)
	// Prefix names the provider in errors (its descriptor's Name).
	Prefix string
	// Explain, when set, adds to an engine error what the user can do about
	// it (such as a rejected credential); it returns err itself otherwise.
	Explain func(err error) error
}

// GetRecords runs Engine.GetRecords.
func (f Front) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	e, err := f.Lazy.Engine(f.Build)
	if err != nil {
		return nil, err
	}
	return f.records(e.GetRecords(ctx, zone))
}

// AppendRecords runs Engine.AppendRecords.
func (f Front) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	e, err := f.Lazy.Engine(f.Build)
	if err != nil {
		return nil, err
	}
	return f.records(e.AppendRecords(ctx, zone, recs))
}

// SetRecords runs Engine.SetRecords.
func (f Front) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	e, err := f.Lazy.Engine(f.Build)
	if err != nil {
		return nil, err
	}
	return f.records(e.SetRecords(ctx, zone, recs))
}

// DeleteRecords runs Engine.DeleteRecords.
func (f Front) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	e, err := f.Lazy.Engine(f.Build)
	if err != nil {
		return nil, err
	}
	return f.records(e.DeleteRecords(ctx, zone, recs))
}

// ListZones runs Engine.ListZones.
func (f Front) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	e, err := f.Lazy.Engine(f.Build)
	if err != nil {
		return nil, err
	}
	zs, err := e.ListZones(ctx)
	if err != nil {
		return nil, f.wrap(err)
	}
	return zs, nil
}

// wrap turns an engine error into the provider's, atomic if it was.
func (f Front) wrap(err error) error {
	untouched := IsAtomic(err)
	if f.Explain != nil {
		err = f.Explain(err)
	}
	err = fmt.Errorf("%s: %w", f.Prefix, err)
	if untouched {
		return unchanged(err)
	}
	return err
}

// records returns recs, or nil and the wrapped error when err is set.
func (f Front) records(recs []libdns.Record, err error) ([]libdns.Record, error) {
	if err != nil {
		return nil, f.wrap(err)
	}
	return recs, nil
}

var (
	_ libdns.RecordGetter   = Front{}
	_ libdns.RecordAppender = Front{}
	_ libdns.RecordSetter   = Front{}
	_ libdns.RecordDeleter  = Front{}
	_ libdns.ZoneLister     = Front{}
)
