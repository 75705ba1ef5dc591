package eval_test

import (
	"cmp"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bench-ml/bench/internal/eval"
)

var pmlMetrics = []string{eval.PrecisionAt1, eval.RPrecision, eval.MeanAveragePrecisionAtR, eval.MeanAveragePrecision, eval.MeanReciprocalRank}

func TestEvaluateRange(t *testing.T) {
	for _, tc := range []struct {
		n, dim, classes int
		noise           float64
		opt             eval.Options
	}{
		{n: 300, dim: 8, classes: 10, noise: 0.3, opt: eval.Options{Normalize: true, Clustering: true}},
		{n: 200, dim: 16, classes: 60, noise: 0.5, opt: eval.Options{K: eval.KAll, AvgOfAvgs: true, Clustering: true}},
		{n: 150, dim: 4, classes: 3, noise: 2, opt: eval.Options{K: "5", RecallK: []int{1, 3, 100}}},
	} {
		x, y := clustered(1, tc.n, tc.dim, tc.classes, tc.noise)
		res, err := eval.Evaluate(to32(x), y, nil, nil, tc.dim, tc.opt)
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range res.Metrics {
			lo := 0.0
			if name == eval.AMIName {
				lo = -1 // adjusted for chance: may dip below 0
			}
			if !(v >= lo && v <= 1) {
				t.Errorf("%+v: %s = %v, want in [%v, 1]", tc.opt, name, v, lo)
			}
		}
		want := 5 + len(tc.opt.RecallK)
		if len(tc.opt.RecallK) == 0 {
			want = 5 + len(eval.DefaultRecallK)
		}
		if tc.opt.Clustering {
			want += 2
		}
		if len(res.Metrics) != want {
			t.Errorf("%+v: %d metrics %v, want %d", tc.opt, len(res.Metrics), res.Metrics, want)
		}
	}
}

func TestEvaluateSeparated(t *testing.T) {
	// Five tight clusters far apart: every metric is perfect.
	x, y := clustered(2, 250, 16, 5, 1e-3)
	for _, opt := range []eval.Options{
		{Normalize: true, Clustering: true, Seed: 3},
		{K: eval.KAll, Clustering: true, Seed: 4},
		{K: "3", AvgOfAvgs: true},
	} {
		res, err := eval.Evaluate(to32(x), y, nil, nil, 16, opt)
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range res.Metrics {
			if v != 1 {
				t.Errorf("%+v: %s = %v, want 1", opt, name, v)
			}
		}
	}
}

// permute reorders the rows of x and their labels.
func permute(x []float64, y []int, dim int, perm []int) ([]float64, []int) {
	px := make([]float64, 0, len(x))
	py := make([]int, 0, len(y))
	for _, i := range perm {
		px = append(px, x[i*dim:(i+1)*dim]...)
		py = append(py, y[i])
	}
	return px, py
}

func TestEvaluatePermutation(t *testing.T) {
	const dim = 12
	rng := rand.New(rand.NewPCG(5, 6))
	q, qy := clustered(3, 200, dim, 15, 0.4)
	r, ry := clustered(3, 500, dim, 15, 0.4) // same centres, more points
	r, ry = r[200*dim:], ry[200:]
	for _, opt := range []eval.Options{
		{Normalize: true, K: eval.KAll, AvgOfAvgs: true},
		{K: "7", RecallK: []int{1, 5, 10}},
	} {
		for _, sep := range []bool{false, true} {
			ref, refY := r, ry
			if !sep {
				ref, refY = nil, nil
			}
			want, err := eval.Evaluate64(q, qy, ref, refY, dim, opt)
			if err != nil {
				t.Fatal(err)
			}
			pq, pqy := permute(q, qy, dim, rng.Perm(len(qy)))
			if sep {
				ref, refY = permute(r, ry, dim, rng.Perm(len(ry)))
			}
			got, err := eval.Evaluate64(pq, pqy, ref, refY, dim, opt)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range slices.Sorted(maps.Keys(want.Metrics)) {
				if math.Abs(got.Metrics[m]-want.Metrics[m]) > 1e-12 {
					t.Errorf("%+v separate=%v: %s = %v after permuting, %v before", opt, sep, m, got.Metrics[m], want.Metrics[m])
				}
			}
		}
	}
}

// minRelevanceGap is the smallest squared-distance gap between neighbours
// of different relevance, over all queries of a self-comparison: below
// float32's resolution the two precisions may legitimately rank them apart.
func minRelevanceGap(x []float64, y []int, dim int) float64 {
	n := len(y)
	gap := math.Inf(1)
	type nb struct {
		d   float64
		rel bool
	}
	for q := range n {
		var all []nb
		for j := range n {
			if j == q {
				continue
			}
			var d float64
			for l := range dim {
				v := x[q*dim+l] - x[j*dim+l]
				d += v * v
			}
			all = append(all, nb{d, y[j] == y[q]})
		}
		slices.SortFunc(all, func(a, b nb) int { return cmp.Compare(a.d, b.d) })
		for i := 1; i < len(all); i++ {
			if all[i].rel != all[i-1].rel {
				gap = min(gap, all[i].d-all[i-1].d)
			}
		}
	}
	return gap
}

func TestEvaluateFloat32MatchesFloat64(t *testing.T) {
	const n, dim = 80, 24
	for seed := uint64(10); ; seed++ {
		x, y := clustered(seed, n, dim, 8, 0.3)
		// Round to float32 first so that both paths see the same inputs.
		x = to64(to32(x))
		unit := make([]float64, len(x))
		for i := 0; i < len(x); i += dim {
			var s float64
			for _, v := range x[i : i+dim] {
				s += v * v
			}
			for l := range dim {
				unit[i+l] = x[i+l] / math.Sqrt(s)
			}
		}
		// float32 scores of unit vectors are off by a few ulp of 2, under
		// 1e-6: a smaller gap could legitimately rank differently.
		if minRelevanceGap(unit, y, dim) < 4e-6 {
			continue // not tie-free at float32 resolution: try the next seed
		}
		opt := eval.Options{Normalize: true, K: eval.KAll, Clustering: true}
		want, err := eval.Evaluate64(x, y, nil, nil, dim, opt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := eval.Evaluate(to32(x), y, nil, nil, dim, opt)
		if err != nil {
			t.Fatal(err)
		}
		for m, w := range want.Metrics {
			if m == eval.NMIName || m == eval.AMIName {
				continue // k-means centres differ by rounding; checked separately
			}
			if math.Abs(got.Metrics[m]-w) > 1e-12 {
				t.Errorf("seed %d: float32 %s = %v, float64 %v", seed, m, got.Metrics[m], w)
			}
		}
		return
	}
}

func TestEvaluateHand(t *testing.T) {
	// Points on a line; labels a a b b b c. With self-exclusion:
	// query 0 (a, x=0): neighbours 1(a) 2(b) 3(b) 4(b) 5(c); R=1.
	// query 2 (b, x=2.1): 1(a, d=.1)... computed below by hand.
	x := []float64{0, 1, 2.1, 3.3, 4.6, 6}
	y := []int{0, 0, 1, 1, 1, 2}
	res, err := eval.Evaluate64(x, y, nil, nil, 1, eval.Options{K: eval.KAll})
	if err != nil {
		t.Fatal(err)
	}
	// Neighbour orders (nearest first, relevance):
	// q0: 1+ 2- 3- 4- 5-          R=1: P@1 1, RP 1, MAP@R 1, AP 1, RR 1
	// q1: 0+ 2- 3- 4- 5-   (d 1, 1.1, ...)  same as q0
	// q2: 1- 3+ 0- 4+ 5-   (1.1, 1.2, 2.1, 2.5)  R=2: P@1 0, RP 1/2, MAP@R (1/2)/2, AP (1/2+2/4)/2, RR 1/2
	// q3: 2+ 4+ 1- 5- 0-   (1.2, 1.3, 2.3, 2.7)  R=2: all 1
	// q4: 3+ 5- 2+ 1- 0-   (1.3, 1.4, 2.5)       R=2: P@1 1, RP 1/2, MAP@R 1/2, AP (1+2/3)/2, RR 1
	// q5 is lone.
	wants := map[string]float64{
		eval.PrecisionAt1:            (1 + 1 + 0 + 1 + 1) / 5.0,
		eval.RPrecision:              (1 + 1 + 0.5 + 1 + 0.5) / 5,
		eval.MeanAveragePrecisionAtR: (1 + 1 + 0.25 + 1 + 0.5) / 5,
		eval.MeanAveragePrecision:    (1 + 1 + 0.5 + 1 + (1+2.0/3)/2) / 5,
		eval.MeanReciprocalRank:      (1 + 1 + 0.5 + 1 + 1) / 5,
		eval.RecallName(1):           4 / 6.0,
		eval.RecallName(2):           5 / 6.0,
	}
	for m, w := range wants {
		if math.Abs(res.Metrics[m]-w) > 1e-15 {
			t.Errorf("%s = %v, want %v", m, res.Metrics[m], w)
		}
	}
	if res.NumLoneQueries != 1 || res.KUsed != 5 {
		t.Errorf("lone %d, k %d; want 1, 5", res.NumLoneQueries, res.KUsed)
	}

	// avg_of_avgs: class a has queries 0,1 (P@1 1, 1), class b 2,3,4 (0, 1, 1).
	res, err = eval.Evaluate64(x, y, nil, nil, 1, eval.Options{K: eval.KAll, AvgOfAvgs: true})
	if err != nil {
		t.Fatal(err)
	}
	if w := (1 + 2.0/3) / 2; math.Abs(res.Metrics[eval.PrecisionAt1]-w) > 1e-15 {
		t.Errorf("avg_of_avgs P@1 = %v, want %v", res.Metrics[eval.PrecisionAt1], w)
	}
	// Recall@1 per class over all queries: a 1, b 2/3, c 0.
	if w := (1 + 2.0/3 + 0) / 3; math.Abs(res.RecallAtK[1]-w) > 1e-15 {
		t.Errorf("avg_of_avgs recall@1 = %v, want %v", res.RecallAtK[1], w)
	}

	// k=1 caps R at 1: r_precision becomes P@1 and MAP looks at one
	// neighbour; max_bin_count is 2 (class b, 3 references minus self).
	res, err = eval.Evaluate64(x, y, nil, nil, 1, eval.Options{K: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Metrics[eval.RPrecision] != res.Metrics[eval.PrecisionAt1] || res.Metrics[eval.MeanAveragePrecision] != res.Metrics[eval.PrecisionAt1] {
		t.Errorf("k=1: %v, want r_precision = MAP = P@1", res.Metrics)
	}
	res, err = eval.Evaluate64(x, y, nil, nil, 1, eval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.KUsed != 2 {
		t.Errorf("max_bin_count k = %d, want 2", res.KUsed)
	}
}

func TestEvaluateErrors(t *testing.T) {
	x := []float32{0, 1, 2, 3}
	for _, tc := range []struct {
		q    []float32
		qy   []int
		r    []float32
		ry   []int
		opt  eval.Options
		want string
	}{
		{q: x, qy: []int{0, 1, 2}, want: "3 query labels for 4"},
		{q: x, qy: []int{0, 1, 0, 1}, r: x[:2], ry: []int{0}, want: "1 reference labels for 2"},
		{q: []float32{0, float32(math.NaN())}, qy: []int{0, 0}, want: "non-finite"},
		{q: x, qy: []int{0, 0, 1, 1}, opt: eval.Options{K: "zero"}, want: `k "zero"`},
		{q: x, qy: []int{0, 0, 1, 1}, opt: eval.Options{K: "-2"}, want: `k "-2"`},
		{q: x, qy: []int{0, 0, 1, 1}, opt: eval.Options{RecallK: []int{0}}, want: "recall k 0"},
		{q: x, qy: []int{0, 0, 1, 1}, opt: eval.Options{RefIncludesQuery: true}, want: "separate reference set"},
		{q: x[:2], qy: []int{0, 1}, r: x, ry: []int{1, 1, 0, 0}, opt: eval.Options{RefIncludesQuery: true}, want: "query 0 has label 0 but reference row 0 has label 1"},
		{q: x, qy: []int{0, 0, 1, 1}, opt: eval.Options{ClusterLabels: []int{0}}, want: "1 cluster labels for 4"},
	} {
		_, err := eval.Evaluate(tc.q, tc.qy, tc.r, tc.ry, 1, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
}

func TestEvaluateRefIncludesQuery(t *testing.T) {
	// With every row both query and reference, ref_includes_query is
	// compared_to_self under another name.
	const dim = 6
	x, y := clustered(9, 150, dim, 7, 0.5)
	self, err := eval.Evaluate64(x, y, nil, nil, dim, eval.Options{K: eval.KAll, Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	inc, err := eval.Evaluate64(x[:100*dim], y[:100], x, y, dim, eval.Options{K: eval.KAll, Normalize: true, RefIncludesQuery: true})
	if err != nil {
		t.Fatal(err)
	}
	same, err := eval.Evaluate64(x, y, slices.Clone(x), y, dim, eval.Options{K: eval.KAll, Normalize: true, RefIncludesQuery: true})
	if err != nil {
		t.Fatal(err)
	}
	for m, w := range self.Metrics {
		if same.Metrics[m] != w {
			t.Errorf("%s: ref_includes_query with all rows %v, compared_to_self %v", m, same.Metrics[m], w)
		}
	}
	if inc.NumQueries != 100 || inc.KUsed != 149 {
		t.Errorf("queries %d, k %d; want 100, 149", inc.NumQueries, inc.KUsed)
	}
}

// Progress hears of the queries done every 256 and at the end, and does not
// change the result.
func TestEvaluateProgress(t *testing.T) {
	x, y := clustered(1, 600, 8, 10, 0.3)
	want, err := eval.Evaluate(to32(x), y, nil, nil, 8, eval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var heard []int
	got, err := eval.Evaluate(to32(x), y, nil, nil, 8, eval.Options{Progress: func(n int) {
		mu.Lock()
		heard = append(heard, n)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(heard)
	if !slices.Equal(heard, []int{256, 512, 600}) {
		t.Errorf("progress heard %v, want [256 512 600]", heard)
	}
	if !maps.Equal(got.Metrics, want.Metrics) {
		t.Errorf("with progress %v, without %v", got.Metrics, want.Metrics)
	}
}
