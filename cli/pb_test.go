package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestApplyDepthIsPowerfulBenchmarkers checks that ~APPLY~N counts levels as
// powerful_benchmarker does, and that a key written with bench's old count
// fails loudly instead of being misapplied.
func TestApplyDepthIsPowerfulBenchmarkers(t *testing.T) {
	out, err := bench(t, "configs", "show", "--root_config_folder", "../configs",
		"--optimizers~APPLY~3", "{lr: 0.0123}", "--tester~APPLY~2", "{batch_size: 77}")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "lr: 0.0123"); n != 2 {
		t.Errorf("optimizers~APPLY~3 set %d learning rates, want both:\n%s", n, out)
	}
	if !strings.Contains(out, "batch_size: 77") {
		t.Errorf("tester~APPLY~2 did not set batch_size:\n%s", out)
	}
	_, err = bench(t, "configs", "show", "--root_config_folder", "../configs", "--optimizers~APPLY~2", "{lr: 0.01}")
	if err == nil || !strings.Contains(err.Error(), "optimizers.trunk_optimizer: a component has one type, this has 2 (Adam, lr)") {
		t.Errorf("the old depth: got %v", err)
	}
}

const pbConfigs = "../testdata/pb_configs"

// pbSmall shrinks powerful_benchmarker's default experiment (CUB200,
// BN-Inception, 1000 epochs) to the built-in dataset and a smoke size with
// command-line overrides only, in powerful_benchmarker's syntax.
var pbSmall = []string{
	"--dataset~OVERRIDE~", "{Glyphs: {images_per_class: 12, image_size: 24}}",
	"--models", "{trunk~OVERRIDE~: {ConvNet: {channels: [16, 32]}}, embedder: {MLP: {layer_sizes: [32]}}}",
	"--transforms~OVERRIDE~", "{train: {Resize: {size: 24}, RandomResizedCrop: {scale: 0.16 1, ratio: 0.75 1.33, size: 24}}, eval: {Resize: {size: 24}}}",
	"--trainer~APPLY~2", "{iterations_per_epoch: 3}",
	"--num_epochs_train", "2", "--save_interval", "1",
	"--split_manager~APPLY~2", "{num_training_partitions: 2, num_training_sets: 2}",
}

// TestPBConfigFolderResolves loads powerful_benchmarker v0.9.33's config
// folder as it is and checks that it resolves to its values, in its layout.
func TestPBConfigFolderResolves(t *testing.T) {
	// bench has no BN-Inception: the folder fails at that one line, or
	// loads if a later bench adds the trunk.
	if _, err := bench(t, "configs", "show", "--root_config_folder", pbConfigs); err != nil &&
		!strings.Contains(err.Error(), `config_models/default.yaml:2: models.trunk.bninception: unknown trunk "bninception"`) {
		t.Fatalf("the unchanged folder: %v", err)
	}
	out, err := bench(t, "configs", "show", "--root_config_folder", pbConfigs, "--models", "{trunk~OVERRIDE~: {ConvNet: {}}}")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"trainer:\n  MetricLossOnly:\n    iterations_per_epoch: 100\n    dataloader_num_workers: 2\n    batch_size: 32\n    freeze_trunk_batchnorm: true\n    label_hierarchy_level: 0\n",
		"num_epochs_train: 1000\nsave_interval: 2\npatience: 9\n",
		"skip_eval_if_already_done: true\n", "save_lists_in_db: false\n",
		"# config_dataset\ndataset:\n  CUB200:", "splits_to_eval: [val]\nsplit_manager:", "hierarchy_level: 0\n", "data_and_label_getter_keys: [data, label]",
		"MLP:\n      layer_sizes: [128]", "MPerClassSampler:\n    m: 4",
		"scale: [0.16, 1.0]\n      ratio: [0.75, 1.33]\n      size: 227",
		"RMSprop:\n      lr: 1e-06\n      weight_decay: 0.0001\n      momentum: 0.9",
		"batch_size: 32\n    dataloader_num_workers: 2\n    pca: null", "visualizer: {}",
		"split_to_aggregate: val", "HookContainer:\n    primary_metric: mean_average_precision_at_r\n    validation_split_name: val\n    save_models: true",
		"# config_factories\nfactories:\n  model:\n    ModelFactory: {}",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("configs show lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"\niterations_per_epoch:", "\nbatch_size:", "eval_primary_metric"} {
		if strings.Contains(out, bad) {
			t.Errorf("configs show has %q at the top level as well:\n%s", bad, out)
		}
	}
	// The with_* profiles, as a powerful_benchmarker user combines them.
	out, err = bench(t, "configs", "show", "--root_config_folder", pbConfigs, "--models", "{trunk~OVERRIDE~: {ConvNet: {}}}",
		"--config_general", "default", "with_256_batch", "with_32_workers", "--config_optimizers", "default", "with_higher_lr",
		"--config_eval", "default", "with_32_workers")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"    dataloader_num_workers: 32\n    batch_size: 256\n", "lr: 1e-05", "batch_size: 32\n    dataloader_num_workers: 32\n    pca"} {
		if !strings.Contains(out, want) {
			t.Errorf("with_* profiles: configs show lacks %q:\n%s", want, out)
		}
	}
}

// TestPBConfigFolderRuns runs powerful_benchmarker's default experiment at
// smoke size and its DAML profile, both shrunk by overrides only.
func TestPBConfigFolderRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	root := t.TempDir()
	args := append([]string{"run", "--root_experiment_folder", root, "--root_config_folder", pbConfigs, "--experiment_name", "pb"}, pbSmall...)
	out, err := bench(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "test mean_average_precision_at_r: separated") {
		t.Errorf("no test result:\n%s", out)
	}
	saved, err := os.ReadFile(filepath.Join(root, "pb", "configs", "config_general.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(saved), "MetricLossOnly:\n    iterations_per_epoch: 3\n") {
		t.Errorf("saved config_general.yaml keeps powerful_benchmarker's layout:\n%s", saved)
	}
	args = append([]string{"run", "--root_experiment_folder", root, "--root_config_folder", pbConfigs, "--experiment_name", "pb_daml",
		"--config_general", "default", "with_daml", "--config_models", "default", "with_daml",
		"--config_loss_and_miners", "default", "with_daml", "--config_optimizers", "default", "with_daml"}, pbSmall...)
	args = append(args, "--trainer~APPLY~2", "{g_triplets_per_anchor: 2, batch_size: 16}", "--check_untrained_accuracy", "false")
	if out, err := bench(t, args...); err != nil {
		t.Fatalf("with_daml: %v\n%s", err, out)
	}
}

// TestPBSettingTwiceIsAnError: a setting written both in the trainer's
// parameters and as bench's top-level key is one error naming both.
func TestPBSettingTwiceIsAnError(t *testing.T) {
	_, err := bench(t, "configs", "show", "--root_config_folder", "../configs", "--trainer~APPLY~2", "{batch_size: 64}")
	want := "trainer.MetricLossOnly.batch_size: is also set as the top-level key batch_size (../configs/config_models/default.yaml:"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}

// TestShippedPBProfiles: powerful_benchmarker's v0.9.33 with_* names and its
// Jan-2020 names ship in configs/ with its values.
func TestShippedPBProfiles(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--config_general", "default", "daml"}, []string{"g_triplets_per_anchor: 100", "margin: 0.01", "synth_loss: 0.1", "lr: 1e-05\n      weight_decay: 5e-05"}},
		{[]string{"--config_general", "default", "daml", "daml_light"}, []string{"g_triplets_per_anchor: 20"}},
		{[]string{"--config_general", "default", "train_with_classifier"}, []string{"TrainWithClassifier:", "CrossEntropyLoss:", "metric_loss: 0\n  classifier_loss: 1"}},
		{[]string{"--config_general", "default", "cascaded_embeddings"}, []string{"embedding_sizes: [32, 32, 32]", "metric_loss_2:", "tuple_miner_2:", "m: 8", "batch_size: 80"}},
		{[]string{"--config_general", "default", "with_daml", "--config_models", "default", "with_daml", "--config_loss_and_miners", "default", "with_daml", "--config_optimizers", "default", "with_daml"},
			[]string{"DeepAdversarialMetricLearning:", "g_triplets_per_anchor: 100", "margin: 0.01", "lr: 1e-06\n      weight_decay: 0.0001"}},
		{[]string{"--config_general", "default", "with_cascaded", "--config_loss_and_miners", "default", "with_cascaded"}, []string{"CascadedEmbeddings:", "margin: 0.1"}},
		{[]string{"--config_general", "default", "with_classifier", "with_256_batch", "with_32_workers", "with_cars196"},
			[]string{"TrainWithClassifier:", "batch_size: 256", "dataloader_num_workers: 32", "save_interval: 5\npatience: 14"}},
		{[]string{"--config_general", "default", "with_sop", "--config_dataset", "default", "with_sop", "--config_eval", "default", "with_32_workers",
			"--config_loss_and_miners", "default", "with_classification_based_loss", "--config_optimizers", "default", "with_higher_lr", "with_metric_loss_optimizer"},
			[]string{"save_interval: 20\npatience: 39", "StanfordOnlineProducts:", "    dataloader_num_workers: 32\n", "m: 1\n", "lr: 1e-05", "metric_loss_optimizer:"}},
	} {
		out, err := bench(t, append([]string{"configs", "show", "--root_config_folder", "../configs"}, tc.args...)...)
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: lacks %q:\n%s", tc.args, w, out)
			}
		}
	}
}

// frozenRun is one fold of the smoke run whose model cannot change (no
// BatchNorm, a learning rate below float32's resolution), so no epoch
// improves on the untrained model.
func frozenRun(t *testing.T, root, name string, extra ...string) string {
	t.Helper()
	args := runArgs(t, root, append([]string{"--experiment_name", name, "--config_general", "default", "smoke",
		"--iterations_per_epoch", "2",
		"--split_manager", "{ClassDisjointSplitManager: {num_training_partitions: 2, num_training_sets: 1}}",
		"--models", "{trunk: {ConvNet: {batchnorm: false}}}", "--optimizers~APPLY~3", "{lr: 1e-30}"}, extra...)...)
	out, err := bench(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// TestPatienceAsPB: the untrained model (epoch 0) can be the best epoch,
// patience is checked at evaluation epochs only, and patience: null never
// stops early.
func TestPatienceAsPB(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	root := t.TempDir()
	out := frozenRun(t, root, "pat0", "--patience", "0", "--save_interval", "2", "--num_epochs_train", "6")
	for _, want := range []string{"msg=evaluated fold=Test50_50_Partitions2_0 epoch=2 ", "best_epoch=0 "} {
		if !strings.Contains(out, want) {
			t.Errorf("patience 0, save_interval 2: lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "epoch 3/6") || strings.Contains(out, "epoch=4 ") {
		t.Errorf("patience 0 did not stop at the first evaluation after epoch 0:\n%s", out)
	}
	out = frozenRun(t, root, "patnull", "--patience", "null", "--num_epochs_train", "4")
	if !strings.Contains(out, "epoch=4 val=") || !strings.Contains(out, "best_epoch=0 ") {
		t.Errorf("patience null stopped early, or epoch 0 was not the best:\n%s", out)
	}
}

// TestIterationsPerEpochNullIsOnePass: iterations_per_epoch: null is one
// pass over the sampler, PML's len(dataloader), which MPerClassSampler's
// length_before_new_iter sets.
func TestIterationsPerEpochNullIsOnePass(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	root := t.TempDir()
	frozenRun(t, root, "onepass", "--num_epochs_train", "2", "--iterations_per_epoch", "null",
		"--sampler", "{MPerClassSampler: {length_before_new_iter: 100}}")
	losses, err := os.ReadFile(filepath.Join(root, "onepass", "Test50_50_Partitions2_0", "records", "losses.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// As PML without a batch size (powerful_benchmarker gives it none),
	// 100 is rounded down to whole rounds of m = 4 items of each training
	// class, 4 x 16-23 classes: 2 batches of 32 per epoch, 2 epochs, plus
	// the header.
	if n := strings.Count(string(losses), "\n"); n != 5 {
		t.Errorf("losses.csv has %d lines, want 5:\n%s", n, losses)
	}
}

// readMeta reads a file of an experiment's meta_logs.
func readMeta(t *testing.T, root, name, file string) string {
	t.Helper()
	return readExp(t, root, name, "meta_logs", file)
}

func readExp(t *testing.T, parts ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTesterAndEnsembleSettingsReachTheTest: use_trunk_output applies to
// the test set as to val, and the ensemble's normalize_embeddings: false
// concatenates the folds' embeddings unnormalised.
func TestTesterAndEnsembleSettingsReachTheTest(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	root := t.TempDir()
	// Two folds that train, so that their models differ.
	run := func(name string, extra ...string) {
		args := runArgs(t, root, append([]string{"--experiment_name", name, "--config_general", "default", "smoke",
			"--iterations_per_epoch", "2", "--num_epochs_train", "1",
			"--split_manager", "{ClassDisjointSplitManager: {num_training_partitions: 2, num_training_sets: 2}}"}, extra...)...)
		if out, err := bench(t, args...); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	run("emb")
	run("trunk", "--tester~APPLY~2", "{use_trunk_output: true}")
	run("raw", "--ensemble", "{ConcatenateEmbeddings: {normalize_embeddings: false}}")
	if readMeta(t, root, "emb", "separated.json") == readMeta(t, root, "trunk", "separated.json") {
		t.Error("use_trunk_output: true gave the same test results as false")
	}
	if readMeta(t, root, "emb", "separated.json") != readMeta(t, root, "raw", "separated.json") {
		t.Error("the ensemble's normalize_embeddings changed the folds' own results")
	}
	if readMeta(t, root, "emb", "concatenated.json") == readMeta(t, root, "raw", "concatenated.json") {
		t.Error("the ensemble's normalize_embeddings: false gave the same concatenated results as true")
	}
}

// TestEvaluateAsPB: --evaluate tests the folds' best models and also
// evaluates them on splits_to_eval, with the untrained trunk; it applies
// command-line overrides without --merge_argparse_when_resuming and saves
// no config change. --evaluate_ensemble evaluates the concatenated folds
// only. --reproduce_results applies overrides only with
// --merge_argparse_when_resuming.
func TestEvaluateAsPB(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	root := t.TempDir()
	frozenRun(t, root, "ev", "--num_epochs_train", "1", "--splits_to_eval", "[train, val]")
	meta := filepath.Join(root, "ev", "meta_logs")
	if err := os.RemoveAll(meta); err != nil {
		t.Fatal(err)
	}
	savedBefore := readConfig(t, root, "ev", "config_eval.yaml")
	out, err := bench(t, "run", "--root_experiment_folder", root, "--experiment_name", "ev", "--evaluate", "--tester~APPLY~2", "{batch_size: 17}")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, f := range []string{"separated.json", "separated_val.json", "separated_train.json", "untrained.json", "untrained_trunk.json"} {
		if _, err := os.Stat(filepath.Join(meta, f)); err != nil {
			t.Errorf("--evaluate: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(meta, "concatenated.json")); err == nil {
		t.Error("--evaluate evaluated the ensemble")
	}
	if readConfig(t, root, "ev", "config_eval.yaml") != savedBefore {
		t.Error("--evaluate with an override changed the saved config")
	}
	if out, err = bench(t, "configs", "show", "--root_experiment_folder", root, "--experiment_name", "ev", "--evaluate", "--tester~APPLY~2", "{batch_size: 17}"); err != nil || !strings.Contains(out, "batch_size: 17") {
		t.Errorf("--evaluate ignored an override: %v\n%s", err, out)
	}
	if err := os.RemoveAll(meta); err != nil {
		t.Fatal(err)
	}
	if out, err := bench(t, "run", "--root_experiment_folder", root, "--experiment_name", "ev", "--evaluate_ensemble"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(meta, "concatenated.json")); err != nil {
		t.Errorf("--evaluate_ensemble: %v", err)
	}
	if _, err := os.Stat(filepath.Join(meta, "separated.json")); err == nil {
		t.Error("--evaluate_ensemble evaluated the folds separately")
	}
	exp := filepath.Join(root, "ev")
	for _, tc := range []struct {
		merge bool
		want  string
	}{{false, "patience: 1\n"}, {true, "patience: 7\n"}} {
		args := []string{"configs", "show", "--reproduce_results", exp, "--patience", "7"}
		if tc.merge {
			args = append(args, "--merge_argparse_when_resuming")
		}
		if out, err := bench(t, args...); err != nil || !strings.Contains(out, tc.want) {
			t.Errorf("--reproduce_results, merge %v: want %q: %v\n%s", tc.merge, tc.want, err, out)
		}
	}
}

func readConfig(t *testing.T, root, name, file string) string {
	t.Helper()
	return readExp(t, root, name, "configs", file)
}

// TestResumeDiffsReplayed: resuming with a changed config keeps the saved
// configs and records the change in resume_training_config_diffs_<epochs>/,
// and --reproduce_results replays it: train to those epochs, then resume
// with the change, which gives the original results exactly.
func TestResumeDiffsReplayed(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	root := t.TempDir()
	smoke := []string{"--config_general", "default", "smoke", "--iterations_per_epoch", "3"}
	if out, err := bench(t, runArgs(t, root, append([]string{"--experiment_name", "x", "--num_epochs_train", "2"}, smoke...)...)...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := bench(t, "run", "--root_experiment_folder", root, "--experiment_name", "x",
		"--resume_training", "latest", "--merge_argparse_when_resuming", "--num_epochs_train", "3", "--patience", "null"); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	if !strings.Contains(readConfig(t, root, "x", "config_general.yaml"), "num_epochs_train: 2\n") {
		t.Error("resuming overwrote the saved config_general.yaml")
	}
	diff := readConfig(t, root, "x", "resume_training_config_diffs_2_2/config_general.yaml")
	if diff != "num_epochs_train: 3\npatience: null\n" {
		t.Errorf("the recorded change is %q", diff)
	}
	out, err := bench(t, "run", "--root_experiment_folder", root, "--experiment_name", "y", "--reproduce_results", filepath.Join(root, "x"))
	if err != nil {
		t.Fatalf("reproduce: %v\n%s", err, out)
	}
	if !strings.Contains(out, "msg=resumed fold=Test50_50_Partitions2_0 checkpoint=latest epoch=2") {
		t.Errorf("the reproduction did not resume at the recorded epoch:\n%s", out)
	}
	if readConfig(t, root, "y", "resume_training_config_diffs_2_2/config_general.yaml") != diff {
		t.Error("the reproduction did not record the same change")
	}
	if a, b := readMeta(t, root, "x", "separated.json"), readMeta(t, root, "y", "separated.json"); a != b {
		t.Errorf("the reproduction's results differ:\n%s\nvs\n%s", b, a)
	}
}

// TestPBComponentsRun: the plain random sampler (`sampler: {}`) and
// torchvision's RandomVerticalFlip, RandomGrayscale and RandomCrop train.
func TestPBComponentsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	root := t.TempDir()
	frozenRun(t, root, "comp", "--num_epochs_train", "1", "--sampler~OVERRIDE~", "{}",
		"--transforms", "{train: {RandomVerticalFlip: {}, RandomGrayscale: {p: 0.5}, RandomCrop: {size: 24, padding: 2}}}")
	if !strings.Contains(readConfig(t, root, "comp", "config_loss_and_miners.yaml"), "sampler: {}\n") {
		t.Error("sampler: {} was not kept")
	}
}

// TestIncludeExclude: AccuracyCalculator's include and exclude choose the
// metrics, as PML's; NMI or AMI in include computes them.
func TestIncludeExclude(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	root := t.TempDir()
	frozenRun(t, root, "inc", "--num_epochs_train", "1",
		"--tester", "{GlobalEmbeddingSpaceTester: {accuracy_calculator: {AccuracyCalculator: {include: [mean_average_precision_at_r, NMI, precision_at_1], exclude: [precision_at_1]}}}}")
	got := readMeta(t, root, "inc", "separated.csv")
	var metrics []string
	for _, line := range strings.Split(strings.TrimSpace(got), "\n")[1:] {
		metrics = append(metrics, strings.Split(line, ",")[0])
	}
	if strings.Join(metrics, " ") != "NMI mean_average_precision_at_r" {
		t.Errorf("metrics %v, want NMI and mean_average_precision_at_r", metrics)
	}
	_, err := bench(t, "configs", "show", "--root_config_folder", "../configs",
		"--tester", "{GlobalEmbeddingSpaceTester: {accuracy_calculator: {AccuracyCalculator: {exclude: [mean_average_precision_at_r]}}}}")
	if err == nil || !strings.Contains(err.Error(), "leaves out eval_primary_metric") {
		t.Errorf("excluding the primary metric: %v", err)
	}
}

// TestPBCascadedModelRuns runs powerful_benchmarker's cascaded model
// (config_models/cascaded.yaml with the with_cascaded profiles), shrunk by
// overrides: inception_v3's Mixed_6e (768) and fc (2048) outputs, each
// embedded by its own MLP [128], as powerful_benchmarker's LayerExtractor and
// ListOfModels; CascadedEmbeddings scores the two 128-wide slices.
func TestPBCascadedModelRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	root := t.TempDir()
	out, err := bench(t, "run", "--root_experiment_folder", root, "--root_config_folder", pbConfigs, "--experiment_name", "cascaded",
		"--config_models", "cascaded", "--config_general", "default", "with_cascaded", "--config_loss_and_miners", "default", "with_cascaded",
		"--dataset~OVERRIDE~", `{Glyphs: {images_per_class: 4, image_size: 24, charset: ABCDEFGHIJKLMNOP}}`,
		"--models", "{trunk: {inception_v3: {pretrained: False}}}",
		"--transforms~OVERRIDE~", "{train: {Resize: {size: 75}, Grayscale: {num_output_channels: 3}}, eval: {Resize: {size: 75}, Grayscale: {num_output_channels: 3}}}",
		"--trainer~APPLY~2", "{iterations_per_epoch: 2, batch_size: 8}", "--num_epochs_train", "1", "--check_untrained_accuracy", "false",
		"--split_manager~APPLY~2", "{num_training_partitions: 2, num_training_sets: 1}", "--tester~APPLY~2", "{batch_size: 16}")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "test mean_average_precision_at_r: separated") {
		t.Errorf("no test result:\n%s", out)
	}
	saved := readExp(t, root, "cascaded", "Test50_50_Partitions2_0", "saved_models", "best.safetensors")
	for _, want := range []string{`"embedder.list_of_models.0.net.0.weight":{"dtype":"F32","shape":[128,768]`,
		`"embedder.list_of_models.1.net.0.weight":{"dtype":"F32","shape":[128,2048]`} {
		if !strings.Contains(saved, want) {
			t.Errorf("the saved model lacks %s", want)
		}
	}
}

// TestEvaluateTestSplitOnly: `--splits_to_eval [test] --evaluate`, as
// powerful_benchmarker's users evaluate, tests without val; training
// without val is one error line.
func TestEvaluateTestSplitOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	root := t.TempDir()
	frozenRun(t, root, "ev", "--num_epochs_train", "1")
	meta := filepath.Join(root, "ev", "meta_logs")
	if err := os.RemoveAll(meta); err != nil {
		t.Fatal(err)
	}
	out, err := bench(t, "run", "--root_experiment_folder", root, "--experiment_name", "ev", "--evaluate", "--splits_to_eval", "[test]")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(meta, "separated.json")); err != nil {
		t.Errorf("--evaluate --splits_to_eval [test]: %v", err)
	}
	if _, err := os.Stat(filepath.Join(meta, "separated_val.json")); err == nil {
		t.Error("--splits_to_eval [test] evaluated val")
	}
	_, err = bench(t, runArgs(t, root, "--experiment_name", "noval", "--config_general", "default", "smoke", "--splits_to_eval", "[test]")...)
	if want := "--splits_to_eval: splits_to_eval: must include val to train"; err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("training without val: got %v; want one line with %q", err, want)
	}
}

// TestResumeWarnsOfIgnoredFlags: a resume without
// --merge_argparse_when_resuming ignores the config flags, as
// powerful_benchmarker does, and says so in one stderr line naming them.
func TestResumeWarnsOfIgnoredFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	root := t.TempDir()
	frozenRun(t, root, "r", "--num_epochs_train", "1")
	resume := []string{"run", "--root_experiment_folder", root, "--experiment_name", "r", "--resume_training", "latest"}
	warnings := func(extra ...string) []string {
		t.Helper()
		_, stderr, err := benchStreams(t, append(slices.Clone(resume), extra...)...)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		var out []string
		for _, line := range strings.Split(stderr, "\n") {
			if strings.Contains(line, "flags ignored") {
				out = append(out, line)
			}
		}
		return out
	}
	got := warnings("--config_general", "default", "--patience", "7", "--trainer~APPLY~2", "{batch_size: 16}")
	if len(got) != 1 || !strings.Contains(got[0], `flags="--config_general --patience --trainer~APPLY~2"`) {
		t.Errorf("warnings %q; want one naming --config_general --patience --trainer~APPLY~2", got)
	}
	if got := warnings(); len(got) != 0 {
		t.Errorf("a resume without flags warns: %q", got)
	}
	if got := warnings("--merge_argparse_when_resuming", "--patience", "7"); len(got) != 0 {
		t.Errorf("a merged resume warns: %q", got)
	}
}
