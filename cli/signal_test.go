package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInterruptedRun: a run whose context is cancelled (as SIGINT does)
// stops with an error wrapping context.Canceled, on one line saying how to
// resume, and the resume finishes the experiment.
func TestInterruptedRun(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	root := t.TempDir()
	err := runCancelled(t, "interrupt", runArgs(t, root, "--experiment_name", "x", "--config_general", "default", "smoke",
		"--num_epochs_train", "1", "--check_untrained_accuracy", "false"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v; want context.Canceled", err)
	}
	msg := err.Error()
	for _, want := range []string{"stopped in epoch 1 before iteration 1", "no checkpoint yet", "interrupt",
		"continue with: bench run --root_experiment_folder " + root + " --experiment_name x --resume_training latest"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("want one line, got %q", msg)
	}
	if out, err := bench(t, "run", "--root_experiment_folder", root, "--experiment_name", "x", "--resume_training", "latest"); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(root, "x", "meta_logs", "separated.json")); err != nil {
		t.Errorf("the resumed run did not finish: %v", err)
	}
}

// TestInterruptedFeatureCache: a run stopped while it computes a frozen
// trunk's outputs (SIGTERM of a preempted Slurm job, say) stops between
// chunks with one line, before writing the cache or the experiment.
func TestInterruptedFeatureCache(t *testing.T) {
	root := t.TempDir()
	err := runCancelled(t, "terminated", runArgs(t, root, "--experiment_name", "x", "--config_general", "default", "smoke", "--freeze_trunk", "true"))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped computing the trunk outputs of the feature cache after 0 of 1128 images, nothing written") ||
		strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v; want one line saying where it stopped", err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("a stopped cache fill left %v in %s", entries, root)
	}
}

// runCancelled runs bench in this process with a context cancelled from
// the start, as by a signal (cause: "interrupt", "terminated"), and
// returns its error.
func runCancelled(t *testing.T, cause string, args []string) error {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(fmt.Errorf("%s: %w", cause, context.Canceled))
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	return cmd.ExecuteContext(ctx)
}
