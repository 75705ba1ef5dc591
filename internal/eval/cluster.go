package eval

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// kmeansMaxIter bounds Lloyd's iterations, as scikit-learn's default does;
// they stop earlier once no assignment changes.
const kmeansMaxIter = 300

// KMeans clusters the n x dim rows of x into k clusters and returns each
// row's cluster in 0..k-1. Centres start from k-means++ seeded with seed,
// then Lloyd's iterations run to convergence, so the result is a function
// of (x, k, seed) alone, whatever the number of cores.
func KMeans[T Float](x []T, dim, k int, seed int64) ([]int, error) {
	if dim <= 0 || len(x)%dim != 0 {
		return nil, fmt.Errorf("eval: k-means on %d values with dimension %d", len(x), dim)
	}
	n := len(x) / dim
	if k <= 0 || k > n {
		return nil, fmt.Errorf("eval: k-means with %d clusters for %d points", k, n)
	}
	centres := kmeansPlusPlus(x, dim, k, rand.New(rand.NewPCG(uint64(seed), 0x5851f42d4c957f2d)))
	assign := make([]int, n)
	dist := make([]T, n)
	for it := 0; it < kmeansMaxIter; it++ {
		var changed atomic.Bool
		err := Search(x, centres, dim, SearchOptions{K: 1}, func(q int, idx []int32, d []T) {
			if c := int(idx[0]); c != assign[q] || it == 0 {
				assign[q] = c
				changed.Store(true)
			}
			dist[q] = d[0]
		})
		if err != nil {
			return nil, err
		}
		if !changed.Load() {
			break
		}
		updateCentres(x, dim, assign, dist, centres)
	}
	return assign, nil
}

// kmeansPlusPlus picks k initial centres, each next one with probability
// proportional to its squared distance from the nearest centre so far.
func kmeansPlusPlus[T Float](x []T, dim, k int, rng *rand.Rand) []T {
	n := len(x) / dim
	centres := make([]T, 0, k*dim)
	first := rng.IntN(n)
	centres = append(centres, x[first*dim:(first+1)*dim]...)
	d2 := make([]float64, n)
	for i := range d2 {
		d2[i] = math.Inf(1)
	}
	for c := 1; ; c++ {
		newest := centres[(c-1)*dim : c*dim]
		parallelFor(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				d2[i] = min(d2[i], sqDist(x[i*dim:(i+1)*dim], newest))
			}
		})
		if c == k {
			return centres
		}
		var total float64
		for _, d := range d2 {
			total += d
		}
		pick := n - 1
		target := rng.Float64() * total
		for i, d := range d2 {
			if target < d {
				pick = i
				break
			}
			target -= d
		}
		centres = append(centres, x[pick*dim:(pick+1)*dim]...)
	}
}

// updateCentres moves each centre to the mean of its points, summed in
// float64 in point order. An empty cluster takes the point farthest from
// its centre (ties: the smaller index), so that k clusters survive.
func updateCentres[T Float](x []T, dim int, assign []int, dist []T, centres []T) {
	k := len(centres) / dim
	sums := make([]float64, k*dim)
	counts := make([]int, k)
	for i, c := range assign {
		counts[c]++
		s := sums[c*dim : (c+1)*dim]
		for l, v := range x[i*dim : (i+1)*dim] {
			s[l] += float64(v)
		}
	}
	var byDist []int
	for c := range k {
		if counts[c] > 0 {
			for l := range dim {
				centres[c*dim+l] = T(sums[c*dim+l] / float64(counts[c]))
			}
			continue
		}
		if byDist == nil {
			byDist = make([]int, len(assign))
			for i := range byDist {
				byDist[i] = i
			}
			slices.SortStableFunc(byDist, func(a, b int) int { return cmp.Compare(dist[b], dist[a]) })
		}
		p := byDist[0]
		byDist = byDist[1:]
		copy(centres[c*dim:(c+1)*dim], x[p*dim:(p+1)*dim])
	}
}

func sqDist[T Float](a, b []T) float64 {
	var s float64
	for i, v := range a {
		d := float64(v) - float64(b[i])
		s += d * d
	}
	return s
}

// parallelFor runs f on contiguous chunks of 0..n, one per core.
func parallelFor(n int, f func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), max(n/1024, 1))
	var wg sync.WaitGroup
	for i := range w {
		lo, hi := i*n/w, (i+1)*n/w
		wg.Go(func() { f(lo, hi) })
	}
	wg.Wait()
}

// contingency is the sparse table of co-occurrences of two labelings,
// with the labels renumbered 0..len(a)-1 and 0..len(b)-1.
type contingency struct {
	n     int
	a, b  []int // row and column sums
	cells []int // non-zero counts n_ij
	rows  []int // their row i
	cols  []int // and column j
}

func newContingency(u, v []int) contingency {
	ui, nu := dense(u)
	vi, nv := dense(v)
	t := contingency{n: len(u), a: make([]int, nu), b: make([]int, nv)}
	pairs := make([]int64, len(u))
	for i := range u {
		t.a[ui[i]]++
		t.b[vi[i]]++
		pairs[i] = int64(ui[i])*int64(nv) + int64(vi[i])
	}
	slices.Sort(pairs)
	for i := 0; i < len(pairs); {
		j := i
		for j < len(pairs) && pairs[j] == pairs[i] {
			j++
		}
		t.cells = append(t.cells, j-i)
		t.rows = append(t.rows, int(pairs[i]/int64(nv)))
		t.cols = append(t.cols, int(pairs[i]%int64(nv)))
		i = j
	}
	return t
}

// dense renumbers labels by their sorted order.
func dense(labels []int) ([]int, int) {
	uniq := slices.Clone(labels)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)
	out := make([]int, len(labels))
	for i, l := range labels {
		out[i], _ = slices.BinarySearch(uniq, l)
	}
	return out, len(uniq)
}

// entropy of a labeling given its class counts, in nats.
func entropy(counts []int, n int) float64 {
	if n == 0 {
		return 1
	}
	var h float64
	logN := math.Log(float64(n))
	for _, c := range counts {
		if c > 0 {
			h -= float64(c) / float64(n) * (math.Log(float64(c)) - logN)
		}
	}
	return h
}

// mutualInfo follows scikit-learn's mutual_info_score term by term.
func (t contingency) mutualInfo() float64 {
	if len(t.a) == 1 || len(t.b) == 1 {
		return 0
	}
	n := float64(t.n)
	logN := math.Log(n)
	var mi float64
	for c, nij := range t.cells {
		p := float64(nij) / n
		outer := float64(t.a[t.rows[c]]) * float64(t.b[t.cols[c]])
		term := p*(math.Log(float64(nij))-logN) + p*(-math.Log(outer)+2*logN)
		if math.Abs(term) < 0x1p-52 {
			term = 0
		}
		mi += term
	}
	return max(mi, 0)
}

// expectedMutualInfo is E[MI] under the hypergeometric model of random
// labelings with the same class sizes (Vinh, Epps and Bailey 2010), as
// scikit-learn computes it. The sum over all row x column pairs only
// depends on their sizes, so it runs over distinct (a_i, b_j) size pairs
// weighted by multiplicity: with balanced classes that is one pair instead
// of R x C.
func (t contingency) expectedMutualInfo() float64 {
	if len(t.a) == 1 || len(t.b) == 1 {
		return 0
	}
	n := t.n
	N := float64(n)
	lf := make([]float64, n+1) // lf[m] = log(m!)
	for m := 2; m <= n; m++ {
		lf[m] = lf[m-1] + math.Log(float64(m))
	}
	as, am := sizeHistogram(t.a)
	bs, bm := sizeHistogram(t.b)
	logN := math.Log(N)
	var emi float64
	for x, a := range as {
		for y, b := range bs {
			var s float64
			base := lf[a] + lf[b] + lf[n-a] + lf[n-b] - lf[n]
			for nij := max(1, a+b-n); nij <= min(a, b); nij++ {
				gln := base - lf[nij] - lf[a-nij] - lf[b-nij] - lf[n-a-b+nij]
				term2 := logN + math.Log(float64(nij)) - math.Log(float64(a)) - math.Log(float64(b))
				s += float64(nij) / N * term2 * math.Exp(gln)
			}
			emi += float64(am[x]*bm[y]) * s
		}
	}
	return emi
}

// sizeHistogram returns the distinct values of counts and how often each
// occurs.
func sizeHistogram(counts []int) (sizes, mult []int) {
	s := slices.Clone(counts)
	slices.Sort(s)
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		sizes = append(sizes, s[i])
		mult = append(mult, j-i)
		i = j
	}
	return sizes, mult
}

// NMI is the normalized mutual information of two labelings of the same
// points, with scikit-learn's default arithmetic-mean normalisation.
func NMI(labels, clusters []int) float64 {
	t := newContingency(labels, clusters)
	if len(t.a) == len(t.b) && len(t.a) <= 1 {
		return 1 // both labelings put every point together: a perfect match
	}
	mi := t.mutualInfo()
	if mi == 0 {
		return 0
	}
	return mi / ((entropy(t.a, t.n) + entropy(t.b, t.n)) / 2)
}

// AMI is the adjusted mutual information of two labelings, with
// scikit-learn's default arithmetic-mean normalisation: 1 for identical
// labelings, about 0 for independent ones, possibly negative.
func AMI(labels, clusters []int) float64 {
	t := newContingency(labels, clusters)
	// Both labelings in one cluster, or both all singletons: identical
	// partitions whose MI equals its expectation, so AMI is 0/0; it is 1
	// like any perfect match (scikit-learn gets there by rounding).
	if len(t.a) == len(t.b) && (len(t.a) <= 1 || len(t.a) == t.n) {
		return 1
	}
	mi := t.mutualInfo()
	emi := t.expectedMutualInfo()
	den := (entropy(t.a, t.n)+entropy(t.b, t.n))/2 - emi
	// A perfect match can leave den at 0 or a rounding error below it;
	// keep its sign and avoid 0/0, as scikit-learn does.
	const eps = 0x1p-52
	if den < 0 {
		den = min(den, -eps)
	} else {
		den = max(den, eps)
	}
	return (mi - emi) / den
}
