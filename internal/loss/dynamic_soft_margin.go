package loss

import (
	"math"
	"slices"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// dynamicSoftMargin is PML's DynamicSoftMarginLoss: the mean over the
// triplets of CDF(x) x, x = d_ap - d_an, CDF the cumulative histogram of
// the x seen so far (num_bins bins of width 2|min_val|/num_bins from
// min_val), each batch blended in with weight momentum (the first one
// alone). The histogram is state: it belongs to one fold's training.
type dynamicSoftMargin struct {
	dist     Distance
	minVal   float64
	numBins  int
	delta    float64
	momentum float64
	hist     *Weight // num_bins zeros until the first batch
}

func newDynamicSoftMargin(p *config.Params) Loss {
	l := &dynamicSoftMargin{
		minVal:   p.Float("min_val", -2),
		numBins:  p.Int("num_bins", 10, config.Min(1)),
		momentum: p.Float("momentum", 0.01, config.Min(0), config.Max(1)),
		dist:     config.BuildNested(p, Distances, "distance", config.C("LpDistance", nil)),
	}
	if l.minVal == 0 {
		p.Fail("min_val", "must not be 0: the bins are 2|min_val|/num_bins wide")
	}
	l.delta = 2 * math.Abs(l.minVal) / float64(l.numBins)
	l.hist = emptyHistogram(l.numBins)
	requireDistance(p, l.dist, &LpDistance{})
	if lp, ok := l.dist.(*LpDistance); ok && (!lp.normalize || lp.p != 2) {
		p.Fail("distance", "must be LpDistance with normalize_embeddings true and p 2")
	}
	return newMetric(p, l, "MeanReducer")
}

// emptyHistogram is the empty histogram, a buffer a checkpoint keeps so that
// a resumed fold blends on.
func emptyHistogram(bins int) *Weight {
	return &Weight{Name: "hist", Shape: []int{bins}, Value: make([]float64, bins), Grad: make([]float64, bins)}
}

func (l dynamicSoftMargin) fresh() lossFunc { l.hist = emptyHistogram(l.numBins); return &l }

func (l *dynamicSoftMargin) buffers() []*Weight { return []*Weight{l.hist} }

func (l *dynamicSoftMargin) subLosses(b *batch) ([]subLoss, error) {
	a, pos, neg := b.tuples.AsTriplets(b.labels)
	if len(a) == 0 {
		return nil, nil // PML's zero loss, leaving the histogram alone
	}
	t := b.t
	mat := l.dist.Node(t, b.emb, b.emb)
	x := t.Sub(pairValues(t, mat, a, pos), pairValues(t, mat, a, neg))
	hist, bins := l.update(t, x)
	cdf := t.MatMul(t.Const(lowerTriangle(l.numBins), l.numBins, l.numBins), hist)
	loss := t.Mean(t.Mul(t.Gather(cdf, bins), x))
	copy(l.hist.Value, hist.Value)
	return []subLoss{{name: "loss", losses: loss, reduced: true, divisor: noDivisor}}, nil
}

// update is PML's update_histogram on the tape (numBins x 1, normalised):
// x at position (x - min_val)/delta splits its weight between its bin
// (1 - frac) and the next (frac). The fraction is differentiable, as in
// PML; the histogram carried from earlier batches is a constant. It also
// returns each x's bin.
//
// A position outside the bins, where PML fails with an index error, is
// clamped to the first or last bin's start.
func (l *dynamicSoftMargin) update(t *ad.Tape, x *ad.Node) (hist *ad.Node, bins []int) {
	nb, k := l.numBins, x.Len()
	last := float64(nb - 1)
	position := func(v float64) float64 { return (v - l.minVal) / l.delta }
	frac := t.Map(x, func(v float64) float64 {
		p := min(max(position(v), 0), last)
		return p - math.Floor(p)
	}, func(v, _ float64) float64 {
		if p := position(v); p >= 0 && p < last {
			return 1 / l.delta
		}
		return 0
	})
	bins = make([]int, k)
	base := make([]float64, nb)   // the weight of every x in its bin
	move := make([]float64, nb*k) // moved by each x's fraction to the next
	for i, v := range x.Value {
		bin := int(math.Floor(min(max(position(v), 0), last)))
		bins[i] = bin
		base[bin]++
		move[bin*k+i] = -1
		if bin+1 < nb {
			move[(bin+1)*k+i] = 1
		}
	}
	batch := t.Add(t.Const(base, nb, 1), t.MatMul(t.Const(move, nb, k), t.Reshape(frac, k, 1)))
	hist = batch
	// As PML, the first batch (an empty histogram) is taken alone.
	if slices.Max(l.hist.Value) > 0 {
		old := make([]float64, nb)
		for i, h := range l.hist.Value {
			old[i] = (1 - l.momentum) * h
		}
		hist = t.Add(t.Const(old, nb, 1), t.Scale(batch, l.momentum))
	}
	return t.Div(hist, t.Sum(hist)), bins
}

// lowerTriangle is the n x n matrix whose product with a column is its
// cumulative sum (and a row's product with its transpose, the row's).
func lowerTriangle(n int) []float64 {
	m := make([]float64, n*n)
	for i := range n {
		for j := 0; j <= i; j++ {
			m[i*n+j] = 1
		}
	}
	return m
}
