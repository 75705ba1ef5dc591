package trainer

import (
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/miner"
	"github.com/bench-ml/bench/internal/nn"
)

// twoStreamStep is a step on anchors a0 = (1, 0) of class 0, a1 = (0, 1)
// of class 1 and their posnegs p0 = (.6, .8), p1 = (.8, .6), stacked as
// the trainer's batch: rows a0, a1, p0, p1, labels 0, 1, 0, 1.
func twoStreamStep(t *testing.T, miners map[string]miner.Miner) (*Step, *Fold) {
	t.Helper()
	m, err := nn.New(nn.Config{Trunk: must(nn.Trunks.Build(config.C("Identity", nil))), InputShape: []int{2}, BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	f := &Fold{Model: m, Miners: miners,
		Losses:  map[string]loss.Loss{"metric_loss": must(loss.Losses.Build(config.C("TripletMarginLoss", nil)))},
		Weights: map[string]float64{"metric_loss": 1}}
	emb := []float32{1, 0, 0, 1, .6, .8, .8, .6}
	return NewStep(f, TwoStreamMetricLoss{}, nn.Outputs[float32]{Emb: emb}, []int{0, 1, 0, 1}), f
}

// Without a miner the triplets are (a0, p0, p1) and (a1, p1, p0): rows
// (0, 2, 3) and (1, 3, 2) of the stack. Both lose
// relu(d_ap - d_an + .05) = √.8 - √.4 + .05 (TripletMarginLoss's
// defaults, unit vectors), averaged over the non-zero ones.
func TestTwoStreamMetricLossAllTriplets(t *testing.T) {
	s, f := twoStreamStep(t, nil)
	if err := (TwoStreamMetricLoss{}).Losses(s); err != nil {
		t.Fatal(err)
	}
	if want := math.Sqrt(.8) - math.Sqrt(.4) + .05; math.Abs(s.Total-want) > 1e-6 {
		t.Errorf("loss %v, want %v", s.Total, want)
	}
	// The gradient is the loss's on the stack with those triplets.
	stacked := &loss.Tuples{Triplets: true, Anchor: []int{0, 1}, Positive: []int{2, 3}, Negative: []int{3, 2}}
	_, g, err := f.Losses["metric_loss"].Compute(s.Emb, 4, 2, s.Labels, stacked)
	if err != nil {
		t.Fatal(err)
	}
	for i := range g {
		if math.Abs(s.DEmb[i]-g[i]) > 1e-12 {
			t.Fatalf("gradient %v, want %v", s.DEmb, g)
		}
	}
}

// With TripletMarginMiner (margin .3, "all") the anchors are mined against
// the posnegs: d_an - d_ap = √.4 - √.8 < .3 for both triplets, so both are
// kept and counted, with the loss of the unmined step; with margin -.3
// (keep d_an - d_ap <= -.3: √.4 - √.8 ≈ -.262) none is, and the loss is 0.
func TestTwoStreamMetricLossMined(t *testing.T) {
	for _, c := range []struct {
		margin   float64
		triplets float64
		loss     float64
	}{
		{.3, 2, math.Sqrt(.8) - math.Sqrt(.4) + .05},
		{-.3, 0, 0},
	} {
		tm := must(miner.Miners.Build(config.C("TripletMarginMiner", map[string]any{"margin": c.margin})))
		s, _ := twoStreamStep(t, map[string]miner.Miner{"tuple_miner": tm})
		if err := (TwoStreamMetricLoss{}).Losses(s); err != nil {
			t.Fatal(err)
		}
		if s.Parts["tuple_miner_triplets"] != c.triplets || math.Abs(s.Total-c.loss) > 1e-6 {
			t.Errorf("margin %v: %v triplets, loss %v; want %v, %v", c.margin, s.Parts["tuple_miner_triplets"], s.Total, c.triplets, c.loss)
		}
	}
}

// PML's shift_indices_tuple: positives and negatives move by n, anchors
// stay.
func TestShiftRefs(t *testing.T) {
	got := shiftRefs(&loss.Tuples{A1: []int{0, 1}, P: []int{1, 0}, A2: []int{2}, N: []int{0}}, 3)
	want := &loss.Tuples{A1: []int{0, 1}, P: []int{4, 3}, A2: []int{2}, N: []int{3}}
	if !maps.EqualFunc(miner.Indices(got), miner.Indices(want), slices.Equal) {
		t.Errorf("got %v, want %v", miner.Indices(got), miner.Indices(want))
	}
}
