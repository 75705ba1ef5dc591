package trainer

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/nn"
)

// TestDAMLPhases is PML's update_loss_weights and step_optimizers for
// metric_alone_epochs 2, g_alone_epochs 1.
func TestDAMLPhases(t *testing.T) {
	cfg := DeepAdversarialMetricLearning{MetricAloneEpochs: 2, GAloneEpochs: 1}
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
		p := &daml{cfg: cfg}
		p.phase = cfg.phaseOf(tc.epoch)
		for _, name := range []string{"metric_loss", "classifier_loss", "g_hard_loss", "g_reg_loss", "g_adv_loss", "synth_loss"} {
			if got, want := p.Uses(name), slices.Contains(tc.losses, name); got != want {
				t.Errorf("epoch %d: %s weighted %v; want %v", tc.epoch, name, got, want)
			}
		}
		for _, g := range []string{"trunk", "embedder", "classifier", "generator"} {
			if got, want := p.Steps(g), slices.Contains(tc.groups, g); got != want {
				t.Errorf("epoch %d: %s_optimizer steps %v; want %v", tc.epoch, g, got, want)
			}
		}
	}
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
	d := &daml{cfg: DeepAdversarialMetricLearning{GTripletsPerAnchor: 2}, rand: (&Fold{Seed: 1}).Rand("g_triplets")}
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
	f := &Fold{Weights: map[string]float64{"g_hard_loss": 0.3}}
	value := func() (float64, *Step) {
		s := &Step{Fold: f, behaviour: MetricLossOnly{}, Parts: map[string]float64{}}
		s.addNormalizedMSE("g_hard_loss", synth, trunk, idx, dim)
		return s.Total, s
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
	}{{"synth", synth, l.DSynth}, {"trunk", trunk, l.DTrunk}} {
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
