package miner

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
)

// Five points, labels 0 0 0 1 1, with the symmetric matrix
//
//	     0    1    2    3    4
//	0    -   .3   .9   .5  1.2
//	1   .3    -   .4  1.1  .15
//	2   .9   .4    -  .72   .6
//	3   .5  1.1  .72    -   .8
//	4  1.2  .15   .6   .8    -
//
// read as distances (inverted=false) or as similarities (inverted=true).
var handLabels = []int{0, 0, 0, 1, 1}

func handMat(inverted bool) mat {
	upper := map[[2]int]float64{
		{0, 1}: .3, {0, 2}: .9, {0, 3}: .5, {0, 4}: 1.2,
		{1, 2}: .4, {1, 3}: 1.1, {1, 4}: .15,
		{2, 3}: .72, {2, 4}: .6,
		{3, 4}: .8,
	}
	m := mat{query: selfQuery(nil, 5, 0, handLabels), rows: 5, cols: 5, v: make([]float64, 25), inverted: inverted}
	for ij, v := range upper {
		m.v[ij[0]*5+ij[1]], m.v[ij[1]*5+ij[0]] = v, v
	}
	return m
}

func triplets(a, p, n []int) *loss.Tuples {
	return &loss.Tuples{Triplets: true, Anchor: a, Positive: p, Negative: n}
}

func pairs(a1, p, a2, n []int) *loss.Tuples { return &loss.Tuples{A1: a1, P: p, A2: a2, N: n} }

// equalTuples compares in order, nil and empty alike.
func equalTuples(got, want *loss.Tuples) bool {
	if got.Triplets != want.Triplets {
		return false
	}
	for _, s := range [][2][]int{
		{got.A1, want.A1}, {got.P, want.P}, {got.A2, want.A2}, {got.N, want.N},
		{got.Anchor, want.Anchor}, {got.Positive, want.Positive}, {got.Negative, want.Negative},
	} {
		if !slices.Equal(s[0], s[1]) {
			return false
		}
	}
	return true
}

func TestBatchEasyHardOnHandMatrix(t *testing.T) {
	all5 := []int{0, 1, 2, 3, 4}
	allPos := pairs([]int{0, 0, 1, 1, 2, 2, 3, 4}, []int{1, 2, 0, 2, 0, 1, 4, 3}, nil, nil)
	cases := []struct {
		name     string
		b        BatchEasyHard
		inverted bool
		want     *loss.Tuples
	}{
		{"easy pos, semihard neg (default)", BatchEasyHard{PosStrategy: Easy, NegStrategy: Semihard}, false,
			pairs(all5, []int{1, 0, 1, 4, 3}, all5, []int{3, 3, 4, 1, 0})},
		{"hard, hard", BatchEasyHard{PosStrategy: Hard, NegStrategy: Hard}, false,
			pairs(all5, []int{2, 2, 0, 4, 3}, all5, []int{3, 4, 4, 0, 1})},
		{"hard, hard, similarity", BatchEasyHard{PosStrategy: Hard, NegStrategy: Hard}, true,
			pairs(all5, []int{1, 0, 1, 4, 3}, all5, []int{4, 3, 3, 1, 0})},
		// Anchors 1, 3, 4 have no positive closer than their closest negative.
		{"semihard pos, hard neg", BatchEasyHard{PosStrategy: Semihard, NegStrategy: Hard}, false,
			pairs([]int{0, 2}, []int{1, 1}, []int{0, 2}, []int{3, 4})},
		{"all pos, easy neg", BatchEasyHard{PosStrategy: All, NegStrategy: Easy}, false,
			pairs(allPos.A1, allPos.P, all5, []int{4, 3, 3, 1, 0})},
		// Anchor 1's negatives (1.1, .15) are both outside the range.
		{"hard, hard, allowed_neg_range [.3, 1]", BatchEasyHard{PosStrategy: Hard, NegStrategy: Hard, AllowedNegRange: []float64{.3, 1}}, false,
			pairs([]int{0, 2, 3, 4}, []int{2, 0, 4, 3}, []int{0, 2, 3, 4}, []int{3, 4, 0, 2})},
		// Anchor 0's positives (.3, .9) are both outside the range; the
		// hardest positive of anchor 2 within it is 1 (.4), not 0 (.9).
		{"hard, easy, allowed_pos_range [.35, .85]", BatchEasyHard{PosStrategy: Hard, NegStrategy: Easy, AllowedPosRange: []float64{.35, .85}}, false,
			pairs([]int{1, 2, 3, 4}, []int{2, 1, 4, 3}, []int{1, 2, 3, 4}, []int{3, 3, 1, 0})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.b.tuples(handMat(c.inverted)); !equalTuples(got, c.want) {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// PML's get_max_per_row maximises over mat*mask; with similarities all
// below zero it would return a masked-out column. Here the choice stays a
// candidate.
func TestBatchEasyHardNegativeSimilarities(t *testing.T) {
	m := handMat(true)
	for i := range m.v {
		m.v[i] -= 2 // every similarity negative
	}
	b := BatchEasyHard{PosStrategy: Hard, NegStrategy: Hard}
	got := b.tuples(m)
	want := pairs([]int{0, 1, 2, 3, 4}, []int{1, 0, 1, 4, 3}, []int{0, 1, 2, 3, 4}, []int{4, 3, 3, 1, 0})
	if !equalTuples(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestTripletMarginOnHandMatrix(t *testing.T) {
	// m = d_an - d_ap for every triplet, row-major:
	// (0,1,3) .2   (0,1,4) .9   (0,2,3) -.4  (0,2,4) .3
	// (1,0,3) .8   (1,0,4) -.15 (1,2,3) .7   (1,2,4) -.25
	// (2,0,3) -.18 (2,0,4) -.3  (2,1,3) .32  (2,1,4) .2
	// (3,4,0) -.3  (3,4,1) .3   (3,4,2) -.08
	// (4,3,0) .4   (4,3,1) -.65 (4,3,2) -.2
	cases := []struct {
		typ  string
		want *loss.Tuples
	}{
		{All, triplets(
			[]int{0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4},
			[]int{1, 2, 0, 2, 0, 0, 1, 4, 4, 3, 3},
			[]int{3, 3, 4, 4, 3, 4, 4, 0, 2, 1, 2})},
		{Hard, triplets(
			[]int{0, 1, 1, 2, 2, 3, 3, 4, 4},
			[]int{2, 0, 2, 0, 0, 4, 4, 3, 3},
			[]int{3, 4, 4, 3, 4, 0, 2, 1, 2})},
		{Semihard, triplets([]int{0, 2}, []int{1, 1}, []int{3, 4})},
		{Easy, triplets(
			[]int{0, 0, 1, 1, 2, 3, 4},
			[]int{1, 2, 0, 2, 1, 4, 3},
			[]int{4, 4, 3, 3, 3, 1, 0})},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			tm := TripletMargin{Margin: .25, TypeOfTriplets: c.typ}
			if got := tm.tuples(handMat(false)); !equalTuples(got, c.want) {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
			// Similarities s = -d give the same margins s_ap - s_an.
			neg := handMat(true)
			for i := range neg.v {
				neg.v[i] = -neg.v[i]
			}
			if got := tm.tuples(neg); !equalTuples(got, c.want) {
				t.Errorf("negated similarities: got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestPairMarginOnHandMatrix(t *testing.T) {
	pm := PairMargin{PosMargin: .35, NegMargin: .65}
	want := pairs([]int{0, 1, 2, 2, 3, 4}, []int{2, 2, 0, 1, 4, 3}, []int{0, 1, 2, 3, 4, 4}, []int{3, 4, 4, 0, 1, 2})
	if got := pm.tuples(handMat(false)); !equalTuples(got, want) {
		t.Errorf("distance: got %+v\nwant %+v", got, want)
	}
	want = pairs([]int{0, 1}, []int{1, 0}, []int{0, 1, 2, 3, 3, 4}, []int{4, 3, 3, 1, 2, 0})
	if got := pm.tuples(handMat(true)); !equalTuples(got, want) {
		t.Errorf("similarity: got %+v\nwant %+v", got, want)
	}
}

func TestMultiSimilarityOnHandMatrix(t *testing.T) {
	ms := MultiSimilarity{Epsilon: .1}
	// Distances: positives with d + .1 > the closest negative, negatives
	// with d - .1 < the farthest positive, per anchor by increasing d.
	want := pairs([]int{0, 1, 1, 2, 3, 4}, []int{2, 0, 2, 0, 4, 3}, []int{0, 1, 2, 2, 3, 3, 4, 4}, []int{3, 4, 4, 3, 0, 2, 1, 2})
	if got := ms.tuples(handMat(false)); !equalTuples(got, want) {
		t.Errorf("distance: got %+v\nwant %+v", got, want)
	}
	// Similarities: positives with s - .1 < the most similar negative,
	// negatives with s + .1 > the least similar positive.
	want = pairs([]int{0, 0, 1, 1, 2, 3, 4}, []int{1, 2, 0, 2, 1, 4, 3}, []int{0, 0, 1, 2, 2, 3, 3, 4}, []int{3, 4, 3, 4, 3, 2, 1, 0})
	if got := ms.tuples(handMat(true)); !equalTuples(got, want) {
		t.Errorf("similarity: got %+v\nwant %+v", got, want)
	}
}

func TestHDCOnHandMatrix(t *testing.T) {
	cases := []struct {
		name     string
		h        HDC
		inverted bool
		want     *loss.Tuples
	}{
		// 8 positive pairs keep the 4 farthest (.9, .9, .8, .8), 12
		// negative pairs the 6 closest (.15, .15, .5, .5, .6, .6); equal
		// values in row-major order.
		{"distance", HDC{FilterPercentage: .5}, false,
			pairs([]int{0, 2, 3, 4}, []int{2, 0, 4, 3}, []int{1, 4, 0, 3, 2, 4}, []int{4, 1, 3, 0, 4, 2})},
		// Similarities: the least similar positives, the most similar negatives.
		{"similarity", HDC{FilterPercentage: .5}, true,
			pairs([]int{0, 1, 1, 2}, []int{1, 0, 2, 1}, []int{0, 4, 1, 3, 2, 3}, []int{4, 0, 3, 1, 3, 2})},
		// ceil(.3 * 8) = 3 positives, ceil(.3 * 12) = 4 negatives.
		{"filter_percentage .3", HDC{FilterPercentage: .3}, false,
			pairs([]int{0, 2, 3}, []int{2, 0, 4}, []int{1, 4, 0, 3}, []int{4, 1, 3, 0})},
		{"filter_percentage 0", HDC{}, false, pairs([]int{}, []int{}, []int{}, []int{})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.h.tuples(handMat(c.inverted)); !equalTuples(got, c.want) {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
	// filter_percentage 1 keeps every pair, hardest first.
	all := handMat(false).allPairs()
	got := (&HDC{FilterPercentage: 1}).tuples(handMat(false))
	if len(got.A1) != len(all.A1) || len(got.A2) != len(all.A2) {
		t.Errorf("filter_percentage 1: got %d and %d pairs, want %d and %d", len(got.A1), len(got.A2), len(all.A1), len(all.A2))
	}
}

func TestAngularOnHandPoints(t *testing.T) {
	// a=(0,0), p=(2,0), centre (1,0); a negative at (1,h) sees a-p under
	// atan(2/(2h)) = atan(1/h): 45° at h=1, 26.6° at h=2, 14.0° at h=4.
	emb := []float64{0, 0, 2, 0, 1, 1, 1, 2, 1, 4}
	labels := []int{0, 0, 1, 2, 3}
	got, err := (&Angular{Angle: 20}).Mine(emb, 5, 2, labels)
	if err != nil {
		t.Fatal(err)
	}
	want := triplets([]int{0, 0, 1, 1}, []int{1, 1, 0, 0}, []int{2, 3, 2, 3})
	if !equalTuples(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// normalised random-ish embeddings without any library RNG: a fixed
// pattern, enough to give distinct distances.
func testBatch(n, d, perClass int) ([]float64, []int) {
	emb := make([]float64, n*d)
	for i := range emb {
		emb[i] = math.Sin(float64(i)*1.7 + float64(i*i%97)*0.31)
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i / perClass
	}
	return emb, labels
}

func buildDefault(t testing.TB, name string) Miner {
	m, _, err := Miners.Build(config.Component{Type: name})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Batches without negatives (one class) or without positives (every class
// a singleton) give no tuple that would need them, from every miner.
func TestNoPositivesOrNoNegatives(t *testing.T) {
	emb, _ := testBatch(8, 4, 1)
	for _, name := range Miners.Names() {
		t.Run(name, func(t *testing.T) {
			m := buildDefault(t, name)
			got, err := m.Mine(emb, 8, 4, make([]int, 8))
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Negative)+len(got.N) > 0 {
				t.Errorf("one class: got negatives %+v", got)
			}
			got, err = m.Mine(emb, 8, 4, []int{0, 1, 2, 3, 4, 5, 6, 7})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Positive)+len(got.P) > 0 {
				t.Errorf("singletons: got positives %+v", got)
			}
		})
	}
}

func TestBatchHardDropsAnchorsWithoutPositives(t *testing.T) {
	emb, _ := testBatch(7, 4, 1)
	labels := []int{5, 5, 9, 7, 7, 7, 3} // 2 and 6 are singletons
	got, err := buildDefault(t, "BatchHardMiner").Mine(emb, 7, 4, labels)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Triplets || !slices.Equal(got.Anchor, []int{0, 1, 3, 4, 5}) {
		t.Fatalf("got anchors %v (triplets %v), want 0 1 3 4 5", got.Anchor, got.Triplets)
	}
	for i, a := range got.Anchor {
		p, n := got.Positive[i], got.Negative[i]
		if p == a || labels[p] != labels[a] || labels[n] == labels[a] {
			t.Errorf("triplet (%d, %d, %d) is not anchor, positive, negative", a, p, n)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"BatchEasyHardMiner", map[string]any{"pos_strategy": "semihard", "neg_strategy": "semihard"}, `cannot both be "semihard"`},
		{"BatchEasyHardMiner", map[string]any{"pos_strategy": "all", "neg_strategy": "semihard"}, `"semihard" cannot be used in combination with "all"`},
		{"BatchEasyHardMiner", map[string]any{"pos_strategy": "hardest"}, `pos_strategy: "hardest" is not allowed`},
		{"BatchHardMiner", map[string]any{"allowed_pos_range": []any{1.0}}, "allowed_pos_range: want [low, high]"},
		{"BatchHardMiner", map[string]any{"allowed_neg_range": []any{1.0, 0.5}}, "allowed_neg_range: low 1 is above high 0.5"},
		{"BatchHardMiner", map[string]any{"pos_strategy": "easy"}, "BatchHardMiner.pos_strategy: unknown parameter"},
		{"TripletMarginMiner", map[string]any{"type_of_triplets": "semi-hard"}, `did you mean "semihard"`},
		{"TripletMarginMiner", map[string]any{"distance": map[string]any{"LpDistanc": nil}}, `TripletMarginMiner.distance.LpDistanc: unknown distance`},
		{"AngularMiner", map[string]any{"distance": map[string]any{"CosineSimilarity": nil}}, "AngularMiner.distance: must be LpDistance with p: 2"},
		{"DistanceWeightedMiner", map[string]any{"distance": map[string]any{"LpDistance": map[string]any{"power": 2}}}, "DistanceWeightedMiner.distance: must be LpDistance"},
		{"MultiSimilarityMiner", map[string]any{"epsilon": "small"}, "epsilon: want a number"},
		{"HDCMiner", map[string]any{"filter_percentage": 1.5}, "filter_percentage: 1.5 is out of range: must be <= 1"},
		{"HDCMiner", map[string]any{"filter_percentage": -0.1}, "filter_percentage: -0.1 is out of range: must be >= 0"},
	}
	for _, c := range cases {
		t.Run(c.name+"/"+c.want, func(t *testing.T) {
			_, _, err := Miners.Build(config.Component{Type: c.name, Params: c.params, Where: "miners.tuple_miner", Source: "m.yaml"})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "m.yaml") {
				t.Errorf("got %v, want an error from m.yaml containing %q", err, c.want)
			}
		})
	}
}

func TestDefaultsResolved(t *testing.T) {
	_, resolved, err := Miners.Build(config.Component{Type: "MultiSimilarityMiner"})
	if err != nil {
		t.Fatal(err)
	}
	p := resolved["MultiSimilarityMiner"].(map[string]any)
	if p["epsilon"] != 0.1 {
		t.Errorf("epsilon = %v, want 0.1", p["epsilon"])
	}
	if _, ok := p["distance"].(map[string]any)["CosineSimilarity"]; !ok {
		t.Errorf("distance = %v, want CosineSimilarity", p["distance"])
	}
}

func TestMineChecksShapes(t *testing.T) {
	m := buildDefault(t, "BatchHardMiner")
	if _, err := m.Mine(make([]float64, 7), 2, 4, []int{0, 1}); err == nil {
		t.Error("7 values for 2 x 4: want an error")
	}
	if _, err := m.Mine(make([]float64, 8), 2, 4, []int{0}); err == nil {
		t.Error("1 label for 2 rows: want an error")
	}
}

// Every registered miner gets the batch checks of base: a batch whose
// shapes disagree is refused before the miner sees it.
func TestEveryMinerChecksTheBatch(t *testing.T) {
	emb := []float64{0, 1, 1, 0, 1, 1, 0, 0}
	for _, name := range Miners.Names() {
		m := buildDefault(t, name)
		for _, c := range []struct {
			emb    []float64
			n, d   int
			labels []int
			want   string
		}{
			{emb, 4, 2, []int{0, 0, 1}, "3 labels for 4 embeddings"},
			{emb[:7], 4, 2, []int{0, 0, 1, 1}, "7 embedding values for a 4 x 2 batch"},
			{emb, 8, 0, make([]int, 8), "batch of 8 x 0 embeddings"},
		} {
			if _, err := m.Mine(c.emb, c.n, c.d, c.labels); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: got %v, want an error saying %q", name, err, c.want)
			}
		}
	}
}
