package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// smokeRoot holds experiments that several tests read and none changes:
// real smoke runs made once per test binary; TestMain removes it.
var smokeRoot string

// smokeMethods and smokeDatasets are the grid of shared experiments: two
// methods (loss + miner) on two datasets, named <method>_<dataset>.
var (
	smokeMethods = map[string][]string{
		"contrastive": {"--config_loss_and_miners", "default"},
		"triplet":     {"--config_loss_and_miners", "default", "triplet_batch_hard"},
	}
	smokeDatasets = map[string][]string{
		"glyphs": nil,
		"omniglot": {"--config_dataset", "default", "omniglot", "--config_transforms", "default", "omniglot",
			"--dataset~OVERRIDE~", "{Omniglot: {}}"},
	}
	smokeOnce sync.Once
	smokeErr  error
)

// smokeExperiments runs the grid once, smoke-sized (2 folds, 2 epochs of 8
// iterations, test embeddings saved), every run also writing into
// smokeRoot/global.db, and returns the experiments' root folder.
func smokeExperiments(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	smokeOnce.Do(func() {
		if smokeRoot, smokeErr = os.MkdirTemp("", "bench-smoke-"); smokeErr != nil {
			return
		}
		for method, margs := range smokeMethods {
			for dataset, dargs := range smokeDatasets {
				args := runArgs(t, smokeRoot, "--experiment_name", method+"_"+dataset, "--config_general", "default", "smoke",
					"--dataset_root", "../datasets", "--global_db_path", filepath.Join(smokeRoot, "global.db"))
				args = append(append(args, margs...), dargs...)
				args = append(args, "--num_epochs_train", "2", "--iterations_per_epoch", "8", "--save_embeddings", "true")
				if out, err := bench(t, args...); err != nil {
					smokeErr = fmt.Errorf("%s_%s: %v\n%s", method, dataset, err, out)
					return
				}
			}
		}
	})
	if smokeErr != nil {
		t.Fatal(smokeErr)
	}
	return smokeRoot
}
