//go:build !unix

package filelock

import (
	"errors"
	"os"
)

// tryLock fails on systems without flock: refusing is safer than pretending
// the zone is protected.
func tryLock(*os.File) (bool, error) {
	return false, errors.New("file locks are not supported on this system; set ACME_HOOK_LOCK_DIR=off to run without cross-process locking")
}

func unlockFile(*os.File) {}
