package eval_test

import (
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/bench-ml/bench/internal/eval"
)

func TestAggregate(t *testing.T) {
	folds := []map[string]float64{
		{"p": 0.5, "q": 1, "only_first": 3},
		{"p": 0.6, "q": 1},
		{"p": 0.7, "q": 1},
		{"p": 0.8, "q": 1},
	}
	got := eval.Aggregate(folds)
	// p: mean 0.65; sample variance (0.15²+0.05²+0.05²+0.15²)/3 = 0.05/3;
	// SE = sqrt(0.05/3)/2; t(0.975, 3 dof) = 3.182446305284263.
	se := math.Sqrt(0.05/3) / 2
	const t3 = 3.182446305284263
	want := map[string]eval.Summary{
		"p":          {Mean: 0.65, StdErr: se, CILow: 0.65 - t3*se, CIHigh: 0.65 + t3*se, N: 4},
		"q":          {Mean: 1, StdErr: 0, CILow: 1, CIHigh: 1, N: 4},
		"only_first": {Mean: 3, StdErr: math.NaN(), CILow: math.NaN(), CIHigh: math.NaN(), N: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12 || (math.IsNaN(a) && math.IsNaN(b)) }
	for k, w := range want {
		g := got[k]
		if g.N != w.N || !near(g.Mean, w.Mean) || !near(g.StdErr, w.StdErr) || !near(g.CILow, w.CILow) || !near(g.CIHigh, w.CIHigh) {
			t.Errorf("%s: got %+v, want %+v", k, g, w)
		}
	}
	b, err := json.Marshal(got["only_first"])
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); s != `{"mean":3,"std_err":null,"ci_low":null,"ci_high":null,"n":1}` {
		t.Errorf("JSON of a one-fold summary: %s", s)
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
