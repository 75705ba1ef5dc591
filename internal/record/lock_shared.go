//go:build unix

package record

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// LockShared takes a shared OS lock (flock) on the file path, creating it:
// any number of processes may hold it together, none while one holds the
// exclusive lock of Lock. The jobs of one experiment's folds share its
// lock, so that they run together but never beside a run of the whole
// experiment. Like Lock it does not wait, and the kernel releases it when
// the process ends.
func LockShared(path, what string) (release func() error, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", what, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("locking %s: %w", what, err)
		}
		return nil, fmt.Errorf("%s is in use by %s (lock %s); wait for it to finish or stop it", what, holder(path), path)
	}
	return f.Close, nil
}
