package miner

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Anchor 0 = e1 with a positive near it; five singleton negatives in the
// e1-e2 plane at chord distances .3 (clamped to the cutoff .5), .6, .9, 1.2
// and 1.6 (beyond nonzero_loss_cutoff 1.4). In D = 4 the sampling weight is
// 1/q(d) = d^-2 (1 - d²/4)^-1/2.
func TestDistanceWeightedSamplesByInverseDensity(t *testing.T) {
	const d = 4
	emb := []float64{1, 0, 0, 0, math.Cos(.2), 0, math.Sin(.2), 0}
	chords := []float64{.3, .6, .9, 1.2, 1.6}
	for _, c := range chords {
		theta := 2 * math.Asin(c/2)
		emb = append(emb, math.Cos(theta), math.Sin(theta), 0, 0)
	}
	labels := []int{0, 0, 1, 2, 3, 4, 5}
	want := make([]float64, len(chords))
	sum := 0.0
	for i, c := range chords {
		c = max(c, .5)
		if c < 1.4 {
			want[i] = math.Pow(c, -2) / math.Sqrt(1-c*c/4)
		}
		sum += want[i]
	}

	m := buildDefault(t, "DistanceWeightedMiner")
	m.(Random).SetRand(rand.New(rand.NewPCG(1, 2)))
	counts := make([]float64, len(chords))
	draws := 0
	for range 20000 {
		got, err := m.Mine(emb, 7, d, labels)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Anchor, []int{0, 0, 1, 1}) || !slices.Equal(got.Positive, []int{1, 1, 0, 0}) {
			t.Fatalf("anchors %v positives %v, want 0 0 1 1 and 1 1 0 0", got.Anchor, got.Positive)
		}
		for i, a := range got.Anchor {
			if a == 0 {
				counts[got.Negative[i]-2]++
				draws++
			}
		}
	}
	for i := range chords {
		if got := counts[i] / float64(draws); math.Abs(got-want[i]/sum) > .01 {
			t.Errorf("negative at chord %v drawn %.4f of the time, want %.4f", chords[i], got, want[i]/sum)
		}
	}
	if counts[4] != 0 {
		t.Errorf("negative beyond nonzero_loss_cutoff drawn %v times", counts[4])
	}
}

func TestDistanceWeightedTriplets(t *testing.T) {
	emb, labels := testBatch(32, 8, 4)
	labels[31] = 100 // a singleton: never an anchor
	m := buildDefault(t, "DistanceWeightedMiner")
	got, err := m.Mine(emb, 32, 8, labels)
	if err != nil {
		t.Fatal(err)
	}
	perAnchor := map[int]int{}
	for i, a := range got.Anchor {
		p, n := got.Positive[i], got.Negative[i]
		if p == a || labels[p] != labels[a] || labels[n] == labels[a] {
			t.Errorf("triplet (%d, %d, %d) is not anchor, positive, negative", a, p, n)
		}
		perAnchor[a]++
	}
	for a := range 31 {
		want := 4 // the size of the anchor's class
		if labels[a] == 7 {
			want = 3
		}
		if perAnchor[a] != want {
			t.Errorf("anchor %d: %d triplets, want %d", a, perAnchor[a], want)
		}
	}
	if !slices.IsSorted(got.Anchor) {
		t.Errorf("anchors %v not grouped by label in ascending order", got.Anchor)
	}
}

func TestDistanceWeightedIsReproducible(t *testing.T) {
	emb, labels := testBatch(32, 8, 4)
	mine := func(seed uint64) []int {
		m := buildDefault(t, "DistanceWeightedMiner")
		m.(Random).SetRand(rand.New(rand.NewPCG(seed, 0)))
		got, err := m.Mine(emb, 32, 8, labels)
		if err != nil {
			t.Fatal(err)
		}
		return append(got.Positive, got.Negative...)
	}
	if !slices.Equal(mine(1), mine(1)) {
		t.Error("same seed, different triplets")
	}
	if slices.Equal(mine(1), mine(2)) {
		t.Error("different seeds, same triplets")
	}
}

// Every negative beyond nonzero_loss_cutoff: weights all zero, so PML's
// normalised weights are NaN and the anchors are dropped.
func TestDistanceWeightedDropsAnchorsWithoutWeight(t *testing.T) {
	emb := []float64{1, 0.1, 0, 1, 0, 0.1, -1, 0, 0.1, -1, 0.1, 0}
	got, err := buildDefault(t, "DistanceWeightedMiner").Mine(emb, 4, 3, []int{0, 0, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Anchor) != 0 {
		t.Errorf("got %+v, want no triplets", got)
	}
}
