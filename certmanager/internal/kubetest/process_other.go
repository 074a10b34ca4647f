//go:build !linux

package kubetest

import "os/exec"

// setDeathSignal does nothing outside Linux: the test's cleanups stop the
// processes, but a test binary that is killed leaves them running.
func setDeathSignal(*exec.Cmd) {}
