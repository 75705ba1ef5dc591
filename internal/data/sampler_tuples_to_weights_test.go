package data

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/loss"
)

// Six training items (dataset indices 10..15) on the unit circle: class 0
// at 0°, 10°, 90° and class 1 at 180°, 190°, 100°. BatchHardMiner's
// triplets (farthest positive, nearest negative) by position: (0, 2, 5),
// (1, 2, 5), (2, 0, 5), (3, 5, 2), (4, 5, 2), (5, 4, 2). Counts 2, 1, 6,
// 1, 2, 6, so the weights are 1/3, 1/6, 1, 1/6, 1/3, 1.
var (
	ttwLabels  = labelled{10: 0, 11: 0, 12: 0, 13: 1, 14: 1, 15: 1}
	ttwTrain   = []int{10, 11, 12, 13, 14, 15}
	ttwDegrees = map[int]float64{10: 0, 11: 10, 12: 90, 13: 180, 14: 190, 15: 100}
	ttwWeights = map[int]float64{10: 1. / 3, 11: 1. / 6, 12: 1, 13: 1. / 6, 14: 1. / 3, 15: 1}
)

// ttwEmbed embeds items at their angle, scaled by 3 (the sampler
// normalises), and records what it was asked.
func ttwEmbed(asked *[][]int) func([]int) ([]float64, int, error) {
	return func(items []int) ([]float64, int, error) {
		*asked = append(*asked, slices.Clone(items))
		var emb []float64
		for _, i := range items {
			r := ttwDegrees[i] * math.Pi / 180
			emb = append(emb, 3*math.Cos(r), 3*math.Sin(r))
		}
		return emb, 2, nil
	}
}

func TestTuplesToWeightsSampler(t *testing.T) {
	factory := build(t, Samplers, "TuplesToWeightsSampler", map[string]any{"miner": map[string]any{"BatchHardMiner": map[string]any{}}})
	s, err := factory(ttwLabels, ttwTrain, 2, 7)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 3 {
		t.Errorf("Len %d, want 3 batches of 2 in a pass of 6", s.Len())
	}
	var asked [][]int
	es := s.(EpochSampler)
	if err := es.StartEpoch(1, ttwEmbed(&asked)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(asked[0], ttwTrain) {
		t.Errorf("embedded %v, want the training set", asked[0])
	}
	// 30000 draws: each item's share is its weight over the sum (3).
	count := map[int]float64{}
	const steps = 15000
	for step := range steps {
		for _, i := range s.Batch(step) {
			count[i]++
		}
	}
	for i, w := range ttwWeights {
		if got, want := count[i]/(2*steps), w/3; math.Abs(got-want) > 0.01 {
			t.Errorf("item %d drawn %.4f of the time, want %.4f", i, got, want)
		}
	}
	// Batches depend on (seed, step) and the weights only.
	again, _ := factory(ttwLabels, ttwTrain, 2, 7)
	if err := again.(EpochSampler).StartEpoch(1, ttwEmbed(&asked)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.Batch(5), s.Batch(5)) {
		t.Error("the same seed, epoch and model give other batches")
	}
}

// subset_size draws that many items each epoch, without replacement; the
// others are never sampled, and a pass is the subset.
func TestTuplesToWeightsSubset(t *testing.T) {
	factory := build(t, Samplers, "TuplesToWeightsSampler", map[string]any{
		"miner": map[string]any{"BatchHardMiner": map[string]any{}}, "subset_size": 4})
	s, err := factory(ttwLabels, ttwTrain, 2, 7)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 2 {
		t.Errorf("Len %d, want 2 batches of 2 in a pass of 4", s.Len())
	}
	var asked [][]int
	for epoch := 1; epoch <= 2; epoch++ {
		if err := s.(EpochSampler).StartEpoch(epoch, ttwEmbed(&asked)); err != nil {
			t.Fatal(err)
		}
		sub := asked[len(asked)-1]
		if len(sub) != 4 || len(slices.Compact(slices.Sorted(slices.Values(sub)))) != 4 {
			t.Fatalf("epoch %d: subset %v, want 4 distinct items", epoch, sub)
		}
		for step := range 200 {
			for _, i := range s.Batch(step) {
				if !slices.Contains(sub, i) {
					t.Fatalf("epoch %d: drew %d outside the subset %v", epoch, i, sub)
				}
			}
		}
	}
	if slices.Equal(asked[0], asked[1]) {
		t.Error("the two epochs drew the same subset")
	}
	for _, c := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"miner": map[string]any{"BatchHardMiner": map[string]any{}}, "subset_size": 7}, "subset_size 7 is more than the 6 items"},
	} {
		_, err := build(t, Samplers, "TuplesToWeightsSampler", c.params)(ttwLabels, ttwTrain, 2, 7)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want %q", c.params, err, c.want)
		}
	}
	if err := buildErr(Samplers, "TuplesToWeightsSampler", map[string]any{}); err == nil || !strings.Contains(err.Error(), "miner: is required") {
		t.Errorf("no miner: %v", err)
	}
}

// PML's convert_to_weights: counts over the largest; 1 without tuples.
func TestTupleWeights(t *testing.T) {
	got := tupleWeights(&loss.Tuples{Triplets: true, Anchor: []int{0, 0, 1}, Positive: []int{1, 2, 0}, Negative: []int{3, 3, 3}}, 5)
	if want := []float64{1, 2. / 3, 1. / 3, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := tupleWeights(&loss.Tuples{}, 3); !slices.Equal(got, []float64{1, 1, 1}) {
		t.Errorf("no tuples: %v", got)
	}
}
