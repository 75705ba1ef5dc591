package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/miner"
)

// tinyRun is a run of a few iterations on one fold: enough to show that a
// component is selectable from config and trains end to end.
var tinyRun = append([]string{"--config_general", "default", "smoke"}, tinyFlags...)

// tinyFlags are tinyRun without its config files.
var tinyFlags = []string{"--num_epochs_train", "1", "--iterations_per_epoch", "2", "--check_untrained_accuracy", "false",
	"--split_manager", "{ClassDisjointSplitManager: {num_training_partitions: 2, num_training_sets: 1}}",
	"--optimizers", "{metric_loss_optimizer: {SGD: {lr: 0.01}}, classifier_optimizer: {Adam: {}}}"}

// requiredLossParams are the parameters a loss cannot be configured
// without (PML's constructor has no default for them).
var requiredLossParams = map[string]string{
	"RankedListLoss":   "margin: 0.4, Tn: 1",
	"CrossBatchMemory": "loss: {ContrastiveLoss: {}}",
}

func TestEveryLossAndMinerTrains(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	type run struct{ name, loss, miner string }
	var runs []run
	for _, name := range loss.Losses.Names() {
		if name == "CrossEntropyLoss" {
			continue // a classifier loss: trained below with TrainWithClassifier
		}
		runs = append(runs, run{name, name, ""})
	}
	for _, name := range miner.Miners.Names() {
		runs = append(runs, run{name, "TripletMarginLoss", name})
	}
	root := t.TempDir()
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			args := append([]string{"--experiment_name", r.name}, tinyRun...)
			args = append(args, "--loss_funcs", "{metric_loss~OVERRIDE~: {"+r.loss+": {"+requiredLossParams[r.loss]+"}}}")
			if r.miner != "" {
				args = append(args, "--mining_funcs", "{tuple_miner: {"+r.miner+": {}}}")
			}
			if out, err := bench(t, runArgs(t, root, args...)...); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
	for _, trunk := range []string{"{ResNet: {channels: [8, 16]}}", "{Identity: {}}"} {
		t.Run(trunk, func(t *testing.T) {
			args := append([]string{"--experiment_name", strings.Fields(trunk)[0][1:]}, tinyRun...)
			args = append(args, "--models", "{trunk~OVERRIDE~: "+trunk+"}")
			if out, err := bench(t, runArgs(t, root, args...)...); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
	t.Run("TrainWithClassifier", func(t *testing.T) {
		args := append([]string{"--experiment_name", "classifier"}, tinyRun...)
		args = append(args, "--trainer~OVERRIDE~", "{TrainWithClassifier: {}}",
			"--models", "{classifier: {MLP: {layer_sizes: []}}}",
			"--loss_funcs", "{classifier_loss: {CrossEntropyLoss: {}}}", "--loss_weights", "{classifier_loss: 0.5}")
		out, err := bench(t, runArgs(t, root, args...)...)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !strings.Contains(out, "test mean_average_precision_at_r") {
			t.Errorf("no test result in\n%s", out)
		}
	})
}

// TestLossRefusingTuplesWithAMiner: as PML's, the losses over whole rows of
// the batch refuse a miner (and CrossBatchMemory, unlike PML's, which mixes
// the miner's batch indices with its memory's); the config is refused before anything is
// written, in one line naming the miner's key and the loss.
func TestLossRefusingTuplesWithAMiner(t *testing.T) {
	for _, name := range []string{"RankedListLoss", "PNPLoss", "InstanceLoss", "P2SGradLoss", "CrossBatchMemory"} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"--experiment_name", "x"}, tinyRun...)
			args = append(args, "--loss_funcs", "{metric_loss~OVERRIDE~: {"+name+": {"+requiredLossParams[name]+"}}}",
				"--mining_funcs", "{tuple_miner: {PairMarginMiner: {}}}")
			root := t.TempDir()
			_, err := bench(t, runArgs(t, root, args...)...)
			want := "mining_funcs.tuple_miner: loss_funcs.metric_loss (" + name + ") takes no miner tuples"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("want an error containing %q, got %v", want, err)
			}
			if _, err := os.Stat(filepath.Join(root, "x")); !os.IsNotExist(err) {
				t.Errorf("a refused config wrote the experiment folder: %v", err)
			}
		})
	}
}

func TestLossWithWeightsNeedsItsOptimizer(t *testing.T) {
	_, err := bench(t, runArgs(t, t.TempDir(), "--experiment_name", "x", "--config_general", "default", "smoke",
		"--check_untrained_accuracy", "false", "--loss_funcs", "{metric_loss~OVERRIDE~: {ProxyAnchorLoss: {}}}")...)
	if err == nil || !strings.Contains(err.Error(), "optimizers.metric_loss_optimizer") {
		t.Fatalf("want an error naming optimizers.metric_loss_optimizer, got %v", err)
	}
}

// TestCascadedAndDAMLTrain runs the example configs of the two other
// trainers for a few iterations, through training and the test evaluation.
func TestCascadedAndDAMLTrain(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	root := t.TempDir()
	for _, tc := range []struct{ name, config string }{
		{"cascaded", "cascaded"},
		{"daml", "daml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--experiment_name", tc.name, "--config_general", "default", "smoke", tc.config}, tinyFlags...)
			args = append(args, "--iterations_per_epoch", "3")
			out, err := bench(t, runArgs(t, root, args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(out, "test mean_average_precision_at_r") {
				t.Errorf("no test result in\n%s", out)
			}
		})
	}
	// Through the three phases, and resumed in the middle: the generator,
	// its optimiser and the triplet draws continue as if it had not stopped.
	t.Run("daml phases resumed", func(t *testing.T) {
		run := func(name string, extra ...string) {
			t.Helper()
			args := append([]string{"--experiment_name", name, "--config_general", "default", "smoke", "daml"}, tinyFlags...)
			args = append(args, "--patience", "5", "--iterations_per_epoch", "3",
				"--trainer", "{DeepAdversarialMetricLearning: {metric_alone_epochs: 1, g_alone_epochs: 1, g_triplets_per_anchor: 5}}",
				"--models", "{classifier: {MLP: {layer_sizes: []}}}", "--loss_funcs", "{classifier_loss: {CrossEntropyLoss: {}}}")
			if out, err := bench(t, runArgs(t, root, append(args, extra...)...)...); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		}
		run("whole", "--num_epochs_train", "3")
		run("resumed", "--num_epochs_train", "2")
		if out, err := bench(t, "run", "--root_experiment_folder", root, "--experiment_name", "resumed",
			"--resume_training", "latest", "--merge_argparse_when_resuming", "--num_epochs_train", "3"); err != nil {
			t.Fatalf("resume: %v\n%s", err, out)
		}
		for _, file := range []string{"meta_logs/separated.json", "Test50_50_Partitions2_0/records/losses.csv"} {
			whole, _ := os.ReadFile(filepath.Join(root, "whole", file))
			resumed, _ := os.ReadFile(filepath.Join(root, "resumed", file))
			if len(whole) == 0 || string(whole) != string(resumed) {
				t.Errorf("%s: the resumed run differs from the whole one:\n%s\nvs\n%s", file, resumed, whole)
			}
		}
	})
}

func TestTrainerConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string
		args   []string
		want   []string
	}{
		{"embedding sizes sum", "cascaded", []string{"--trainer", "{CascadedEmbeddings: {embedding_sizes: [32, 16]}}"},
			[]string{"trainer.CascadedEmbeddings.embedding_sizes", "sums to 48", "embedding size, 64"}},
		{"no embedding sizes", "cascaded", []string{"--trainer~OVERRIDE~", "{CascadedEmbeddings: {}}"},
			[]string{"trainer.CascadedEmbeddings.embedding_sizes", "is required"}},
		{"cascaded unknown loss", "cascaded", []string{"--loss_funcs", "{metric_loss: {ContrastiveLoss: {}}}"},
			[]string{"loss_funcs.metric_loss", "metric_loss_<i> and classifier_loss_<i> for i in 0..1"}},
		{"cascaded loss beyond the slices", "cascaded", []string{"--loss_funcs", "{metric_loss_2: {ContrastiveLoss: {}}}"},
			[]string{"loss_funcs.metric_loss_2", "metric_loss_<i> and classifier_loss_<i> for i in 0..1"}},
		{"cascaded classifier without its loss", "cascaded", []string{"--models", "{classifier_0: {MLP: {}}}"},
			[]string{"models.classifier_0", "has no loss", "loss_funcs.classifier_loss_0"}},
		{"daml without generator", "daml", []string{"--models~OVERRIDE~", "{trunk: {ConvNet: {channels: [8]}}, embedder: {MLP: {layer_sizes: [8]}}}"},
			[]string{"models.generator", "is required by DeepAdversarialMetricLearning"}},
		{"daml without synth_loss", "daml", []string{"--loss_funcs~OVERRIDE~", "{metric_loss: {ContrastiveLoss: {}}, g_adv_loss: {TripletMarginLoss: {}}}"},
			[]string{"loss_funcs.synth_loss", "is required"}},
		{"daml synth loss not triplet", "daml", []string{"--loss_funcs", "{synth_loss~OVERRIDE~: {ContrastiveLoss: {}}}"},
			[]string{"loss_funcs.synth_loss", "TripletMarginLoss"}},
		{"daml unknown loss weight", "daml", []string{"--loss_weights", "{g_fake_loss: 1}"},
			[]string{"loss_weights.g_fake_loss", "unknown"}},
		{"daml without generator optimizer", "daml", []string{"--optimizers~OVERRIDE~", "{trunk_optimizer: {Adam: {}}, embedder_optimizer: {Adam: {}}}"},
			[]string{"optimizers.generator_optimizer", "is required"}},
		{"generator optimizer elsewhere", "smoke", []string{"--optimizers", "{generator_optimizer: {Adam: {}}}"},
			[]string{"optimizers.generator_optimizer", "unknown"}},
		{"daml generator output", "daml", []string{"--models", "{generator: {MLP: {layer_sizes: [2]}}}"},
			[]string{"models.generator.MLP.layer_sizes", "must be 1"}},
		{"daml learnable loss", "daml", []string{"--loss_funcs", "{metric_loss~OVERRIDE~: {ProxyAnchorLoss: {}}}", "--optimizers", "{metric_loss_optimizer: {SGD: {lr: 0.01}}}"},
			[]string{"loss_funcs.metric_loss", "never steps"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--experiment_name", "x", "--config_general", "default", "smoke", tc.config, "--check_untrained_accuracy", "false"}
			_, err := bench(t, runArgs(t, t.TempDir(), append(args, tc.args...)...)...)
			if err == nil {
				t.Fatalf("no error; want one containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// Optimiser extras, frozen BatchNorm and evaluating train too work together
// in one run, and train accuracies are recorded.
func TestSchedulersAndOptions(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	root := t.TempDir()
	args := append([]string{"--experiment_name", "opts"}, tinyRun...)
	args = append(args, "--num_epochs_train", "2", "--freeze_trunk_batchnorm", "true", "--splits_to_eval", "[train, val]",
		"--optimizers", "{trunk_optimizer~OVERRIDE~: {SGD: {lr: 0.01, momentum: 0.9, nesterov: true, clip_grad_norm: 1,"+
			" scheduler_by_iteration: {StepLR: {step_size: 1, gamma: 0.5}},"+
			" scheduler_by_plateau: {ReduceLROnPlateau: {mode: max, patience: 0}}}},"+
			" embedder_optimizer~OVERRIDE~: {RMSprop: {lr: 0.001, scheduler_by_epoch: {CosineAnnealingLR: {T_max: 2}}}}}")
	if out, err := bench(t, runArgs(t, root, args...)...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	fold := filepath.Join(root, "opts", "Test50_50_Partitions2_0", "records")
	if _, err := os.Stat(filepath.Join(fold, "accuracies_train.csv")); err != nil {
		t.Error("train accuracies were not recorded")
	}
	losses := readFile(t, filepath.Join(fold, "losses.csv"))
	// StepLR halves the trunk's lr after every iteration: 0.01, 0.005, ...
	// (the rate each iteration used); CosineAnnealingLR moves the embedder's
	// at the end of the epoch.
	if !strings.Contains(losses, "lr_trunk,lr_embedder") || !strings.Contains(losses, ",0.01,0.001\n") ||
		!strings.Contains(losses, ",0.005,0.001\n") || !strings.Contains(losses, ",0.0025,0.0005\n") {
		t.Errorf("the trunk's learning rate did not follow StepLR:\n%s", losses)
	}
}
