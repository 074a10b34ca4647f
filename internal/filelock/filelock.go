// Package filelock serialises work between processes with advisory file
// locks (flock on Unix), so that two hook processes started at once — certbot
// and a cron job, or lego running hooks in parallel — never interleave their
// read-modify-write of one zone.
//
// Two processes meet only if they compute the same lock file: the same
// directory and the same key. [DefaultDir] is therefore a fixed path per
// user that depends on nothing in the environment, and callers build keys
// from normalised identities (see api.Endpoint).
package filelock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrTimeout is returned (wrapped) by [LockWith] when the lock is still held
// by another process once Options.Timeout has passed.
var ErrTimeout = errors.New("timed out waiting for the lock")

// DefaultDir is where locks live when none is configured: on Unix
// /tmp/acme-dns-hook-<uid>, the same for every process of a user whatever
// its environment (XDG_RUNTIME_DIR, HOME and TMPDIR are not consulted:
// certbot run from a login shell and the same renewal from cron must take
// the same locks). Elsewhere it is under os.TempDir(). Processes of
// different users do not share it; give them a common ACME_HOOK_LOCK_DIR.
func DefaultDir() string {
	base := "/tmp"
	if !unixLike {
		base = os.TempDir()
	}
	return filepath.Join(base, "acme-dns-hook-"+strconv.Itoa(os.Getuid()))
}

// Holder describes the process holding a lock, as it wrote it into the lock
// file when it took the lock.
type Holder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

func (h Holder) String() string {
	if h.PID == 0 {
		return "another process"
	}
	return fmt.Sprintf("pid %d (%q) since %s", h.PID, h.Command, h.Since.Local().Format(time.DateTime))
}

// Options tune [LockWith]; the zero value waits as long as the context lets.
type Options struct {
	// Timeout bounds the wait for a lock another process holds; zero or
	// negative means no bound beyond the context's.
	Timeout time.Duration
	// Waiting, when set, is called once if the lock is held by another
	// process when first tried, with what that process wrote about itself.
	Waiting func(Holder)
}

// Lock takes an exclusive lock on key (any string) in dir, waiting until it
// is free or ctx ends. It is LockWith with the zero Options.
func Lock(ctx context.Context, dir, key string) (unlock func(), err error) {
	return LockWith(ctx, dir, key, Options{})
}

// LockWith takes an exclusive lock on key (any string) in dir, waiting
// until it is free, ctx ends or opts.Timeout passes. The lock is released
// by calling unlock, or by the operating system when the process exits, so
// a crashed holder never blocks others; a hung one blocks them until the
// timeout, whose error names it.
//
// The directory is created with mode 0700 if missing. The default
// directory (DefaultDir) must be a real directory owned by this user and
// closed to others, and no lock file is followed if it is a symbolic link,
// so another local user cannot redirect or hold the locks.
func LockWith(ctx context.Context, dir, key string, opts Options) (unlock func(), err error) {
	if err := prepareDir(dir, dir == DefaultDir()); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, fileName(key))
	f, err := openLockFile(path)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	var deadline <-chan time.Time
	if opts.Timeout > 0 {
		t := time.NewTimer(opts.Timeout)
		defer t.Stop()
		deadline = t.C
	}
	for wait, first := time.Millisecond, true; ; wait, first = min(2*wait, 50*time.Millisecond), false {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if ok {
			writeHolder(f)
			return func() { f.Truncate(0); unlockFile(f); f.Close() }, nil
		}
		if first && opts.Waiting != nil {
			opts.Waiting(readHolder(f))
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
		case <-deadline:
			h := readHolder(f)
			f.Close()
			return nil, fmt.Errorf("lock %s is still held by %s after %s (raise ACME_HOOK_LOCK_TIMEOUT, or stop that process if it hangs): %w",
				path, h, opts.Timeout, ErrTimeout)
		case <-time.After(wait):
		}
	}
}

// Prepare creates the lock directory dir if it is missing and checks it as
// LockWith would, so that a caller can report an unusable directory as a
// configuration error before it changes anything.
func Prepare(dir string) error {
	if err := prepareDir(dir, dir == DefaultDir()); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("lock directory %s is not writable: %w", dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// CheckPrivate reports why dir is not a directory of this user's that no
// other user may read or write (on Unix: owned by this user, mode 0700 or
// stricter, not a symbolic link), or nil when it is one.
func CheckPrivate(dir string) error { return checkPrivateDir(dir, os.Getuid()) }

// prepareDir creates dir if missing; strict applies the checks for a
// directory in a place every local user can write to (/tmp).
func prepareDir(dir string, strict bool) error {
	if !strict {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("creating lock directory: %w", err)
		}
		return nil
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("creating lock directory: %w", err)
	}
	if err := checkPrivateDir(dir, os.Getuid()); err != nil {
		return fmt.Errorf("lock directory %s is unsafe: %w; remove it or set ACME_HOOK_LOCK_DIR", dir, err)
	}
	return nil
}

// writeHolder records this process in the lock file it holds.
func writeHolder(f *os.File) {
	cmd := filepath.Base(os.Args[0])
	if len(os.Args) > 1 {
		cmd += " " + os.Args[1] // the subcommand; further arguments are not needed to tell who it is
	}
	b, _ := json.Marshal(Holder{PID: os.Getpid(), Command: cmd, Since: time.Now().Truncate(time.Second)})
	if f.Truncate(0) == nil {
		f.WriteAt(b, 0)
	}
}

// readHolder reads what the holder of f's lock wrote about itself; the
// zero Holder when it wrote nothing readable.
func readHolder(f *os.File) Holder {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 4096))
	var h Holder
	if err != nil || json.Unmarshal(b, &h) != nil {
		return Holder{}
	}
	if len(h.Command) > 100 {
		h.Command = h.Command[:100]
	}
	return h
}

// fileName keeps a readable part of key and a hash that makes it unique.
func fileName(key string) string {
	sum := sha256.Sum256([]byte(key))
	readable := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, strings.ToLower(key))
	if len(readable) > 60 {
		readable = readable[len(readable)-60:]
	}
	return readable + "-" + hex.EncodeToString(sum[:6]) + ".lock"
}
