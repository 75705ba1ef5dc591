package eval

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// gridData returns n x dim values drawn from {-2..2}: every product and sum
// is exact in float32 as well as float64, so both precisions must give the
// same distances, and the many exact ties test the tie-breaking.
func gridData[T Float](rng *rand.Rand, n, dim int) []T {
	x := make([]T, n*dim)
	for i := range x {
		x[i] = T(rng.IntN(5) - 2)
	}
	return x
}

// bruteForce ranks all references of query q by exact squared distance,
// ties by smaller index.
func bruteForce[T Float](query, ref []T, dim, q, k int, excludeSelf bool) []int32 {
	nr := len(ref) / dim
	type c struct {
		d float64
		i int32
	}
	var all []c
	for j := range nr {
		if excludeSelf && j == q {
			continue
		}
		all = append(all, c{sqDist(query[q*dim:(q+1)*dim], ref[j*dim:(j+1)*dim]), int32(j)})
	}
	slices.SortFunc(all, func(a, b c) int {
		if r := cmp.Compare(a.d, b.d); r != 0 {
			return r
		}
		return cmp.Compare(a.i, b.i)
	})
	var idx []int32
	for _, x := range all[:min(k, len(all))] {
		idx = append(idx, x.i)
	}
	return idx
}

func testSearch[T Float](t *testing.T) {
	tests := []struct {
		nq, nr, dim, k int
		self           bool
	}{
		{nq: 1, nr: 1, dim: 1, k: 1},
		{nq: 7, nr: 7, dim: 3, k: 6, self: true},
		{nq: 13, nr: 50, dim: 5, k: 50},
		{nq: 100, nr: 1100, dim: 17, k: 9},    // several reference blocks, two query tiles
		{nq: 200, nr: 1030, dim: 128, k: 700}, // the top-k buffer fills and shrinks many times
		{nq: 250, nr: 250, dim: 8, k: 1000, self: true},
		{nq: 40, nr: 600, dim: 2, k: 3, self: true},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range tests {
		q := gridData[T](rng, tc.nq, tc.dim)
		r := gridData[T](rng, tc.nr, tc.dim)
		if tc.self {
			copy(r, q)
		}
		var mu sync.Mutex
		seen := 0
		err := Search(q, r, tc.dim, SearchOptions{K: tc.k, ExcludeSelf: tc.self}, func(qi int, idx []int32, dist []T) {
			want := bruteForce(q, r, tc.dim, qi, tc.k, tc.self)
			mu.Lock()
			defer mu.Unlock()
			seen++
			if !slices.Equal(idx, want) {
				t.Errorf("%+v query %d: neighbours %v, want %v", tc, qi, idx, want)
				return
			}
			for i, j := range idx {
				if d := sqDist(q[qi*tc.dim:(qi+1)*tc.dim], r[int(j)*tc.dim:(int(j)+1)*tc.dim]); float64(dist[i]) != d {
					t.Errorf("%+v query %d: distance %d = %v, want %v", tc, qi, i, dist[i], d)
					return
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if seen != tc.nq {
			t.Errorf("%+v: visited %d queries, want %d", tc, seen, tc.nq)
		}
	}
}

func TestSearch32(t *testing.T) { testSearch[float32](t) }
func TestSearch64(t *testing.T) { testSearch[float64](t) }

func TestSearchErrors(t *testing.T) {
	noop := func(int, []int32, []float64) {}
	for _, tc := range []struct {
		q, r []float64
		dim  int
		opt  SearchOptions
	}{
		{q: make([]float64, 4), r: make([]float64, 4), dim: 0, opt: SearchOptions{K: 1}},
		{q: make([]float64, 5), r: make([]float64, 4), dim: 2, opt: SearchOptions{K: 1}},
		{q: make([]float64, 6), r: make([]float64, 4), dim: 2, opt: SearchOptions{K: 1, ExcludeSelf: true}},
	} {
		if err := Search(tc.q, tc.r, tc.dim, tc.opt, noop); err == nil {
			t.Errorf("Search(%d, %d, dim %d, %+v): no error", len(tc.q), len(tc.r), tc.dim, tc.opt)
		}
	}
}

// TestKernelsAgree checks the SIMD kernel, where the machine has one,
// against the portable one on exact data with ragged sizes.
func TestKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, dim := range []int{1, 2, 3, 8, 37, 128} {
		const nq, nr, ldo, ldm, rows = 13, 75, 96, 6, 18
		q := gridData[float32](rng, nq, dim)
		r := gridData[float32](rng, nr, dim)
		fast := newSIMDKernel(q, r, dim)
		if fast == nil {
			t.Skip("no SIMD kernel on this machine")
		}
		slow := &goKernel[float32]{q: q, r: r, rnorm: sqNorms(r, dim), dim: dim}
		thr := make([]float32, rows)
		for i := range thr {
			thr[i] = float32(rng.IntN(4 * dim))
		}
		for _, r0 := range []int{0, 16, 64} {
			want, got := make([]float32, rows*ldo), make([]float32, rows*ldo)
			wantMask, gotMask := make([]uint16, rows*ldm), make([]uint16, rows*ldm)
			slow.scores(want, ldo, wantMask, ldm, slow.packQueries(nil, 0, nq), thr, nq, r0, nr)
			fast.scores(got, ldo, gotMask, ldm, fast.packQueries(make([]float32, rows*dim), 0, nq), thr, nq, r0, nr)
			for i := range nq {
				for j := range nr - r0 {
					if got[i*ldo+j] != want[i*ldo+j] {
						t.Fatalf("dim %d r0 %d: score(%d, %d) = %v, want %v", dim, r0, i, r0+j, got[i*ldo+j], want[i*ldo+j])
					}
				}
				words := (nr - r0 + maskBits - 1) / maskBits
				if g, w := gotMask[i*ldm:i*ldm+words], wantMask[i*ldm:i*ldm+words]; !slices.Equal(g, w) {
					t.Fatalf("dim %d r0 %d query %d: mask %x, want %x", dim, r0, i, g, w)
				}
			}
		}
	}
}

func TestSelectKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	scores := []float32{float32(math.Inf(-1)), -3, -1e-30, 0, float32(math.Copysign(0, -1)), 1e-30, 2, 2, float32(math.Inf(1))}
	for range 200 {
		n := 1 + rng.IntN(60)
		c := make([]cand[float32], n)
		keys := make([]uint64, n)
		for i := range c {
			c[i] = cand[float32]{s: scores[rng.IntN(len(scores))], i: int32(i)}
			keys[i] = scoreKey(c[i].s, c[i].i)
		}
		k := 1 + rng.IntN(n)
		want := slices.Clone(c)
		slices.SortFunc(want, candCmp[float32])
		selectKeys(keys, k)
		got := keys[:k]
		slices.Sort(got)
		for j, key := range got {
			if g := (cand[float32]{keyScore(key), int32(uint32(key))}); g != want[j] {
				t.Fatalf("n %d k %d: %d-th best %v, want %v", n, k, j, g, want[j])
			}
		}
	}
}

// TestSelectors drives both selectors as the search does (candidates in
// index order, only those below the threshold) and checks the k best.
func TestSelectors(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	type run struct {
		k, nr  int
		scores func(i int) float32
	}
	var runs []run
	for range 100 {
		k, nr := 1+rng.IntN(300), 1+rng.IntN(3000)
		switch rng.IntN(3) {
		case 0: // random order
			runs = append(runs, run{k, nr, func(int) float32 { return rng.Float32() }})
		case 1: // many ties
			runs = append(runs, run{k, nr, func(int) float32 { return float32(rng.IntN(4)) }})
		default: // each candidate better than the last: the threshold moves all the time
			runs = append(runs, run{k, nr, func(i int) float32 { return float32(nr - i) }})
		}
	}
	// The sampled positions of the first full buffer hold the smallest
	// scores, so the sample's pivot keeps fewer than k: the exact fallback.
	const k, nr = 200, 5000
	stride := bufferSize(k, nr) / 64
	runs = append(runs, run{k, nr, func(i int) float32 {
		if i < bufferSize(k, nr) && i%stride == 0 {
			return float32(i) / 1e6
		}
		return 1 + float32(i)
	}})
	for _, r := range runs {
		scores := make([]float32, r.nr)
		for i := range scores {
			scores[i] = r.scores(i)
		}
		want := make([]cand[float32], r.nr)
		for i, s := range scores {
			want[i] = cand[float32]{s, int32(i)}
		}
		slices.SortFunc(want, candCmp[float32])
		want = want[:min(r.k, r.nr)]
		for _, h := range []selector[float32]{newSelector[float32](r.k, r.nr), &candTopK[float32]{buf: make([]cand[float32], 0, bufferSize(r.k, r.nr)), k: r.k}} {
			h.reset()
			thr := h.threshold()
			for i, s := range scores {
				if s < thr {
					thr = h.push(s, int32(i))
				}
			}
			idx := make([]int32, r.k)
			sc := make([]float32, r.k)
			n := h.best(idx, sc)
			for j := range n {
				if (cand[float32]{sc[j], idx[j]}) != want[j] {
					t.Fatalf("%T k %d nr %d: %d-th best (%v, %d), want %v", h, r.k, r.nr, j, sc[j], idx[j], want[j])
				}
			}
			if n != len(want) {
				t.Fatalf("%T k %d nr %d: %d best, want %d", h, r.k, r.nr, n, len(want))
			}
		}
	}
}
