//go:build !unix

package filelock

import (
	"errors"
	"os"
)

const unixLike = false

// tryLock fails on systems without flock: refusing is safer than pretending
// the zone is protected.
func tryLock(*os.File) (bool, error) {
	return false, errors.New("file locks are not supported on this system; set ACME_HOOK_LOCK_DIR=off to run without cross-process locking")
}

func unlockFile(*os.File) {}

func openLockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
}

func checkPrivateDir(dir string, uid int) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errors.New("it is not a directory")
	}
	return nil
}
