package loss

import (
	"math"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// fastAP is PML's FastAPLoss: per row, 1 - the average precision estimated
// from soft histograms of the distances of its positives and negatives: bin
// b counts relu(1 - |d - mid_b| / delta), num_bins+1 bins at mid_b evenly
// over [0, 2^power], delta the spacing. Rows without positives are dropped.
type fastAP struct {
	dist    Distance
	power   float64
	numBins int
}

func newFastAP(p *config.Params) Loss {
	l := &fastAP{
		numBins: p.Int("num_bins", 10, config.Min(1)),
		dist:    config.BuildNested(p, Distances, "distance", config.C("LpDistance", map[string]any{"power": 2})),
	}
	requireDistance(p, l.dist, &LpDistance{})
	if lp, ok := l.dist.(*LpDistance); ok {
		l.power = lp.power
	}
	return newMetric(p, l, "MeanReducer")
}

func (l *fastAP) subLosses(b *batch) ([]subLoss, error) {
	n := len(b.labels)
	a1, p, a2, neg := AllPairs(b.labels).AsPairs(b.labels)
	posMask, negMask := pairMasks(n, a1, p, a2, neg)
	posCount, rows := rowCounts(posMask, n)
	if len(rows) == 0 {
		return nil, nil
	}
	t := b.t
	dist := l.dist.Node(t, b.emb, b.emb)
	isPos, isNeg := t.Const(floats(posMask), n, n), t.Const(floats(negMask), n, n)
	histMax := math.Pow(2, l.power)
	delta := histMax / float64(l.numBins)
	zero := t.Const(make([]float64, n), n, 1)
	var sum, cumPos, cumAll *ad.Node
	for bin := 0; bin <= l.numBins; bin++ {
		mid := histMax * float64(bin) / float64(l.numBins)
		pulse := t.Map(dist, func(x float64) float64 { return math.Max(1-math.Abs(x-mid)/delta, 0) },
			func(x, y float64) float64 {
				if y <= 0 || x == mid {
					return 0 // relu'(0) and abs'(0) are 0, as torch's
				}
				if x > mid {
					return -1 / delta
				}
				return 1 / delta
			})
		posHist, negHist := t.RowSums(t.Mul(pulse, isPos)), t.RowSums(t.Mul(pulse, isNeg))
		allHist := t.Add(posHist, negHist)
		if cumPos == nil {
			cumPos, cumAll = posHist, allHist
		} else {
			cumPos, cumAll = t.Add(cumPos, posHist), t.Add(cumAll, allHist)
		}
		product := t.Mul(posHist, cumPos)
		safe := make([]bool, n)
		for i := range safe {
			safe[i] = product.Value[i] > 0 && cumAll.Value[i] > 0
		}
		term := t.Where(safe, t.Div(product, cumAll), zero)
		if sum == nil {
			sum = term
		} else {
			sum = t.Add(sum, term)
		}
	}
	ap := t.Div(sum, t.Const(posCount, n, 1))
	weights := minerWeights(b.tuples, n, false)
	rowWeights := make([]float64, len(rows))
	for k, i := range rows {
		rowWeights[k] = weights[i]
	}
	losses := t.Mul(t.Shift(t.Scale(t.Gather(ap, rows), -1), 1), t.Const(rowWeights, 1, len(rows)))
	return []subLoss{elementLoss("loss", losses)}, nil
}
