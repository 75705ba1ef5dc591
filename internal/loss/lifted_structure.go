package loss

import (
	"github.com/bench-ml/bench/internal/config"
)

// liftedStructure is PML's LiftedStructureLoss, per positive pair (a, p):
// relu(log sum exp(neg_margin - d_n) + d_ap - pos_margin)² / 2, the sum over
// the negative pairs of a and of p.
type liftedStructure struct {
	dist                 Distance
	posMargin, negMargin float64
}

func newLiftedStructure(p *config.Params) Loss {
	l := &liftedStructure{
		negMargin: p.Float("neg_margin", 1),
		posMargin: p.Float("pos_margin", 0),
		dist:      config.BuildNested(p, Distances, "distance", config.C("LpDistance", nil)),
	}
	return newMetric(p, l, "MeanReducer")
}

func (l *liftedStructure) subLosses(b *batch) ([]subLoss, error) {
	pr, ok := pairsOf(b, l.dist, true)
	if !ok {
		return nil, nil
	}
	t, mat, a1, p, a2, n := b.t, pr.mat, pr.a1, pr.p, pr.a2, pr.n
	negs := negativesOf(a2)
	groups := make([][]int, len(a1))
	for k, a := range a1 {
		groups[k] = append(groups[k], negs[a]...)
		if p[k] != a {
			groups[k] = append(groups[k], negs[p[k]]...)
		}
	}
	negLoss := t.GroupLogSumExp(marginBelow(t, l.dist, l.negMargin, pairValues(t, mat, a2, n)), groups)
	posLoss := t.Reshape(marginAbove(t, l.dist, pairValues(t, mat, a1, p), l.posMargin), len(a1), 1)
	losses := t.Scale(t.Square(t.Relu(t.Add(negLoss, posLoss))), 0.5)
	return []subLoss{elementLoss("loss", losses)}, nil
}
