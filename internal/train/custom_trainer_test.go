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
	"github.com/bench-ml/bench/internal/trainer"
)

// embeddingNorm is a trainer only this test knows: MetricLossOnly plus
// weight times the batch's mean squared embedding norm, recorded as
// norm_penalty. Adding it takes this type and the registry line in init.
type embeddingNorm struct {
	trainer.MetricLossOnly
	weight float64
}

// decodes counts how often the constructor of a Counted component runs.
var decodes = map[string]int{}

func init() {
	trainer.Trainers.Register("EmbeddingNormPenalty", func(p *config.Params) trainer.Trainer {
		return embeddingNorm{weight: p.Float("weight", 0.1, config.Min(0))}
	})
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

func (t embeddingNorm) Start(*trainer.Fold) (trainer.Behaviour, error) { return t, nil }

func (t embeddingNorm) Losses(s *trainer.Step) error {
	if err := t.MetricLossOnly.Losses(s); err != nil {
		return err
	}
	n := float64(len(s.Labels))
	var sum float64
	g := make([]float64, len(s.Emb))
	for i, v := range s.Emb {
		sum += v * v
		g[i] = 2 * v / n
	}
	s.Total += t.weight * sum / n
	s.Parts["norm_penalty"] = sum / n
	trainer.Accumulate(&s.DEmb, g, t.weight)
	return nil
}

// A trainer registered from outside the trainer package is chosen by its
// config name, validated like the built-in ones, trained by Run and saved
// with its resolved parameters. The trunk optimiser's, the loss's and the
// miner's configs are decoded once for the run, however many folds (and
// the check of the first fold before the folder is created) take their
// instances from them, and the optimiser's lr reaches the optimiser.
func TestRegisteredTrainerRunsFromConfig(t *testing.T) {
	options := func(trainerYAML string) spec.Options {
		return spec.Options{ExperimentName: "custom", RootExperimentFolder: t.TempDir(), RootConfigFolder: "../../configs",
			ConfigNames: map[string][]string{"config_general": {"default", "smoke"}}, Out: io.Discard,
			Overrides: []config.Override{
				{Key: "trainer~OVERRIDE~", Value: trainerYAML, Source: "--trainer~OVERRIDE~"},
				{Key: "num_epochs_train", Value: "1"},
				{Key: "iterations_per_epoch", Value: "2"},
				{Key: "check_untrained_accuracy", Value: "false"},
				{Key: "optimizers.trunk_optimizer~OVERRIDE~", Value: "{CountedSGD: {lr: 0.01}}"},
				{Key: "loss_funcs~OVERRIDE~", Value: "{metric_loss: {CountedLoss: {}}}"},
				{Key: "mining_funcs~OVERRIDE~", Value: "{tuple_miner: {CountedMiner: {}}}"},
			}}
	}
	err := Run(context.Background(), options("{EmbeddingNormPenalty: {weight: -1}}"))
	if err == nil || !strings.Contains(err.Error(), "trainer.EmbeddingNormPenalty.weight") {
		t.Fatalf("a negative weight: want an error naming trainer.EmbeddingNormPenalty.weight, got %v", err)
	}
	o := options("{EmbeddingNormPenalty: {}}")
	clear(decodes)
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"optimizer": 1, "loss": 1, "miner": 1}; !maps.Equal(decodes, want) {
		t.Errorf("configs decoded %v times for 2 folds; want %v", decodes, want)
	}
	losses, err := os.ReadFile(filepath.Join(o.Folder(), "Test50_50_Partitions2_0", "records", "losses.csv"))
	if err != nil {
		t.Fatal(err)
	}
	header, row, _ := strings.Cut(string(losses), "\n")
	if !strings.Contains(header, "norm_penalty") || !strings.Contains(header, "metric_loss") {
		t.Errorf("losses.csv records %q; want norm_penalty and metric_loss", header)
	}
	columns, values := strings.Split(header, ","), strings.Split(strings.SplitN(row, "\n", 2)[0], ",")
	if i := slices.Index(columns, "lr_trunk"); i < 0 || i >= len(values) || values[i] != "0.01" {
		t.Errorf("losses.csv %q, first row %q: want lr_trunk 0.01", header, row)
	}
	general, err := os.ReadFile(filepath.Join(o.Folder(), "configs", "config_general.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(general), "EmbeddingNormPenalty") || !strings.Contains(string(general), "weight: 0.1") {
		t.Errorf("saved config_general.yaml lacks the trainer and its default weight:\n%s", general)
	}
}
