// Package launch runs the jobs of an experiment (its folds, or a search's
// trials) outside the launching process: as child processes of the same
// binary on this machine, or as Slurm jobs. The experiment folder is the
// only state the jobs share; jobs.json in it (expfolder.Jobs) records which
// job runs what, so that a later launcher or bench status can find them.
package launch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
)

// Job is one run of this binary.
type Job struct {
	Name string   // what it runs, for messages: a split scheme or a trial
	Args []string // the binary's arguments
	Log  string   // file receiving its standard output and error, appended to
}

// Executable is this binary, which every job runs.
func Executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding this program to launch its jobs: %w", err)
	}
	return exe, nil
}

// Local runs a job as a child process and waits for it. started, when not
// nil, is called with the child's process id once it runs. The child gets
// SIGTERM when the launcher dies, so that a killed launcher leaves no job
// behind that a restarted one would duplicate.
func Local(ctx context.Context, j Job, started func(pid int)) error {
	exe, err := Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(j.Log), 0o755); err != nil {
		return err
	}
	log, err := os.OpenFile(j.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	// Cancelled (SIGINT, SIGTERM), the launcher passes SIGTERM on: the job
	// stops at a step boundary and a later launch continues it.
	cmd := exec.CommandContext(ctx, exe, j.Args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	// Pdeathsig fires when the thread that started the child exits: keep
	// this goroutine on its thread until the child is done.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", j.Name, err)
	}
	if started != nil {
		started(cmd.Process.Pid)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("%s failed (%v); its log is %s", j.Name, err, j.Log)
	}
	return nil
}

// LocalAll runs the jobs as child processes, at most n at once, and waits
// for them all. It returns the errors of those that failed, joined.
func LocalAll(ctx context.Context, jobs []Job, n int, started func(j Job, pid int)) error {
	n = max(n, 1)
	sem := make(chan struct{}, n)
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = Local(ctx, j, func(pid int) {
				if started != nil {
					started(j, pid)
				}
			})
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
