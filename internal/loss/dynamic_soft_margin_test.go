package loss

import (
	"math"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/golden"
)

// TestDynamicSoftMarginLossSecondBatch makes the two calls of PML's case
// 084 (TestGolden checks the second's value and gradient): the second value
// depends on the first batch, and a Fresh copy forgets it.
func TestDynamicSoftMarginLossSecondBatch(t *testing.T) {
	file := golden.Path(t, "testdata", "pml", "losses", "084_DynamicSoftMarginLoss.json")
	var c struct {
		golden.LossCase
		Before []struct {
			Labels     []int       `json:"labels"`
			Embeddings [][]float64 `json:"embeddings"`
		} `json:"before"`
	}
	if err := golden.Load(file, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Before) != 1 {
		t.Fatalf("%d earlier batches, want 1", len(c.Before))
	}
	l := buildGoldenLoss(t, file, &c.LossCase)
	n, d := len(c.Embeddings), len(c.Embeddings[0])
	emb, first := golden.Flatten(c.Embeddings), golden.Flatten(c.Before[0].Embeddings)
	compute := func(l Loss, emb []float64, labels []int) float64 {
		v, _, err := l.Compute(emb, n, d, labels, nil)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	compute(l, first, c.Before[0].Labels)
	second := compute(l, emb, c.Labels)
	if !c.Tolerance.Close(second, c.Expected.Value) {
		t.Errorf("second call %.17g, want PML's %.17g", second, c.Expected.Value)
	}
	alone := compute(config.Instance(l), emb, c.Labels)
	if math.Abs(alone-second) < 1e-3*math.Abs(second) {
		t.Errorf("the batch alone gives %v, as after the first batch (%v): the case proves no state", alone, second)
	}
}

// TestDynamicSoftMarginLossBeyondBins: where PML fails with an index error
// (x = d_ap - d_an past the last bin's start, or below min_val), x falls in
// the last (first) bin, with weight CDF = 1 (the first bin's share).
func TestDynamicSoftMarginLossBeyondBins(t *testing.T) {
	// Triplet (0, 1, 2) has x = |e0 - e1| - |e0 - e2|, near 2: past 1.6.
	emb := []float64{1, 0, -1, 0.05, 1, 0.02}
	labels := []int{0, 0, 1}
	l, _, err := Losses.Build(config.C("DynamicSoftMarginLoss", nil))
	if err != nil {
		t.Fatal(err)
	}
	value, grad, err := l.Compute(emb, 3, 2, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFinite(t, value, grad, nil)
	unit := func(x, y float64) [2]float64 { r := math.Hypot(x, y); return [2]float64{x / r, y / r} }
	e0, e1, e2 := unit(1, 0), unit(-1, 0.05), unit(1, 0.02)
	dist := func(a, b [2]float64) float64 { return math.Hypot(a[0]-b[0], a[1]-b[1]) }
	x0 := dist(e0, e1) - dist(e0, e2) // in the last bin, CDF 1
	x1 := dist(e1, e0) - dist(e1, e2) // near 0: the middle bins
	if x0 < 1.6 || x1 >= 1.6 {
		t.Fatalf("x %v, %v: the batch does not test the last bin", x0, x1)
	}
	// The histogram: x0 all in bin 9, x1 split between its bin and the next,
	// each of weight 1/2; CDF at x1's bin leaves out its share of the next.
	pos := (x1 + 2) / 0.4
	cdf1 := 0.5 * (1 - (pos - math.Floor(pos)))
	if want := (x0 + cdf1*x1) / 2; math.Abs(value-want) > 1e-12 {
		t.Errorf("value %.15g, want %.15g", value, want)
	}
	f := func() float64 {
		v, _, err := config.Instance(l).Compute(emb, 3, 2, labels, nil)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	checkFiniteDifference(t, "embeddings", emb, grad, f)
}
