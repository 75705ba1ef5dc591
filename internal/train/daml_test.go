package train

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/experiment"
	"github.com/bench-ml/bench/internal/nn"
	"github.com/bench-ml/bench/internal/record"
)

// TestDAMLPhases is PML's update_loss_weights and step_optimizers for
// metric_alone_epochs 2, g_alone_epochs 1.
func TestDAMLPhases(t *testing.T) {
	cfg := experiment.DAML{MetricAloneEpochs: 2, GAloneEpochs: 1}
	for _, tc := range []struct {
		epoch  int
		losses []string
		groups []string
	}{
		{1, []string{"metric_loss", "classifier_loss"}, []string{"trunk", "embedder", "classifier"}},
		{2, []string{"metric_loss", "classifier_loss"}, []string{"trunk", "embedder", "classifier"}},
		{3, []string{"g_hard_loss", "g_reg_loss", "g_adv_loss"}, []string{"generator"}},
		{4, []string{"metric_loss", "classifier_loss", "g_hard_loss", "g_reg_loss", "g_adv_loss", "synth_loss"},
			[]string{"trunk", "embedder", "classifier", "generator"}},
	} {
		p := phaseOf(cfg, tc.epoch)
		for _, name := range []string{"metric_loss", "classifier_loss", "g_hard_loss", "g_reg_loss", "g_adv_loss", "synth_loss"} {
			if got, want := p.uses(name), slices.Contains(tc.losses, name); got != want {
				t.Errorf("epoch %d: %s weighted %v; want %v", tc.epoch, name, got, want)
			}
		}
		for _, g := range []string{"trunk", "embedder", "classifier", "generator"} {
			if got, want := p.steps(g), slices.Contains(tc.groups, g); got != want {
				t.Errorf("epoch %d: %s_optimizer steps %v; want %v", tc.epoch, g, got, want)
			}
		}
	}
}

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
		for g, params := range f.model.Groups() {
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
	_, spec, err := experiment.Resolve(experiment.Options{RootConfigFolder: "../../configs",
		ConfigNames: map[string][]string{"config_general": {"default", "smoke", "daml"}}, Overrides: overrides})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := spec.Dataset("")
	if err != nil {
		t.Fatal(err)
	}
	splits, err := spec.SplitManager.Splits(ds)
	if err != nil {
		t.Fatal(err)
	}
	e, err := newEnv(spec, ds)
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

// TestSampleTriplets checks PML's random triplets: k per anchor, positives
// of the anchor's class (distinct while there are enough), negatives of
// another class; and the error for an anchor without a positive.
func TestSampleTriplets(t *testing.T) {
	cfg := nn.Config{
		Trunk:       must(nn.Trunks.Build(config.C("Identity", nil))),
		Generator:   must(nn.Generators.Build(config.C("MLP", nil))),
		InputShape:  []int{3},
		BatchSize:   6,
		NumTriplets: 6 * 2,
	}
	m, err := nn.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := newDAML(experiment.DAML{GTripletsPerAnchor: 2}, 1)
	labels := []int{0, 0, 0, 1, 1, 2}
	if err := d.sampleTriplets(m, labels); err == nil {
		t.Error("anchor 5 has no positive: no error")
	}
	labels = []int{0, 0, 0, 1, 1, 1}
	if err := d.sampleTriplets(m, labels); err != nil {
		t.Fatal(err)
	}
	tr := d.triplets
	for i := range tr.A {
		a, p, n := tr.A[i], tr.P[i], tr.N[i]
		if a != i/2 || p == a || labels[p] != labels[a] || labels[n] == labels[a] {
			t.Errorf("triplet %d: (%d, %d, %d) for labels %v", i, a, p, n, labels)
		}
		if i%2 == 1 && tr.P[i-1] == p {
			t.Errorf("anchor %d: positive %d twice with 2 to choose from", a, p)
		}
	}
}

func must[T any](v T, _ map[string]any, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestNormalizedMSEGradient checks g_hard_loss's gradient with respect to
// the synthetic negatives and the trunk outputs by central differences.
func TestNormalizedMSEGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const dim = 4
	idx := []int{0, 2, 2}
	synth, trunk := make([]float64, len(idx)*dim), make([]float64, 3*dim)
	for _, x := range [][]float64{synth, trunk} {
		for i := range x {
			x[i] = rng.NormFloat64()
		}
	}
	f := &fold{env: &env{spec: &experiment.Spec{LossWeights: map[string]float64{"g_hard_loss": 0.3}}}}
	value := func() (float64, *stepLosses) {
		l := &stepLosses{f: f, parts: map[string]float64{}}
		l.addNormalizedMSE("g_hard_loss", synth, trunk, idx, dim)
		return l.total, l
	}
	v, l := value()
	// Known value: 0.3 * mean over rows and columns of (u - v)^2.
	var want float64
	for i, r := range idx {
		u, _ := normalize(synth[i*dim : (i+1)*dim])
		w, _ := normalize(trunk[r*dim : (r+1)*dim])
		for j := range u {
			want += (u[j] - w[j]) * (u[j] - w[j])
		}
	}
	if want *= 0.3 / float64(len(idx)*dim); math.Abs(v-want) > 1e-12 {
		t.Errorf("value %v; want %v", v, want)
	}
	for _, c := range []struct {
		name string
		x, g []float64
	}{{"synth", synth, l.dSynth}, {"trunk", trunk, l.dTrunk}} {
		for i, x0 := range c.x {
			const h = 1e-6
			c.x[i] = x0 + h
			lp, _ := value()
			c.x[i] = x0 - h
			lm, _ := value()
			c.x[i] = x0
			if fd := (lp - lm) / (2 * h); math.Abs(fd-c.g[i]) > 1e-8 {
				t.Errorf("d/d%s[%d]: %v; finite difference %v", c.name, i, c.g[i], fd)
			}
		}
	}
}
