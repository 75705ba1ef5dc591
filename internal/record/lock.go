//go:build unix

package record

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// LockFile is the name of the lock file in an experiment folder. It stays
// after its process ends: removing it would let a second process lock a new
// file while a third still holds the old one.
const LockFile = ".lock"

// LockExperiment takes the lock of the experiment folder dir for the rest of
// the process's work on it; see Lock.
func LockExperiment(dir string) (release func() error, err error) {
	return Lock(filepath.Join(dir, LockFile), "experiment folder "+dir)
}

// Lock takes an exclusive OS lock (flock) on the file path, creating it,
// and writes this process's PID into it. It does not wait: when another
// process holds the lock, the error names what (the words of the message)
// and the holder's PID. The kernel releases the lock when the process ends,
// however it ends, so a killed run never leaves a folder locked.
// Different paths lock independently: a folder could be shared by processes
// that each lock a part of it.
func Lock(path, what string) (release func() error, err error) {
	f, err := flock(path, what, syscall.LOCK_EX)
	if err != nil {
		return nil, err
	}
	// The PID is for messages only; the flock is the lock. One write of a
	// fixed width replaces an earlier holder's PID whole.
	f.WriteAt(fmt.Appendf(nil, "%-20d\n", os.Getpid()), 0)
	return f.Close, nil // closing the file releases the lock
}

// flock opens path, creating it, and locks it (how: LOCK_EX or LOCK_SH)
// without waiting.
func flock(path, what string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", what, err)
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("locking %s: %w", what, err)
		}
		return nil, fmt.Errorf("%s is in use by %s (lock %s); wait for it to finish or stop it", what, holder(path), path)
	}
	return f, nil
}

// holder describes the process holding the lock file path. Right after
// taking the lock the holder has not written its PID yet: the file is empty
// or holds the PID of an earlier holder, now gone. Then it waits a little.
func holder(path string) string {
	for range 50 {
		data, err := os.ReadFile(path)
		pid, perr := strconv.Atoi(strings.TrimSpace(string(data)))
		if err == nil && perr == nil && pid > 0 && syscall.Kill(pid, 0) != syscall.ESRCH {
			return "process " + strconv.Itoa(pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return "another process"
}
