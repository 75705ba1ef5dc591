package loss

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// intraPairVariance is PML's IntraPairVarianceLoss (Yu and Tao 2019): with
// μ the mean similarity of the positive pairs, relu((1-pos_eps) μ - s)² per
// positive pair (pos_loss), penalising pairs much less similar than the
// others; with μ of the negative pairs, relu(s - (1+neg_eps) μ)² per negative
// pair (neg_loss). For a distance the two sides swap. μ is part of the
// gradient, as in PML.
type intraPairVariance struct {
	dist           Distance
	posEps, negEps float64
}

func newIntraPairVariance(p *config.Params) Loss {
	l := &intraPairVariance{
		posEps: p.Float("pos_eps", 0.01),
		negEps: p.Float("neg_eps", 0.01),
		dist:   config.BuildNested(p, Distances, "distance", config.C("CosineSimilarity", nil)),
	}
	return newMetric(p, l, "MeanReducer")
}

func (l *intraPairVariance) subLosses(b *batch) ([]subLoss, error) {
	pr, ok := pairsOf(b, l.dist, false)
	if !ok {
		return nil, nil
	}
	t := b.t
	posLoss := subLoss{name: "pos_loss", divisor: noDivisor}
	if len(pr.a1) > 0 {
		posLoss.losses = l.variance(t, pairValues(t, pr.mat, pr.a1, pr.p), l.posEps, l.dist.Inverted())
	}
	negLoss := subLoss{name: "neg_loss", divisor: noDivisor}
	if len(pr.a2) > 0 {
		negLoss.losses = l.variance(t, pairValues(t, pr.mat, pr.a2, pr.n), l.negEps, !l.dist.Inverted())
	}
	return []subLoss{posLoss, negLoss}, nil
}

// variance is PML's relu(variance_with_eps)²: how far each pair falls below
// (1-eps) times the mean when increase, or above (1+eps) times it.
func (l *intraPairVariance) variance(t *ad.Tape, pairs *ad.Node, eps float64, increase bool) *ad.Node {
	mean := t.Mean(pairs)
	var v *ad.Node
	if increase {
		v = t.Sub(t.Scale(mean, 1-eps), pairs)
	} else {
		v = t.Sub(pairs, t.Scale(mean, 1+eps))
	}
	return t.Square(t.Relu(v))
}
