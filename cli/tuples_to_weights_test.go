package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTuplesToWeightsSamplerRun trains two epochs drawing batches with
// TuplesToWeightsSampler on a subset of the training set, at smoke size;
// the same seed gives the same losses.
func TestTuplesToWeightsSamplerRun(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	root := t.TempDir()
	var losses [2]string
	for k, name := range []string{"ttw", "ttw_again"} {
		args := runArgs(t, root, "--experiment_name", name, "--config_general", "default", "smoke",
			"--num_epochs_train", "2", "--iterations_per_epoch", "null", "--batch_size", "8",
			"--dataset~OVERRIDE~", "{Glyphs: {images_per_class: 6, image_size: 24, charset: abcdefghijklmnop}}",
			"--split_manager~OVERRIDE~", "{ClassDisjointSplitManager: {num_training_partitions: 2, num_training_sets: 1}}",
			"--sampler~OVERRIDE~", "{TuplesToWeightsSampler: {miner: {TripletMarginMiner: {margin: 0.2, type_of_triplets: semihard}}, subset_size: 16}}")
		if out, err := bench(t, args...); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		b, err := os.ReadFile(filepath.Join(root, name, "Test50_50_Partitions2_0", "records", "losses.csv"))
		if err != nil {
			t.Fatal(err)
		}
		losses[k] = string(b)
	}
	// A pass is subset_size items: 2 batches of 8 per epoch.
	if rows := strings.Count(strings.TrimSpace(losses[0]), "\n"); rows != 4 {
		t.Errorf("%d iterations, want 2 epochs of 2:\n%s", rows, losses[0])
	}
	if losses[0] != losses[1] {
		t.Errorf("one seed, two runs, other losses:\n%s\n%s", losses[0], losses[1])
	}
}
