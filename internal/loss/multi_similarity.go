package loss

import (
	"github.com/bench-ml/bench/internal/config"
)

// multiSimilarity is PML's MultiSimilarityLoss, per row i:
// (1/alpha) log(1 + sum_p exp(-alpha (s_ip - base))) +
// (1/beta) log(1 + sum_n exp(beta (s_in - base))).
type multiSimilarity struct {
	dist              Distance
	alpha, beta, base float64
}

func newMultiSimilarity(p *config.Params) Loss {
	l := &multiSimilarity{
		alpha: p.Float("alpha", 2, config.Above(0)),
		beta:  p.Float("beta", 50, config.Above(0)),
		base:  p.Float("base", 0.5),
		dist:  config.BuildNested(p, Distances, "distance", config.C("CosineSimilarity", nil)),
	}
	return newMetric(p, l, "MeanReducer")
}

func (l *multiSimilarity) subLosses(b *batch) ([]subLoss, error) {
	mat, posMask, negMask, ok := maskedPairs(b, l.dist, false)
	if !ok {
		return nil, nil
	}
	t := b.t
	pos := t.LogSumExp(t.Scale(marginAbove(t, l.dist, mat, l.base), l.alpha), posMask, true)
	neg := t.LogSumExp(t.Scale(marginBelow(t, l.dist, l.base, mat), l.beta), negMask, true)
	losses := t.Add(t.Scale(pos, 1/l.alpha), t.Scale(neg, 1/l.beta))
	return []subLoss{elementLoss("loss", losses)}, nil
}
