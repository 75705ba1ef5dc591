package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pbSmallWith is pbSmall with other transforms and more overrides.
func pbSmallWith(transforms string, extra ...string) []string {
	args := slices.Clone(pbSmall)
	i := slices.Index(args, "--transforms~OVERRIDE~")
	args[i+1] = transforms
	return append(args, extra...)
}

// pbRun runs powerful_benchmarker's config folder at smoke size with the
// given profiles and overrides, and returns the experiment's folder.
func pbRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	root := t.TempDir()
	args = append([]string{"run", "--root_experiment_folder", root, "--root_config_folder", pbConfigs, "--experiment_name", name}, args...)
	out, err := bench(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "test mean_average_precision_at_r: separated") {
		t.Errorf("no test result:\n%s", out)
	}
	return filepath.Join(root, name)
}

// TestPBUnsupervisedEmbeddingsUsingAugmentations runs powerful_benchmarker's
// with_unsupervised profile with its unsupervised transforms, shrunk: the
// batches are batch_size images times the augmentation<N> views.
func TestPBUnsupervisedEmbeddingsUsingAugmentations(t *testing.T) {
	views := "{eval: {Resize: {size: 24}}, " +
		"augmentation1: {RandomResizedCrop: {scale: 0.16 1, ratio: 0.75 1.33, size: 24}, RandomHorizontalFlip: {p: 0.5}}, " +
		"augmentation2: {RandomResizedCrop: {scale: 0.16 1, ratio: 0.75 1.33, size: 24}, RandomHorizontalFlip: {p: 0.5}}, " +
		"augmentation3: {RandomResizedCrop: {scale: 0.16 1, ratio: 0.75 1.33, size: 24}}}"
	dir := pbRun(t, "unsup", pbSmallWith(views, "--config_general", "default", "with_unsupervised",
		"--config_transforms", "default", "unsupervised", "--trainer~APPLY~2", "{batch_size: 6}")...)
	saved, err := os.ReadFile(filepath.Join(dir, "configs", "config_general.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(saved), "UnsupervisedEmbeddingsUsingAugmentations:") {
		t.Errorf("saved config_general.yaml:\n%s", saved)
	}
	_, err = bench(t, "configs", "show", "--root_config_folder", pbConfigs, "--models", "{trunk~OVERRIDE~: {ConvNet: {}}}",
		"--config_general", "default", "with_unsupervised")
	if err == nil || !strings.Contains(err.Error(), "transforms.augmentation1: is required by UnsupervisedEmbeddingsUsingAugmentations") {
		t.Errorf("without augmentations: %v", err)
	}
}

// TestPBSubsetBatchMiner runs powerful_benchmarker's default experiment,
// shrunk, with a subset batch miner: each step trains on the
// output_batch_size items of the loaded batch whose loss is largest.
func TestPBSubsetBatchMiner(t *testing.T) {
	pbRun(t, "subset", append(slices.Clone(pbSmall), "--trainer~APPLY~2", "{batch_size: 16}", "--mining_funcs",
		"{subset_batch_miner: {MaximumLossMiner: {loss: {TripletMarginLoss: {margin: 0.1}}, miner: {TripletMarginMiner: {}}, output_batch_size: 8, num_trials: 3}}}")...)
	_, err := bench(t, "configs", "show", "--root_config_folder", pbConfigs, "--models", "{trunk~OVERRIDE~: {ConvNet: {}}}",
		"--mining_funcs", "{subset_batch_miner: {MaximumLossMiner: {loss: {ContrastiveLoss: {}}, output_batch_size: 64}}}")
	if err == nil || !strings.Contains(err.Error(), "mining_funcs.subset_batch_miner.MaximumLossMiner.output_batch_size: is 64, more than the 32 images of a loaded batch") {
		t.Errorf("a subset larger than the batch: %v", err)
	}
}

// TestCascadedEmbeddingsClassifierHeads runs CascadedEmbeddings with a
// classifier head on each of its two slices, as PML's classifier_<i> and
// classifier_loss_<i>; the first head has its own optimiser, the second
// none (it stays as initialised, as in PML without one).
func TestCascadedEmbeddingsClassifierHeads(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	root := t.TempDir()
	args := runArgs(t, root, "--experiment_name", "heads", "--config_general", "default", "smoke", "cascaded_embeddings",
		"--trainer~OVERRIDE~", "{CascadedEmbeddings: {embedding_sizes: [16, 16]}}",
		"--models", "{embedder: {MLP: {layer_sizes: [32]}}, classifier_0: {MLP: {}}, classifier_1: {MLP: {layer_sizes: [8]}}}",
		"--loss_funcs~OVERRIDE~", "{metric_loss_0: {ContrastiveLoss: {}}, classifier_loss_0: {CrossEntropyLoss: {}}, classifier_loss_1: {CrossEntropyLoss: {}}}",
		"--mining_funcs~OVERRIDE~", "{}", "--loss_weights~OVERRIDE~", "{metric_loss_0: 1, classifier_loss_0: 1, classifier_loss_1: 0.5}",
		"--optimizers", "{classifier_0_optimizer: {Adam: {lr: 0.001}}}",
		"--batch_size", "16", "--num_epochs_train", "1", "--iterations_per_epoch", "3")
	out, err := bench(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	losses, err := os.ReadFile(filepath.Join(root, "heads", "Test50_50_Partitions2_0", "records", "losses.csv"))
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(string(losses), "\n")
	for _, col := range []string{"classifier_loss_0", "classifier_loss_1", "metric_loss_0", "lr_classifier_0"} {
		if !strings.Contains(header, col) {
			t.Errorf("losses.csv header %q lacks %s", header, col)
		}
	}
	if strings.Contains(header, "lr_classifier_1") {
		t.Errorf("classifier_1 has no optimiser, but losses.csv records its rate: %q", header)
	}
	_, err = bench(t, "configs", "show", "--root_config_folder", "../configs", "--config_general", "default", "cascaded_embeddings",
		"--models", "{classifier_1: {MLP: {}}}")
	if err == nil || !strings.Contains(err.Error(), "models.classifier_1: has no loss: add loss_funcs.classifier_loss_1") {
		t.Errorf("a head without its loss: %v", err)
	}
}
