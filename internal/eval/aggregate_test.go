package eval_test

import (
	"math"
	"slices"
	"testing"

	"github.com/bench-ml/bench/internal/eval"
)

func TestAggregate(t *testing.T) {
	folds := []map[string]float64{
		{"p": 0.5, "q": 1, "only_first": 0.3},
		{"p": 0.6, "q": 1},
		{"p": 0.7, "q": 1},
		{"p": 0.8, "q": 1, "AMI": -0.2, "low": 0.01},
		{"AMI": 0, "low": 0.2},
	}
	got := eval.Aggregate(folds)
	// p: mean 0.65; sample variance (0.15²+0.05²+0.05²+0.15²)/3 = 0.05/3;
	// SE = sqrt(0.05/3)/2; t(0.975, 3 dof) = 3.182446305284263.
	se := math.Sqrt(0.05/3) / 2
	const t3 = 3.182446305284263
	want := map[string]eval.Summary{
		"p":          {Mean: 0.65, StdErr: se, HalfWidth: t3 * se, CILow: 0.65 - t3*se, CIHigh: 0.65 + t3*se, N: 4},
		"q":          {Mean: 1, StdErr: 0, HalfWidth: 0, CILow: 1, CIHigh: 1, N: 4},
		"only_first": {Mean: 0.3, StdErr: math.NaN(), HalfWidth: math.NaN(), CILow: math.NaN(), CIHigh: math.NaN(), N: 1},
		// Two folds: SE 0.095, t(0.975, 1 dof) = 12.706204736174694; the
		// interval is clipped to [0, 1], the half-width is not.
		"low": {Mean: 0.105, StdErr: 0.095, HalfWidth: 12.706204736174694 * 0.095, CILow: 0, CIHigh: 1, N: 2},
		// AMI can be negative: clipped to [-1, 1].
		"AMI": {Mean: -0.1, StdErr: 0.1, HalfWidth: 12.706204736174694 * 0.1, CILow: -1, CIHigh: 1, N: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12 || (math.IsNaN(a) && math.IsNaN(b)) }
	for k, w := range want {
		g := got[k]
		if g.N != w.N || !near(g.Mean, w.Mean) || !near(g.StdErr, w.StdErr) || !near(g.HalfWidth, w.HalfWidth) || !near(g.CILow, w.CILow) || !near(g.CIHigh, w.CIHigh) {
			t.Errorf("%s: got %+v, want %+v", k, g, w)
		}
	}
}

func TestConcatenate(t *testing.T) {
	a := []float32{3, 4, 0, 2}       // 2 x 2
	b := []float32{1, 0, 0, 0, 0, 5} // 2 x 3
	got, dim, err := eval.Concatenate([][]float32{a, b}, []int{2, 3}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0.6, 0.8, 1, 0, 0, 0, 1, 0, 0, 1}
	if dim != 5 || !slices.Equal(got, want) {
		t.Errorf("got %v (dim %d), want %v (dim 5)", got, dim, want)
	}
	// normalize_embeddings: false concatenates the embeddings as they are.
	if got, _, _ := eval.Concatenate([][]float32{a, b}, []int{2, 3}, false); !slices.Equal(got, []float32{3, 4, 1, 0, 0, 0, 2, 0, 0, 5}) {
		t.Errorf("unnormalised: got %v", got)
	}
	if _, _, err := eval.Concatenate([][]float32{a, b[:3]}, []int{2, 3}, true); err == nil {
		t.Error("folds of 2 and 1 rows: no error")
	}
	if _, _, err := eval.Concatenate([][]float32{a}, []int{3}, true); err == nil {
		t.Error("4 values of dimension 3: no error")
	}
}
