package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/bench-ml/bench/internal/spec"
)

// signalContext is cancelled by the first SIGINT or SIGTERM, with a cause
// wrapping context.Canceled: training then stops before its next step and
// leaves its last checkpoint whole. A second signal kills at once. stop
// releases the signal handler when the command is over (tests run many
// commands in one process).
func signalContext() (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-ch:
			signal.Stop(ch) // back to the default action: the next signal kills
			slog.Warn("stopping before the next step (again to kill at once)", "signal", sig)
			cancel(fmt.Errorf("%v: %w", sig, context.Canceled))
		case <-done:
			signal.Stop(ch)
		}
	}()
	return ctx, func() { close(done) }
}

// howToResume adds to the error of an interrupted run the command that
// continues it.
func howToResume(err error, o spec.Options) error {
	if !errors.Is(err, context.Canceled) {
		return err
	}
	if o.Evaluate && o.ResumeTraining == "" {
		return fmt.Errorf("%w; run the same command again to evaluate", err)
	}
	cmd := []string{"bench run", "--root_experiment_folder", o.RootExperimentFolder, "--experiment_name", o.ExperimentName}
	if o.DatasetRoot != "datasets" {
		cmd = append(cmd, "--dataset_root", o.DatasetRoot)
	}
	return fmt.Errorf("%w; continue with: %s --resume_training latest", err, strings.Join(cmd, " "))
}
