package train

import (
	"context"
	"slices"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/spec"
)

// TestDAMLStepsOnlyThePhasesOptimizers trains one iteration of each phase
// of a tiny DAML run and checks which parameter groups changed.
func TestDAMLStepsOnlyThePhasesOptimizers(t *testing.T) {
	f := tinyFold(t,
		config.Override{Key: "trainer~OVERRIDE~", Value: "{DeepAdversarialMetricLearning: {metric_alone_epochs: 1, g_alone_epochs: 1, g_triplets_per_anchor: 3}}"},
		config.Override{Key: "models", Value: "{classifier: {MLP: {layer_sizes: []}}}"},
		config.Override{Key: "loss_funcs", Value: "{classifier_loss: {CrossEntropyLoss: {}}}"},
		config.Override{Key: "optimizers", Value: "{classifier_optimizer: {Adam: {lr: 0.01}}}"},
	)
	snapshot := func() map[string][]float32 {
		out := map[string][]float32{}
		for g, params := range f.Model.Groups() {
			for _, p := range params {
				out[g] = append(out[g], p.Value...)
			}
		}
		return out
	}
	for epoch, want := range [][]string{1: {"trunk", "embedder", "classifier"}, 2: {"generator"}, 3: {"trunk", "embedder", "classifier", "generator"}} {
		if epoch == 0 {
			continue
		}
		before := snapshot()
		if err := f.trainEpoch(context.Background(), epoch); err != nil {
			t.Fatal(err)
		}
		after := snapshot()
		for _, g := range []string{"trunk", "embedder", "classifier", "generator"} {
			if changed := !slices.Equal(before[g], after[g]); changed != slices.Contains(want, g) {
				t.Errorf("epoch %d: %s changed %v; want %v", epoch, g, changed, !changed)
			}
		}
	}
}

// tinyFold is the first fold of the smoke config with the given overrides,
// one iteration per epoch.
func tinyFold(t *testing.T, overrides ...config.Override) *fold {
	t.Helper()
	overrides = append([]config.Override{
		{Key: "iterations_per_epoch", Value: "1"},
		{Key: "batch_size", Value: "8"},
		{Key: "sampler", Value: "{MPerClassSampler: {m: 2}}"},
	}, overrides...)
	_, s, err := spec.Resolve(spec.Options{RootConfigFolder: "../../configs",
		ConfigNames: map[string][]string{"config_general": {"default", "smoke", "daml"}}, Overrides: overrides})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := s.Dataset("")
	if err != nil {
		t.Fatal(err)
	}
	splits, err := s.SplitManager.Splits(data.Labels(ds))
	if err != nil {
		t.Fatal(err)
	}
	e, err := newEnv(s, ds)
	if err != nil {
		t.Fatal(err)
	}
	folder, err := record.Create(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	f, err := newFold(e, folder, splits[0], newLogger(nil, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	return f
}
