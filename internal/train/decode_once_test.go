package train

import (
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/miner"
	"github.com/bench-ml/bench/internal/optim"
	"github.com/bench-ml/bench/internal/spec"
)

// decodes counts how often the constructor of a Counted component runs.
var decodes = map[string]int{}

func init() {
	optim.Optimizers.Register("CountedSGD", func(p *config.Params) optim.Config {
		decodes["optimizer"]++
		return optim.Config{LR: p.Float("lr", 1e-3, config.Above(0)), Rule: optim.SGD{}}
	})
	// A loss and a miner that keep state (a triplet stream, a sampling
	// miner's stream), decoded as the built-in ones they wrap.
	loss.Losses.Register("CountedLoss", func(p *config.Params) loss.Loss {
		decodes["loss"]++
		return config.BuildNested(p, loss.Losses, "loss", config.C("TripletMarginLoss", map[string]any{"triplets_per_anchor": 2}))
	})
	miner.Miners.Register("CountedMiner", func(p *config.Params) miner.Miner {
		decodes["miner"]++
		return config.BuildNested(p, miner.Miners, "miner", config.C("DistanceWeightedMiner", nil))
	})
}

// TestComponentsDecodedOncePerRun: the trunk optimiser's, the loss's and
// the miner's configs are decoded once for the run, however many folds
// (and the check of the first fold before the folder is created) take
// their instances from them, and the optimiser's lr reaches the optimiser.
func TestComponentsDecodedOncePerRun(t *testing.T) {
	o := spec.Options{ExperimentName: "counted", RootExperimentFolder: t.TempDir(), RootConfigFolder: "../../configs",
		ConfigNames: map[string][]string{"config_general": {"default", "smoke"}}, Out: io.Discard,
		Overrides: []config.Override{
			{Key: "num_epochs_train", Value: "1"},
			{Key: "iterations_per_epoch", Value: "2"},
			{Key: "check_untrained_accuracy", Value: "false"},
			{Key: "optimizers.trunk_optimizer~OVERRIDE~", Value: "{CountedSGD: {lr: 0.01}}"},
			{Key: "loss_funcs~OVERRIDE~", Value: "{metric_loss: {CountedLoss: {}}}"},
			{Key: "mining_funcs~OVERRIDE~", Value: "{tuple_miner: {CountedMiner: {}}}"},
		}}
	clear(decodes)
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"optimizer": 1, "loss": 1, "miner": 1}; !maps.Equal(decodes, want) {
		t.Errorf("configs decoded %v times for 2 folds; want %v", decodes, want)
	}
	losses, err := os.ReadFile(filepath.Join(o.Folder(), "Test50_50_Partitions2_1", "records", "losses.csv"))
	if err != nil {
		t.Fatal(err)
	}
	header, row, _ := strings.Cut(string(losses), "\n")
	columns, values := strings.Split(header, ","), strings.Split(strings.SplitN(row, "\n", 2)[0], ",")
	if i := slices.Index(columns, "lr_trunk"); i < 0 || i >= len(values) || values[i] != "0.01" {
		t.Errorf("losses.csv %q, first row %q: want lr_trunk 0.01", header, row)
	}
}
