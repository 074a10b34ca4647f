package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/filelock"
	"github.com/acme-dns-hook/acme-dns-hook/internal/journal"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/solver"
)

// openJournal returns the record journal beside the zone locks, or nil when
// ACME_HOOK_LOCK_DIR is off.
func openJournal(env settings.Env) (*journal.Journal, error) {
	dir, err := env.Get("ACME_HOOK_LOCK_DIR")
	if err != nil {
		return nil, err
	}
	switch dir {
	case "off":
		return nil, nil
	case "":
		dir = filelock.DefaultDir()
	}
	return journal.Open(filepath.Join(dir, "journal"))
}

// present notes each challenge in the journal before it is written and
// marks it presented once present succeeded, so that `sweep` can remove a
// value whose process died in between.
func present(ctx context.Context, s *solver.Solver, env settings.Env, chs []solver.Challenge) error {
	j, err := openJournal(env)
	if err != nil {
		return err
	}
	var entries []*journal.Entry
	if j != nil {
		for _, c := range chs {
			e, err := j.Begin(c.FQDN, c.Value)
			if err != nil {
				return err
			}
			entries = append(entries, e)
		}
	}
	if err := s.Present(ctx, chs...); err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, j.Complete(e))
	}
	return errors.Join(errs...)
}

// cleanup removes the challenges and, once they are gone, their entries.
func cleanup(ctx context.Context, s *solver.Solver, env settings.Env, chs []solver.Challenge) error {
	if err := s.Cleanup(ctx, chs...); err != nil {
		return err
	}
	j, err := openJournal(env)
	if err != nil || j == nil {
		return err
	}
	var errs []error
	for _, c := range chs {
		errs = append(errs, j.Forget(c.FQDN, c.Value))
	}
	return errors.Join(errs...)
}

// sweep removes the values of orphaned journal entries: those whose
// process died before present finished, and, with --older-than, those
// presented longer ago and never cleaned up. It never touches a value the
// journal does not know.
func sweep(ctx context.Context, s *solver.Solver, env settings.Env, args []string, stdout io.Writer) error {
	var olderThan time.Duration
	dry := false
	for len(args) > 0 {
		switch a := args[0]; {
		case a == "--dry-run":
			dry, args = true, args[1:]
		case a == "--older-than" && len(args) > 1 || strings.HasPrefix(a, "--older-than="):
			v := strings.TrimPrefix(a, "--older-than=")
			if a == "--older-than" {
				v, args = args[1], args[1:]
			}
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return usageErr("sweep: --older-than %q is not a positive duration such as 24h", v)
			}
			olderThan, args = d, args[1:]
		default:
			return usageErr("sweep: unknown argument %q (use --older-than DURATION, --dry-run)", a)
		}
	}
	j, err := openJournal(env)
	if err != nil {
		return err
	}
	if j == nil {
		return failure{2, errors.New("sweep needs the journal, which is kept beside the zone locks: ACME_HOOK_LOCK_DIR is off")}
	}
	entries, err := j.Entries()
	if err != nil {
		return err
	}
	now := time.Now()
	var errs []error
	for _, e := range entries {
		if !e.Orphaned(now, olderThan) {
			continue
		}
		if dry {
			fmt.Fprintf(stdout, "would remove %s\n", e)
			continue
		}
		c := solver.Challenge{FQDN: e.FQDN, Value: e.Value}
		if err := checkChallenge(&c); err != nil {
			errs = append(errs, fmt.Errorf("journal entry %s: %w", e, err))
			continue
		}
		if err := s.Cleanup(ctx, c); err != nil {
			errs = append(errs, fmt.Errorf("removing %s: %w", e, err))
			continue
		}
		fmt.Fprintf(stdout, "removed %s\n", e)
		errs = append(errs, j.Forget(e.FQDN, e.Value))
	}
	return errors.Join(errs...)
}
