package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/record"
)

// TestLockedExperiment: while a process holds an experiment's lock, run,
// resume, eval and search of it fail at once with one line naming the
// holder's PID, and write nothing.
func TestLockedExperiment(t *testing.T) {
	root := t.TempDir()
	exp := filepath.Join(root, "s") // the name searchArgs gives
	if err := os.MkdirAll(filepath.Join(exp, "configs"), 0o755); err != nil {
		t.Fatal(err)
	}
	release, err := record.LockExperiment(exp)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	want := "experiment folder " + exp + " is in use by process " + strconv.Itoa(os.Getpid())
	for _, args := range [][]string{
		runArgs(t, root, "--experiment_name", "s"),
		runArgs(t, root, "--experiment_name", "s", "--resume_training", "latest"),
		{"eval", "--root_experiment_folder", root, "--experiment_name", "s"},
		searchArgs(root, "--bayes_opt_iters", "1"),
	} {
		_, err := bench(t, args...)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v; want one line with %q", args[0], err, want)
		}
	}
	if entries, _ := os.ReadDir(exp); len(entries) != 2 {
		t.Errorf("a refused command wrote into the experiment: %v", entries)
	}
}
