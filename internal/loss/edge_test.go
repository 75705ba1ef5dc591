package loss

import (
	"math"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// needsBoth are the losses that are 0 on a batch without a positive pair
// or without a negative pair.
var needsBoth = []string{"TripletMarginLoss", "MarginLoss", "NTXentLoss", "SupConLoss", "CircleLoss",
	"LiftedStructureLoss", "FastAPLoss", "TupletMarginLoss", "NCALoss", "AngularLoss", "PNPLoss", "HistogramLoss", "DynamicSoftMarginLoss"}

// TestEdgeBatches: degenerate batches give finite losses, and 0 with a zero
// gradient where nothing can be compared.
func TestEdgeBatches(t *testing.T) {
	emb, _, d, _ := testBatch(2)
	for _, c := range []struct {
		name   string
		labels []int
	}{
		{"no positive pairs", []int{0, 1, 2, 3, 4, 5}},
		{"one class", []int{2, 2, 2, 2, 2, 2}},
		{"one element", []int{1}},
	} {
		n := len(c.labels)
		for _, name := range Losses.Names() {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				l, _, _, _, _ := buildForTest(t, defaultsOf(name))
				e, dim := emb[:n*d], d
				if name == "CrossEntropyLoss" {
					e, dim = emb[:n*6], 6
				}
				value, grad, err := l.Compute(e, n, dim, c.labels, nil)
				if err != nil {
					t.Fatal(err)
				}
				checkFinite(t, value, grad, l.Weights())
				if contains(needsBoth, name) {
					checkZero(t, value, grad, 1e-12)
				}
			})
		}
	}
}

// TestInactiveHinge: with every class on its own point, far from the others,
// no hinge is active and the losses and their gradients are exactly 0.
func TestInactiveHinge(t *testing.T) {
	labels := []int{0, 0, 1, 1, 2, 2}
	emb := []float64{1, 0, 0, 1, 0, 0, 0, 2, 0, 0, 2, 0, 0, 0, 3, 0, 0, 3}
	for _, name := range []string{"ContrastiveLoss", "TripletMarginLoss", "MarginLoss"} {
		l, _, err := Losses.Build(config.C(name, map[string]any{}))
		if err != nil {
			t.Fatal(err)
		}
		value, grad, err := l.Compute(emb, 6, 3, labels, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) { checkZero(t, value, grad, 0) })
	}
}

// TestLargeMargins: margins and scales large enough to overflow a naive
// exp stay finite, and the loss is then the size of the margin.
func TestLargeMargins(t *testing.T) {
	emb, n, d, labels := testBatch(3)
	for _, c := range []struct {
		loss     config.Component
		min, max float64 // where the value must lie
	}{
		{config.C("ContrastiveLoss", map[string]any{"neg_margin": 1e3}), 999, 1001},
		{config.C("LiftedStructureLoss", map[string]any{"neg_margin": 1e3}), 0.5 * 999 * 999, 0.5 * 1010 * 1010},
		{config.C("GeneralizedLiftedStructureLoss", map[string]any{"neg_margin": 1e3}), 999, 1010},
		{config.C("MultiSimilarityLoss", map[string]any{"beta": 1e4, "base": -2}), 0, 3},
		{config.C("NTXentLoss", map[string]any{"temperature": 1e-4}), 1, math.Inf(1)},
		{config.C("SupConLoss", map[string]any{"temperature": 1e-4}), 1, math.Inf(1)},
		{config.C("TupletMarginLoss", map[string]any{"scale": 1e4}), 1, math.Inf(1)},
		{config.C("TripletMarginLoss", map[string]any{"margin": 1e3}), 999, 1001},
		{config.C("CircleLoss", map[string]any{"gamma": 1e4}), 1, math.Inf(1)},
		{config.C("ProxyAnchorLoss", map[string]any{"alpha": 1e4}), 1, math.Inf(1)},
		{config.C("ArcFaceLoss", map[string]any{"scale": 1e4}), 1, math.Inf(1)},
		{config.C("SubCenterArcFaceLoss", map[string]any{"scale": 1e4}), 1, math.Inf(1)},
		{config.C("LargeMarginSoftmaxLoss", map[string]any{"scale": 1e4, "margin": 30}), 1, math.Inf(1)},
	} {
		t.Run(c.loss.Type, func(t *testing.T) {
			l, _, _, _, _ := buildForTest(t, c.loss)
			value, grad, err := l.Compute(emb, n, d, labels, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkFinite(t, value, grad, l.Weights())
			if value < c.min || value > c.max {
				t.Errorf("value %v, want in [%v, %v]", value, c.min, c.max)
			}
		})
	}
}

func checkFinite(t *testing.T, value float64, grad []float64, weights []*Weight) {
	t.Helper()
	if math.IsNaN(value) || math.IsInf(value, 0) {
		t.Errorf("value %v", value)
	}
	all := map[string][]float64{"embeddings": grad}
	for _, w := range weights {
		all[w.Name] = w.Grad
	}
	for what, g := range all {
		for i, v := range g {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("grad of %s[%d] = %v", what, i, v)
				break
			}
		}
	}
}

func checkZero(t *testing.T, value float64, grad []float64, tol float64) {
	t.Helper()
	if math.Abs(value) > tol {
		t.Errorf("value %v, want 0", value)
	}
	for i, g := range grad {
		if math.Abs(g) > tol {
			t.Errorf("grad[%d] = %v, want 0", i, g)
			break
		}
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
