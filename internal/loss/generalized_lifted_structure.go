package loss

import (
	"github.com/bench-ml/bench/internal/config"
)

// generalizedLifted is PML's GeneralizedLiftedStructureLoss, per row i:
// relu(log sum_p exp(d_ip - pos_margin) + log sum_n exp(neg_margin - d_in)).
type generalizedLifted struct {
	dist                 Distance
	posMargin, negMargin float64
}

func newGeneralizedLifted(p *config.Params) Loss {
	l := &generalizedLifted{
		negMargin: p.Float("neg_margin", 1),
		posMargin: p.Float("pos_margin", 0),
		dist:      config.BuildNested(p, Distances, "distance", config.C("LpDistance", nil)),
	}
	return newMetric(p, l, "MeanReducer")
}

func (l *generalizedLifted) subLosses(b *batch) ([]subLoss, error) {
	mat, posMask, negMask, ok := maskedPairs(b, l.dist, false)
	if !ok {
		return nil, nil
	}
	t := b.t
	pos := t.LogSumExp(marginAbove(t, l.dist, mat, l.posMargin), posMask, false)
	neg := t.LogSumExp(marginBelow(t, l.dist, l.negMargin, mat), negMask, false)
	return []subLoss{elementLoss("loss", t.Relu(t.Add(pos, neg)))}, nil
}
