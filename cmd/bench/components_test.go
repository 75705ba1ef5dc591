package main

import (
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/miner"
)

// tinyRun is a run of a few iterations on one fold: enough to show that a
// component is selectable from config and trains end to end.
var tinyRun = []string{"--config_general", "default", "smoke",
	"--num_epochs_train", "1", "--iterations_per_epoch", "2", "--check_untrained_accuracy", "false",
	"--split_manager", "{ClassDisjointSplitManager: {num_training_partitions: 2, num_training_sets: 1}}",
	"--optimizers", "{metric_loss_optimizer: {SGD: {lr: 0.01}}, classifier_optimizer: {Adam: {}}}"}

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
			args = append(args, "--loss_funcs", "{metric_loss~OVERRIDE~: {"+r.loss+": {}}}")
			if r.miner != "" {
				args = append(args, "--mining_funcs", "{tuple_miner: {"+r.miner+": {}}}")
			}
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

func TestLossWithWeightsNeedsItsOptimizer(t *testing.T) {
	_, err := bench(t, runArgs(t, t.TempDir(), "--experiment_name", "x", "--config_general", "default", "smoke",
		"--check_untrained_accuracy", "false", "--loss_funcs", "{metric_loss~OVERRIDE~: {ProxyAnchorLoss: {}}}")...)
	if err == nil || !strings.Contains(err.Error(), "optimizers.metric_loss_optimizer") {
		t.Fatalf("want an error naming optimizers.metric_loss_optimizer, got %v", err)
	}
}
