package miner

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// Anchors a0 = (1, 0) of class 0 and a1 = (0, 1) of class 1 against
// references r0 = (1, 0) and r2 = (.6, .8) of class 0, r1 = (0, 1) of class
// 1. Euclidean distances of the unit vectors: d(a0, r0) = d(a1, r1) = 0,
// d(a0, r1) = d(a1, r0) = √2, d(a0, r2) = √.8 ≈ .894, d(a1, r2) = √.4 ≈ .632.
// A reference at the anchor's own row number is a positive, as PML's
// TwoStreamMetricLoss mines with ref_labels = labels.clone().
var (
	refAnchors       = []float64{1, 0, 0, 1}
	refAnchorLabels  = []int{0, 1}
	refRefs          = []float64{1, 0, 0, 1, .6, .8}
	refRefLabels     = []int{0, 1, 0}
	refMinerExamples = []struct {
		miner map[string]any
		want  map[string][]int
	}{
		// d_an - d_ap <= 1.5: anchor 0 keeps (r0, r1): √2 and (r2, r1):
		// √2-√.8; anchor 1 keeps (r1, r0): √2 and (r1, r2): √.4.
		{map[string]any{"TripletMarginMiner": map[string]any{"margin": 1.5}},
			map[string][]int{"anchor": {0, 0, 1, 1}, "positive": {0, 2, 1, 1}, "negative": {1, 1, 0, 2}}},
		// Margin 0.7 keeps (r2, r1) of anchor 0 (√2-√.8 ≈ .52) and (r1, r2)
		// of anchor 1 (√.4 ≈ .632).
		{map[string]any{"TripletMarginMiner": map[string]any{"margin": 0.7}},
			map[string][]int{"anchor": {0, 1}, "positive": {2, 1}, "negative": {1, 2}}},
		// The farthest positive and the nearest negative of each anchor;
		// anchor 1's only positive is r1, its own row.
		{map[string]any{"BatchHardMiner": map[string]any{}},
			map[string][]int{"anchor": {0, 1}, "positive": {2, 1}, "negative": {1, 2}}},
		// Positive pairs farther than .5, negative pairs nearer than 1.
		{map[string]any{"PairMarginMiner": map[string]any{"pos_margin": 0.5, "neg_margin": 1.0}},
			map[string][]int{"a1": {0}, "p": {2}, "a2": {1}, "n": {2}}},
		// Of the 3 positive pairs the ceil(.3 * 3) = 1 farthest, (a0, r2) at
		// √.8; of the 3 negative pairs the nearest, (a1, r2) at √.4.
		{map[string]any{"HDCMiner": map[string]any{"filter_percentage": 0.3}},
			map[string][]int{"a1": {0}, "p": {2}, "a2": {1}, "n": {2}}},
		// Negatives at d >= nonzero_loss_cutoff 1.4 weigh 0: anchor 0's
		// only negative, r1 at √2, leaves it no triplet; anchor 1 draws one
		// triplet per reference of its class (r1), its negative r2 (r0 at
		// √2 weighs 0), whatever the random draws.
		{map[string]any{"DistanceWeightedMiner": map[string]any{}},
			map[string][]int{"anchor": {1}, "positive": {1}, "negative": {2}}},
	}
)

func TestMineRefHandWorked(t *testing.T) {
	for _, c := range refMinerExamples {
		comp, err := config.ParseComponent(c.miner, "mining_funcs.tuple_miner", "test")
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := Miners.Build(comp)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.(RefMiner).MineRef(refAnchors, 2, refAnchorLabels, refRefs, 3, refRefLabels, 2)
		if err != nil {
			t.Fatalf("%v: %v", c.miner, err)
		}
		if g := Indices(got); !equalIndices(g, c.want) {
			t.Errorf("%v: got %v, want %v", c.miner, g, c.want)
		}
	}
}

func equalIndices(got, want map[string][]int) bool {
	return maps.EqualFunc(got, want, slices.Equal)
}

// References that do not fill their shape are an error naming them.
func TestMineRefErrors(t *testing.T) {
	m := buildDefault(t, "TripletMarginMiner").(RefMiner)
	if _, err := m.MineRef(refAnchors, 2, refAnchorLabels, refRefs[:5], 3, refRefLabels, 2); err == nil || !strings.Contains(err.Error(), "references") {
		t.Errorf("5 reference values for 3 x 2: %v", err)
	}
}
