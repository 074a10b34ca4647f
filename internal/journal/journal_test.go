package journal

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestEntriesLifecycle(t *testing.T) {
	j, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e, err := j.Begin("_acme-challenge.example.test.", "value-1")
	if err != nil {
		t.Fatal(err)
	}
	if es, _ := j.Entries(); len(es) != 1 || es[0].PID != os.Getpid() || es[0].Complete {
		t.Fatalf("entries %+v", es)
	}
	now := time.Now()
	if e.Orphaned(now, 0) {
		t.Error("an unfinished entry of this live process counts as orphaned")
	}
	if err := j.Complete(e); err != nil {
		t.Fatal(err)
	}
	if es, _ := j.Entries(); len(es) != 1 || !es[0].Complete {
		t.Fatalf("after Complete: %+v", es)
	}
	if e.Orphaned(now, 0) || !e.Orphaned(now.Add(2*time.Hour), time.Hour) {
		t.Error("a complete entry is orphaned only when older than --older-than")
	}
	if err := j.Forget("_ACME-challenge.example.test.", "value-1"); err != nil {
		t.Fatal(err)
	}
	if es, _ := j.Entries(); len(es) != 0 {
		t.Fatalf("after Forget: %+v", es)
	}
}

// TestDeadProcessOrphaned: the entry of a process that has exited without
// finishing present is orphaned; so is one whose pid now belongs to
// another process (a different start time).
func TestDeadProcessOrphaned(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true command:", err)
	}
	dead := &Entry{FQDN: "a.", Value: "v", PID: cmd.Process.Pid}
	if dead.alive() || !dead.Orphaned(time.Now(), 0) {
		t.Errorf("the entry of exited pid %d is not orphaned", dead.PID)
	}
	if processStart(os.Getpid()) != "" {
		reused := &Entry{FQDN: "a.", Value: "v", PID: os.Getpid(), Start: "1"}
		if reused.alive() {
			t.Error("a pid with another start time counts as the same process")
		}
	}
}
