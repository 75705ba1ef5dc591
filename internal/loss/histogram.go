package loss

import (
	"fmt"
	"math"
	"sort"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// histogram is PML's HistogramLoss (Ustinova & Lempitsky): the similarities
// of the distinct positive pairs and of the distinct negative pairs are
// spread over histograms with nodes every delta on [-1, 1], each value
// split linearly between the two nodes around it; the loss is
// sum_r p_neg[r] cumsum(p_pos)[r], the probability that a negative pair is
// more similar than a positive one. The pairs are those of the triplets
// (all of them, or the miner's converted), each unordered pair once.
type histogram struct {
	dist  Distance
	delta float64
	nodes int
}

func newHistogram(p *config.Params) Loss {
	delta := p.OptFloat("delta", config.Above(0))
	nBins := 0
	if p.Written("n_bins") != nil || delta == nil {
		nBins = p.Int("n_bins", 100, config.Min(1))
	} else {
		p.Null("n_bins", "n_bins and delta must agree")
	}
	l := &histogram{dist: config.BuildNested(p, Distances, "distance", config.C("CosineSimilarity", nil))}
	switch {
	case delta == nil:
		l.delta = 2 / float64(nBins)
	case nBins != 0 && *delta != 2/float64(nBins):
		p.Fail("delta", "%v and n_bins %d must satisfy delta = 2/n_bins (give one of them)", *delta, nBins)
	default:
		l.delta = *delta
	}
	if l.delta > 0 {
		l.nodes = int(math.RoundToEven(1 + 2/l.delta)) // Python's round
	}
	return newMetric(p, l, "MeanReducer")
}

func (l *histogram) subLosses(b *batch) ([]subLoss, error) {
	a, p, n := b.tuples.AsTriplets(b.labels)
	if len(a) == 0 {
		return nil, nil
	}
	t := b.t
	mat := l.dist.Node(t, b.emb, b.emb)
	pos, err := l.density(t, mat, a, p)
	if err != nil {
		return nil, err
	}
	neg, err := l.density(t, mat, a, n)
	if err != nil {
		return nil, err
	}
	cumPos := t.MatMul(pos, t.T(t.Const(lowerTriangle(l.nodes), l.nodes, l.nodes))) // cumsum of the row
	loss := t.Sum(t.Mul(neg, cumPos))
	return []subLoss{{name: "loss", losses: loss, reduced: true, divisor: noDivisor}}, nil
}

// density is PML's compute_density of the distinct unordered pairs (x[k],
// y[k]): a 1 x nodes row, each value v in bin r = floor((v+1)/delta)
// adding (v+1-r delta)/delta to node r+1 and the rest to node r, divided by
// the number of pairs.
func (l *histogram) density(t *ad.Tape, mat *ad.Node, x, y []int) (*ad.Node, error) {
	rows, cols := distinctPairs(x, y)
	values := pairValues(t, mat, rows, cols)
	k := len(rows)
	lower, upper := make([]float64, k), make([]float64, k)
	toLower, toUpper := make([]float64, k*l.nodes), make([]float64, k*l.nodes)
	for i, v := range values.Value {
		if !(v >= -1-1e-9 && v <= 1+1e-9) {
			return nil, fmt.Errorf("a similarity of %v is outside [-1, 1], the range of the histogram (HistogramLoss needs CosineSimilarity or a normalised DotProductSimilarity)", v)
		}
		// PML computes the bin in float32.
		r := int(math.Floor(float64((float32(v) + 1) / float32(l.delta))))
		// PML fails to index a value in the last node (a similarity of 1);
		// the last bin extends to it.
		r = min(max(r, 0), l.nodes-2)
		lower[i] = float64(r)*l.delta - 1
		upper[i] = float64(r+1)*l.delta - 1
		toLower[i*l.nodes+r], toUpper[i*l.nodes+r+1] = 1, 1
	}
	scale := 1 / (l.delta * float64(k))
	toNext := t.Scale(t.Sub(values, t.Const(lower, 1, k)), scale) // (v - lower) / delta, to node r+1
	toThis := t.Scale(t.Sub(t.Const(upper, 1, k), values), scale) // (upper - v) / delta, to node r
	return t.Add(t.MatMul(toNext, t.Const(toUpper, k, l.nodes)), t.MatMul(toThis, t.Const(toLower, k, l.nodes))), nil
}

// distinctPairs is PML's filter_pairs: each pair ordered (min, max), repeats
// dropped, sorted.
func distinctPairs(x, y []int) (rows, cols []int) {
	seen := map[[2]int]bool{}
	var pairs [][2]int
	for k := range x {
		pr := [2]int{min(x[k], y[k]), max(x[k], y[k])}
		if !seen[pr] {
			seen[pr] = true
			pairs = append(pairs, pr)
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		return pairs[i][0] < pairs[j][0] || pairs[i][0] == pairs[j][0] && pairs[i][1] < pairs[j][1]
	})
	for _, pr := range pairs {
		rows, cols = append(rows, pr[0]), append(cols, pr[1])
	}
	return rows, cols
}
