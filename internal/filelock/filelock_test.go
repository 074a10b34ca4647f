package filelock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLockExcludes(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(context.Background(), dir, "mijnhost https://mijn.host/api/v2/|example.com.")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Lock(ctx, dir, "mijnhost https://mijn.host/api/v2/|example.com."); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock: err = %v, want it to wait until the deadline", err)
	}
	other, err := Lock(context.Background(), dir, "mijnhost https://mijn.host/api/v2/|example.net.")
	if err != nil {
		t.Fatalf("a different key must not wait: %v", err)
	}
	other()
	unlock()
	again, err := Lock(context.Background(), dir, "mijnhost https://mijn.host/api/v2/|example.com.")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	again()
}

// TestLockAcrossProcesses runs this test binary as helper processes that each
// increment a counter file under the lock; without mutual exclusion updates
// are lost.
func TestLockAcrossProcesses(t *testing.T) {
	if dir := os.Getenv("FILELOCK_HELPER_DIR"); dir != "" {
		for range 20 {
			unlock, err := Lock(context.Background(), dir, "counter")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(dir + "/count")
			time.Sleep(time.Millisecond)
			os.WriteFile(dir+"/count", append(b, 'x'), 0o600)
			unlock()
		}
		return
	}
	dir := t.TempDir()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestLockAcrossProcesses$")
			cmd.Env = append(os.Environ(), "FILELOCK_HELPER_DIR="+dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("helper: %v\n%s", err, out)
			}
		})
	}
	wg.Wait()
	b, _ := os.ReadFile(dir + "/count")
	if len(b) != 80 {
		t.Fatalf("counter is %d, want 80: updates were lost", len(b))
	}
}

func TestFileName(t *testing.T) {
	a, b := fileName("x|Example.COM."), fileName("x|example.com.")
	if a == b || !strings.HasSuffix(a, ".lock") || strings.ContainsAny(a, "/|") {
		t.Fatalf("fileName: %q %q", a, b)
	}
}
