//go:build unix

package journal

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// processExists reports whether a process with pid exists (also one of
// another user).
func processExists(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// processStart returns the start time of process pid as Linux's
// /proc/<pid>/stat gives it (clock ticks since boot), or "" where there is
// no such file.
func processStart(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command in parentheses may hold spaces: count fields after it.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 20 {
		return ""
	}
	return f[19] // field 22 of the whole line
}
