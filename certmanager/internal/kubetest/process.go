package kubetest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// process is one control-plane binary running for a test, its output in a
// log file.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done is closed
}

// startProcess starts bin with args, output to logPath. The process is
// killed when the test binary dies (see setDeathSignal), and by stop.
func startProcess(name, bin, logPath string, args ...string) (*process, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("starting %s: creating its log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop kills the process and waits for it. The control plane keeps nothing
// worth a graceful shutdown: its data is in the test's temporary directory.
func (p *process) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// portInUse reports whether the process failed because a port was taken
// (another test took it between our probe and the process's bind).
func (p *process) portInUse() bool {
	b, _ := os.ReadFile(p.log)
	return bytes.Contains(b, []byte("address already in use"))
}

// tail returns the last n lines of the process's log.
func (p *process) tail(n int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", p.log, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// exitError describes a process that ended before it was ready.
func (p *process) exitError() error {
	return fmt.Errorf("%s exited before it was ready (%v); last lines of %s:\n%s", p.name, p.err, p.log, p.tail(30))
}

// pollUntil calls ready every interval until it returns true, the process
// exits, or timeout passes. It polls the state of another process, which
// offers no event to wait for; nothing here sleeps for a fixed time.
func pollUntil(p *process, timeout, interval time.Duration, what string, ready func() (bool, string)) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	last := ""
	for {
		ok, detail := ready()
		if ok {
			return nil
		}
		if detail != "" {
			last = detail
		}
		select {
		case <-p.done:
			return p.exitError()
		case <-deadline.C:
			return fmt.Errorf("%s: not %s after %v (last: %s); last lines of %s:\n%s", p.name, what, timeout, last, p.log, p.tail(30))
		case <-tick.C:
		}
	}
}

// logTailsOnFailure registers a cleanup that, when the test failed, logs the
// end of each process's log, so a failure shows what the control plane said.
func logTailsOnFailure(t testing.TB, ps ...*process) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, p := range ps {
			if p != nil {
				t.Logf("kubetest: last lines of %s (%s):\n%s", p.name, p.log, p.tail(20))
			}
		}
	})
}
