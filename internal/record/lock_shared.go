//go:build unix

package record

import "syscall"

// LockShared takes a shared OS lock (flock) on the file path, creating it:
// any number of processes may hold it together, none while one holds the
// exclusive lock of Lock. The jobs of one experiment's folds share its
// lock, so that they run together but never beside a run of the whole
// experiment. Like Lock it does not wait, and the kernel releases it when
// the process ends.
func LockShared(path, what string) (release func() error, err error) {
	f, err := flock(path, what, syscall.LOCK_SH)
	if err != nil {
		return nil, err
	}
	return f.Close, nil
}
