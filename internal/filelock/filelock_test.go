package filelock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// TestDefaultDirIgnoresEnvironment computes DefaultDir in processes with
// the environments certbot from a login shell, a cron job and a systemd
// unit have: they must all name the same directory, or they would not see
// each other's locks.
func TestDefaultDirIgnoresEnvironment(t *testing.T) {
	if os.Getenv("FILELOCK_PRINT_DEFAULT") != "" {
		fmt.Println(DefaultDir())
		return
	}
	envs := [][]string{
		{"XDG_RUNTIME_DIR=/run/user/1000", "HOME=/home/someone", "TMPDIR=/tmp/user/1000"},
		{"HOME=/root"},
		{"HOME=/nonexistent", "TMPDIR=/var/tmp", "XDG_CACHE_HOME=/elsewhere"},
		{},
	}
	var dirs []string
	for _, env := range envs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDefaultDirIgnoresEnvironment$")
		cmd.Env = append([]string{"FILELOCK_PRINT_DEFAULT=1", "PATH=" + os.Getenv("PATH")}, env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("helper with %q: %v", env, err)
		}
		first, _, _ := strings.Cut(string(out), "\n")
		dirs = append(dirs, first)
	}
	for _, d := range dirs[1:] {
		if d != dirs[0] {
			t.Fatalf("DefaultDir differs with the environment: %q", dirs)
		}
	}
	if !strings.Contains(dirs[0], strconv.Itoa(os.Getuid())) {
		t.Errorf("DefaultDir %q is not per user", dirs[0])
	}
}

func TestPrivateDirChecks(t *testing.T) {
	base := t.TempDir()
	good := filepath.Join(base, "good")
	os.Mkdir(good, 0o700)
	open := filepath.Join(base, "open")
	os.Mkdir(open, 0o700)
	os.Chmod(open, 0o777)
	link := filepath.Join(base, "link")
	os.Symlink(good, link)
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o600)
	uid := os.Getuid()
	tests := []struct {
		dir  string
		uid  int
		want string
	}{
		{good, uid, ""},
		{good, uid + 1, "owned by uid"},
		{open, uid, "other users may use it"},
		{link, uid, "symbolic link"},
		{file, uid, "not a directory"},
	}
	for _, tt := range tests {
		err := checkPrivateDir(tt.dir, tt.uid)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("checkPrivateDir(%s, uid %d) = %v, want %q", filepath.Base(tt.dir), tt.uid, err, tt.want)
		}
	}
}

// TestLockFileSymlinkRefused plants a symbolic link where a lock file will
// be: Lock must refuse it, not create or truncate its target.
func TestLockFileSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "precious")
	os.WriteFile(target, []byte("keep me"), 0o600)
	os.Symlink(target, filepath.Join(dir, fileName("k|example.com.")))
	if _, err := Lock(context.Background(), dir, "k|example.com."); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Lock through a planted symlink: err = %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Errorf("the link's target was changed: %q", b)
	}
}

// TestLockTimeoutNamesHolder holds a lock and asks for it again with a
// bound: the wait ends with ErrTimeout naming the holder, after the Waiting
// callback was told who holds it.
func TestLockTimeoutNamesHolder(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(context.Background(), dir, "k|example.com.")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	var told []Holder
	_, err = LockWith(context.Background(), dir, "k|example.com.", Options{Timeout: time.Millisecond, Waiting: func(h Holder) { told = append(told, h) }})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	pid := "pid " + strconv.Itoa(os.Getpid())
	if !strings.Contains(err.Error(), pid) || !strings.Contains(err.Error(), filepath.Base(os.Args[0])) || !strings.Contains(err.Error(), "ACME_HOOK_LOCK_TIMEOUT") {
		t.Errorf("error does not name the holder and the setting: %v", err)
	}
	if len(told) != 1 || told[0].PID != os.Getpid() || told[0].Since.IsZero() {
		t.Errorf("Waiting was told %+v, want this process once", told)
	}
	unlock()
	again, err := LockWith(context.Background(), dir, "k|example.com.", Options{Timeout: time.Millisecond})
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	again()
}
