package zone

import (
	"errors"

	"github.com/libdns/libdns"
)

// AtomicError is the error of an AppendRecords, SetRecords or DeleteRecords
// call that failed without changing the zone, so the caller may simply try
// again. Its text is its cause's, and errors.Is and errors.As see through it
// to the cause (an *api.Error, a context error, …).
//
// The engine returns it as a libdns.AtomicErr, as libdns asks of a method
// that errors atomically. libdns.AtomicErr is an interface type that every
// error satisfies, though, so errors.As with a *libdns.AtomicErr target
// succeeds for any error and cannot tell an atomic failure from another;
// IsAtomic (errors.As with a **AtomicError target) can.
//
// Which failures are atomic is set out in the package documentation.
type AtomicError struct {
	Err error // the cause; never nil
}

func (e *AtomicError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *AtomicError) Unwrap() error { return e.Err }

// IsAtomic reports whether err, or an error it wraps, is an *AtomicError:
// the call that returned it changed nothing.
func IsAtomic(err error) bool {
	var a *AtomicError
	return errors.As(err, &a)
}

// Refusal is implemented by backend errors that can tell whether the
// provider refused a request without acting on it; *api.Error does. A
// backend's Write, Create or Delete error counts as a refusal, and the
// operation as atomic, only when an error in its chain implements Refusal
// and Refused returns true; any other error may have come after the provider
// received the change.
type Refusal interface {
	error
	// Refused reports whether the provider certainly did not act on the
	// request.
	Refused() bool
}

// refused reports whether err, from a backend call that would have changed
// the zone, says the provider refused that call.
func refused(err error) bool {
	var r Refusal
	return errors.As(err, &r) && r.Refused()
}

// unchanged marks err as the error of an operation that changed nothing.
func unchanged(err error) error {
	return libdns.AtomicErr(&AtomicError{Err: err})
}
