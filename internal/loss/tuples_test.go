package loss

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

func TestAllPairs(t *testing.T) {
	got := AllPairs([]int{5, 5, 7})
	want := &Tuples{A1: []int{0, 1}, P: []int{1, 0}, A2: []int{0, 1, 2, 2}, N: []int{2, 2, 0, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AllPairs = %+v, want %+v", got, want)
	}
}

func TestAllTriplets(t *testing.T) {
	got := AllTriplets([]int{5, 5, 7, 7, 9})
	want := &Tuples{Triplets: true,
		Anchor:   []int{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3},
		Positive: []int{1, 1, 1, 0, 0, 0, 3, 3, 3, 2, 2, 2},
		Negative: []int{2, 3, 4, 2, 3, 4, 0, 1, 4, 0, 1, 4}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AllTriplets = %+v, want %+v", got, want)
	}
}

func TestConversions(t *testing.T) {
	pairs := &Tuples{A1: []int{0, 2, 0}, P: []int{1, 3, 4}, A2: []int{0, 2, 0, 5}, N: []int{2, 0, 3, 1}}
	a, p, n := pairs.AsTriplets(nil)
	// PML's torch.where(a1.unsqueeze(1) == a2): row-major over (i, j).
	if want := [][]int{{0, 0, 2, 0, 0}, {1, 1, 3, 4, 4}, {2, 3, 0, 2, 3}}; !reflect.DeepEqual([][]int{a, p, n}, want) {
		t.Errorf("pairs as triplets = %v, want %v", [][]int{a, p, n}, want)
	}
	triplets := &Tuples{Triplets: true, Anchor: []int{0, 1}, Positive: []int{2, 3}, Negative: []int{4, 5}}
	a1, p1, a2, n2 := triplets.AsPairs(nil)
	if want := [][]int{{0, 1}, {2, 3}, {0, 1}, {4, 5}}; !reflect.DeepEqual([][]int{a1, p1, a2, n2}, want) {
		t.Errorf("triplets as pairs = %v, want %v", [][]int{a1, p1, a2, n2}, want)
	}
}

func TestMinerWeights(t *testing.T) {
	tuples := &Tuples{A1: []int{0, 0}, P: []int{1, 1}, A2: []int{0, 3}, N: []int{2, 2}}
	for _, c := range []struct {
		tuples      *Tuples
		anchorsOnly bool
		want        []float64
	}{
		{nil, false, []float64{1, 1, 1, 1, 1}},
		{&Tuples{}, false, []float64{1, 1, 1, 1, 1}},
		// counts 3, 2, 2, 1, 0 over the largest, 3
		{tuples, false, []float64{1, 2.0 / 3, 2.0 / 3, 1.0 / 3, 0}},
		// anchors 0, 0, 0, 3
		{tuples, true, []float64{1, 0, 0, 1.0 / 3, 0}},
	} {
		if got := minerWeights(c.tuples, 5, c.anchorsOnly); !reflect.DeepEqual(got, c.want) {
			t.Errorf("minerWeights(%+v, %v) = %v, want %v", c.tuples, c.anchorsOnly, got, c.want)
		}
	}
}

func TestRandomTriplets(t *testing.T) {
	labels := []int{3, 1, 3, 3, 1, 2, 1}
	const k = 5
	a, p, n := randomTriplets(labels, k, rand.New(rand.NewPCG(1, 1)))
	// Label 2 has a single element: no anchor; the six others get k each,
	// by label (1 then 3), anchors in batch order.
	wantAnchors := []int{1, 4, 6, 0, 2, 3}
	if len(a) != k*len(wantAnchors) {
		t.Fatalf("%d triplets, want %d", len(a), k*len(wantAnchors))
	}
	for i := range a {
		if a[i] != wantAnchors[i/k] || p[i] == a[i] || labels[p[i]] != labels[a[i]] || labels[n[i]] == labels[a[i]] {
			t.Errorf("triplet %d = (%d, %d, %d) with labels %v", i, a[i], p[i], n[i], labels)
		}
	}
}

func TestTuplesCheck(t *testing.T) {
	emb, n, d, labels := testBatch(1)
	l, _, err := Losses.Build(config.C("ContrastiveLoss", nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []*Tuples{
		{A1: []int{0}, P: []int{12}},
		{A1: []int{0, 1}, P: []int{1}},
		{Triplets: true, Anchor: []int{0}, Positive: []int{1}, Negative: []int{-1}},
	} {
		if _, _, err := l.Compute(emb, n, d, labels, bad); err == nil {
			t.Errorf("tuples %+v: no error", bad)
		}
	}
}

// TestTripletsPerAnchor: a count of random triplets per anchor gives a
// reproducible loss over that many triplets.
func TestTripletsPerAnchor(t *testing.T) {
	emb, n, d, labels := testBatch(1)
	values := make([]float64, 2)
	for i := range values {
		l, _, err := Losses.Build(config.C("TripletMarginLoss", map[string]any{"triplets_per_anchor": 2,
			"reducer": map[string]any{"DoNothingReducer": nil}}))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unreduced(l, emb, n, d, labels, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got["loss"]) != 2*n {
			t.Fatalf("%d triplets, want %d", len(got["loss"]), 2*n)
		}
		for _, v := range got["loss"] {
			values[i] += v
		}
	}
	if values[0] != values[1] {
		t.Errorf("two builds give %v and %v", values[0], values[1])
	}
}
