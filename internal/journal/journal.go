// Package journal notes every challenge value a hook process presents, so
// that a value whose process died before it finished (killed with -9 in
// the middle of present, say) can be found and removed later: `acme-dns-hook
// sweep` removes the values of such entries, and only those.
//
// An entry is one file in the journal directory (beside the zone locks),
// written before the value is sent to the provider and marked complete once
// present has returned successfully; from then on the ACME client owns the
// value and cleans it up, which removes the entry. Entries hold no secret:
// the name, the value, the process and when.
package journal

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Entry is one value a process presented.
type Entry struct {
	FQDN    string    `json:"fqdn"`
	Value   string    `json:"value"`
	PID     int       `json:"pid"`
	Start   string    `json:"start,omitempty"` // the process's start time as the system tells it, to tell a reused pid
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
	// Complete is set once present returned successfully: the ACME client
	// then owns the value and cleans it up.
	Complete bool `json:"complete"`

	path string
}

// Journal is a directory of entries.
type Journal struct{ dir string }

// Open returns the journal in dir, creating it (mode 0700) if missing.
func Open(dir string) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &Journal{dir: dir}, nil
}

// Begin notes that this process is about to present value at fqdn.
func (j *Journal) Begin(fqdn, value string) (*Entry, error) {
	sum := sha256.Sum256([]byte(fqdn + "\n" + value))
	cmd := filepath.Base(os.Args[0])
	if len(os.Args) > 1 {
		cmd += " " + os.Args[1]
	}
	e := &Entry{FQDN: fqdn, Value: value, PID: os.Getpid(), Start: processStart(os.Getpid()), Command: cmd,
		Since: time.Now().UTC().Truncate(time.Second),
		path:  filepath.Join(j.dir, fmt.Sprintf("%d-%x.json", os.Getpid(), sum[:8]))}
	return e, j.write(e)
}

// Complete marks e as presented: the ACME client now owns the value.
func (j *Journal) Complete(e *Entry) error {
	e.Complete = true
	return j.write(e)
}

// write replaces e's file atomically.
func (j *Journal) write(e *Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	tmp, err := os.CreateTemp(j.dir, ".entry-*")
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("journal: writing %s: %w", e.path, errors.Join(werr, cerr))
	}
	if err := os.Rename(tmp.Name(), e.path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// Entries returns every entry, oldest first; unreadable files are skipped.
func (j *Journal) Entries() ([]*Entry, error) {
	des, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var out []*Entry
	for _, de := range des {
		if !strings.HasSuffix(de.Name(), ".json") || !de.Type().IsRegular() {
			continue
		}
		p := filepath.Join(j.dir, de.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		e := &Entry{path: p}
		if json.Unmarshal(b, e) != nil || e.FQDN == "" || e.Value == "" {
			continue
		}
		out = append(out, e)
	}
	for i := 1; i < len(out); i++ {
		for k := i; k > 0 && out[k].Since.Before(out[k-1].Since); k-- {
			out[k], out[k-1] = out[k-1], out[k]
		}
	}
	return out, nil
}

// Forget removes every entry of value at fqdn, whichever process wrote it:
// the value was cleaned up.
func (j *Journal) Forget(fqdn, value string) error {
	es, err := j.Entries()
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range es {
		if strings.EqualFold(e.FQDN, fqdn) && e.Value == value {
			errs = append(errs, j.Remove(e))
		}
	}
	return errors.Join(errs...)
}

// Remove removes e.
func (j *Journal) Remove(e *Entry) error {
	if err := os.Remove(e.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// Orphaned reports whether e's value has nobody to clean it up: its process
// is gone without having finished present, or, when olderThan > 0, it was
// presented longer than olderThan before now and never cleaned up.
func (e *Entry) Orphaned(now time.Time, olderThan time.Duration) bool {
	if olderThan > 0 && now.Sub(e.Since) > olderThan {
		return true
	}
	return !e.Complete && !e.alive()
}

// alive reports whether the process that wrote e still runs (the same
// process, not another one given its pid).
func (e *Entry) alive() bool {
	if !processExists(e.PID) {
		return false
	}
	if e.Start == "" {
		return true
	}
	s := processStart(e.PID)
	return s == "" || s == e.Start
}

// String describes e for people, the name and value quoted.
func (e *Entry) String() string {
	state := "unfinished"
	if e.Complete {
		state = "presented"
	}
	return fmt.Sprintf("%q %q (%s by pid %s %q at %s)", e.FQDN, e.Value, state, strconv.Itoa(e.PID), e.Command, e.Since.Local().Format(time.DateTime))
}
