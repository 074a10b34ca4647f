// Package filelock serialises work between processes with advisory file
// locks (flock on Unix), so that two hook processes started at once — certbot
// and a cron job, or lego running hooks in parallel — never interleave their
// read-modify-write of one zone.
package filelock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultDir is where locks live when none is configured: the user's runtime
// directory ($XDG_RUNTIME_DIR), else the user's cache directory, else the
// system temp directory, each with "acme-dns-hook/locks" appended.
func DefaultDir() string {
	base := os.Getenv("XDG_RUNTIME_DIR")
	if base == "" {
		if d, err := os.UserCacheDir(); err == nil {
			base = d
		} else {
			base = os.TempDir()
		}
	}
	return filepath.Join(base, "acme-dns-hook", "locks")
}

// Lock takes an exclusive lock on key (any string) in dir, waiting until it is
// free or ctx ends. The lock is released by calling unlock, or by the
// operating system when the process exits, so a crashed holder never blocks
// others.
func Lock(ctx context.Context, dir, key string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating lock directory: %w", err)
	}
	path := filepath.Join(dir, fileName(key))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if ok {
			return func() { unlockFile(f); f.Close() }, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
		case <-time.After(wait):
		}
	}
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
