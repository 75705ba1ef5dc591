package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The command lines of powerful_benchmarker v0.9.33's docs (docs/index.md,
// docs/cl_syntax.md, docs/syntax.md) and of its MLRC reproduction
// instructions, as the shell splits them, against its config folder
// (testdata/pb_configs). Runs are shrunk by pbSmall; the docs' dataset
// download (`--dataset {CUB200: {download: True}}`) is replaced by it.

// pbLine splits a command line as the shell does (the docs quote nothing).
func pbLine(line string) []string { return strings.Fields(line) }

// TestPBDocCommandLinesResolve: each config-syntax example of the docs
// resolves to what the docs say it does, or, where the docs show a config
// powerful_benchmarker cannot use either, fails in one line saying why.
func TestPBDocCommandLinesResolve(t *testing.T) {
	for _, tc := range []struct {
		line  string
		want  []string // in the resolved config; or, with fails, in the error
		fails bool
	}{
		// cl_syntax.md, Merge.
		{"--optimizers {trunk_optimizer: {RMSprop: {lr: 0.01, alpha: 0.95}}}",
			[]string{"trunk_optimizer:\n    RMSprop:\n      lr: 0.01\n      weight_decay: 0.0001\n      momentum: 0.9\n      alpha: 0.95\n"}, false},
		{"--optimizers {trunk_optimizer: {Adam: {lr: 0.01}}}", // "Now there's a problem with the config file"
			[]string{"optimizers.trunk_optimizer: a component has one type, this has 2 (Adam, RMSprop); to replace a type write trunk_optimizer~OVERRIDE~"}, true},
		// Override.
		{"--save_interval 5", []string{"save_interval: 5\n"}, false},
		{"--optimizers {trunk_optimizer~OVERRIDE~: {Adam: {lr: 0.01}}}",
			[]string{"trunk_optimizer:\n    Adam:\n      lr: 0.01\n", "embedder_optimizer:\n    RMSprop:\n      lr: 1e-06\n"}, false},
		// The docs' config had no embedder_optimizer; powerful_benchmarker's has one, which this deletes.
		{"--optimizers~OVERRIDE~ {trunk_optimizer: {Adam: {lr: 0.01}}}",
			[]string{"optimizers.embedder_optimizer: is required (the embedder is trained)"}, true},
		// Apply, in both of the docs' spellings.
		{"--trainer: {MetricLossOnly: {batch_size: 256}}", []string{"MetricLossOnly:\n    iterations_per_epoch: 100\n    dataloader_num_workers: 2\n    batch_size: 256\n"}, false},
		{"--trainer~APPLY~2: {batch_size: 256}", []string{"MetricLossOnly:\n    iterations_per_epoch: 100\n    dataloader_num_workers: 2\n    batch_size: 256\n"}, false},
		{"--optimizers~APPLY~3 {lr: 0.005}", []string{"trunk_optimizer:\n    RMSprop:\n      lr: 0.005\n", "embedder_optimizer:\n    RMSprop:\n      lr: 0.005\n"}, false},
		// Swap (YourCustomTrainer is a built-in one here; the docs' transforms
		// example is written --trainer~SWAP~2, a typo for transforms).
		{"--trainer~SWAP~1 {TrainWithClassifier: {}}", []string{"TrainWithClassifier:\n    iterations_per_epoch: 100\n    dataloader_num_workers: 2\n    batch_size: 32\n"}, false},
		{"--transforms~SWAP~2 {RandomHorizontalFlip: RandomVerticalFlip}", []string{"RandomVerticalFlip:\n      p: 0.5\n"}, false},
		// Delete (the docs write `embedder~OVERRIDE~ {Identity: {}}`, which is
		// not YAML: the colon is missing).
		{"--models {embedder~OVERRIDE~: {Identity: {}}} --optimizers {embedder_optimizer~DELETE~: {}}", []string{"embedder:\n    Identity: {}\n"}, false},
		{"--models {embedder~OVERRIDE~ {Identity: {}}}", []string{"--models: bad YAML"}, true},
		// syntax.md.
		{"--mining_funcs {tuple_miner: {PairMarginMiner: {pos_margin: 0.5, neg_margin: 0.5}}}",
			[]string{"tuple_miner:\n    PairMarginMiner:\n      pos_margin: 0.5\n      neg_margin: 0.5\n"}, false},
		{"--loss_funcs {metric_loss~OVERRIDE~: {ArcFaceLoss: {margin: 30, scale: 64, embedding_size: 128}}} --optimizers {metric_loss_optimizer: {SGD: {lr: 0.01}}}",
			[]string{"metric_loss:\n    ArcFaceLoss:\n      margin: 30\n      scale: 64\n      embedding_size: 128\n", "metric_loss_optimizer:\n    SGD:\n      lr: 0.01\n"}, false},
		{"--config_general [default, with_cars196]", []string{"save_interval: 5\npatience: 14\n"}, false},
		// MLRC's split manager swapped in, keeping ClassDisjointSplitManager's parameters.
		{"--split_manager~SWAP~1 {MLRCSplitManager: {}}", []string{"split_manager:\n  MLRCSplitManager:\n    test_size: 0.5\n    test_start_idx: 0.5\n    num_training_partitions: 4\n"}, false},
	} {
		t.Run(tc.line, func(t *testing.T) {
			out, err := bench(t, append([]string{"configs", "show", "--root_config_folder", pbConfigs}, pbLine(tc.line)...)...)
			if tc.fails {
				if err == nil || strings.Contains(err.Error(), "\n") {
					t.Fatalf("want one error line, got %v", err)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("resolved config lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestPBDocCommandLinesRun runs the docs' workflow: an experiment, its
// resumes (latest, best, and with a changed config kept in
// resume_training_config_diffs_<epochs>), evaluation of chosen splits and
// of the ensemble, and the MLRC reproduction of a saved experiment with
// MLRCSplitManager swapped in, evaluated on the test set only.
func TestPBDocCommandLinesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	root := t.TempDir()
	run := func(line string, extra ...string) string {
		t.Helper()
		args := slices.Concat([]string{"run", "--root_experiment_folder", root, "--root_config_folder", pbConfigs}, pbLine(line), extra)
		out, err := bench(t, args...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		return out
	}
	exists := func(parts ...string) {
		t.Helper()
		if _, err := os.Stat(filepath.Join(append([]string{root}, parts...)...)); err != nil {
			t.Error(err)
		}
	}
	run("--experiment_name test1", pbSmall...)
	run("--experiment_name test1 --resume_training latest")
	run("--experiment_name test1 --resume_training best")
	run("--experiment_name test1 --resume_training latest --num_epochs_train 3 --merge_argparse_when_resuming")
	diffs, _ := filepath.Glob(filepath.Join(root, "test1", "configs", "resume_training_config_diffs_*", "config_general.yaml"))
	if len(diffs) != 1 {
		t.Fatalf("resume_training_config_diffs_*/config_general.yaml: %v", diffs)
	}
	if b, err := os.ReadFile(diffs[0]); err != nil || !strings.Contains(string(b), "num_epochs_train: 3") {
		t.Errorf("%s: %q, %v; want num_epochs_train: 3", diffs[0], b, err)
	}
	run("--experiment_name test1 --splits_to_eval [train, test] --evaluate")
	exists("test1", "meta_logs", "separated_train.json")
	run("--experiment_name test1 --evaluate_ensemble")
	exists("test1", "meta_logs", "concatenated.json")

	exp := filepath.Join(root, "test1")
	mlrc := "--reproduce_results " + exp + " --experiment_name test2 --merge_argparse_when_resuming --split_manager~SWAP~1 {MLRCSplitManager: {}}"
	run(mlrc)
	if !strings.Contains(readConfig(t, root, "test2", "config_dataset.yaml"), "MLRCSplitManager:") {
		t.Error("the reproduction does not use MLRCSplitManager")
	}
	run(mlrc + " --splits_to_eval [test] --evaluate_ensemble")
	run(mlrc + " --splits_to_eval [test] --evaluate")
	exists("test2", "meta_logs", "separated.json")
}
