package loss

import (
	"path/filepath"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/golden"
)

// TestGolden checks every loss case computed with PML: value, gradient with
// respect to the embeddings and to the loss's weights. Loss+miner cases feed
// the stored mined indices to the loss. testdata/pml holds the cases of
// components added since testdata/golden, in its schema
// (testdata/pml/generate.py). A case of a stateful loss may list batches
// the same loss saw before ("before"); its expected values are those of the
// call after them.
func TestGolden(t *testing.T) {
	var files []string
	for _, dir := range []string{golden.Require(t), golden.Path(t, "testdata", "pml")} {
		fs, err := golden.Files(dir, "losses")
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	for _, file := range files {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(file)))+"/"+filepath.Base(file), func(t *testing.T) {
			var c golden.LossCase
			if err := golden.Load(file, &c); err != nil {
				t.Fatal(err)
			}
			l := buildGoldenLoss(t, file, &c)
			n, d := len(c.Embeddings), len(c.Embeddings[0])
			if c.Weights != nil {
				ws := l.Weights()
				if len(ws) != 1 || ws[0].Name != c.Weights.Name || !equalInts(ws[0].Shape, c.Weights.Shape) {
					t.Fatalf("weights %v, want one %q of shape %v", describeWeights(ws), c.Weights.Name, c.Weights.Shape)
				}
				copy(ws[0].Value, golden.Flatten(c.Weights.Value))
			}
			var earlier struct {
				Before []struct {
					Labels     []int       `json:"labels"`
					Embeddings [][]float64 `json:"embeddings"`
				} `json:"before"`
			}
			if err := golden.Load(file, &earlier); err != nil {
				t.Fatal(err)
			}
			for _, e := range earlier.Before {
				if _, _, err := l.Compute(golden.Flatten(e.Embeddings), len(e.Embeddings), d, e.Labels, nil); err != nil {
					t.Fatal(err)
				}
			}
			value, grad, err := l.Compute(golden.Flatten(c.Embeddings), n, d, c.Labels, goldenTuples(c.Expected.MinerIndices))
			if err != nil {
				t.Fatal(err)
			}
			tol := c.Tolerance
			if !tol.Close(value, c.Expected.Value) {
				t.Errorf("value %.17g, want %.17g", value, c.Expected.Value)
			}
			compareSlices(t, "grad", grad, golden.Flatten(c.Expected.Grad), tol)
			if c.Weights != nil {
				compareSlices(t, c.Weights.Name+" grad", l.Weights()[0].Grad, golden.Flatten(c.Expected.WeightsGrad), tol)
			}
		})
	}
}

// buildGoldenLoss builds the case's loss with its distance and reducer.
func buildGoldenLoss(t *testing.T, file string, c *golden.LossCase) Loss {
	t.Helper()
	comp, err := config.ParseComponent(c.Loss, "loss", file)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]any{}
	for k, v := range comp.Params {
		params[k] = v
	}
	if c.Distance != nil {
		params["distance"] = c.Distance
	}
	if c.Reducer != nil {
		params["reducer"] = c.Reducer
	}
	comp.Params = params
	l, _, err := Losses.Build(comp)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// goldenTuples turns stored miner indices into Tuples (nil without a miner).
func goldenTuples(idx map[string][]int) *Tuples {
	switch {
	case idx == nil:
		return nil
	case idx["anchor"] != nil:
		return &Tuples{Triplets: true, Anchor: idx["anchor"], Positive: idx["positive"], Negative: idx["negative"]}
	}
	return &Tuples{A1: idx["a1"], P: idx["p"], A2: idx["a2"], N: idx["n"]}
}

func compareSlices(t *testing.T, what string, got, want []float64, tol golden.Tolerance) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", what, len(got), len(want))
		return
	}
	bad := 0
	for i := range got {
		if !tol.Close(got[i], want[i]) {
			if bad < 5 {
				t.Errorf("%s[%d] = %.17g, want %.17g", what, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d of %d values differ", what, bad, len(got))
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func describeWeights(ws []*Weight) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Name)
	}
	return out
}
