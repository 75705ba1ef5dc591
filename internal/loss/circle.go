package loss

import (
	"math"

	"github.com/bench-ml/bench/internal/config"
)

// circle is PML's CircleLoss, per row: softplus(logsumexp_p(-gamma a_p
// (s_p - (1-m))) + logsumexp_n(gamma a_n (s_n - m))) with the weights
// a_p = relu(1+m-s_p) and a_n = relu(s_n+m) detached, as PML; rows without
// a positive or a negative give 0.
type circle struct {
	dist     Distance
	m, gamma float64
}

func newCircle(p *config.Params) Loss {
	l := &circle{
		m:     p.Float("m", 0.4),
		gamma: p.Float("gamma", 80, config.Above(0)),
		dist:  config.BuildNested(p, Distances, "distance", config.C("CosineSimilarity", nil)),
	}
	requireDistance(p, l.dist, &CosineSimilarity{})
	return newMetric(p, l, "AvgNonZeroReducer")
}

func (l *circle) subLosses(b *batch) ([]subLoss, error) {
	mat, posMask, negMask, ok := maskedPairs(b, l.dist, false)
	if !ok {
		return nil, nil
	}
	t, rows, cols := b.t, mat.Rows, mat.Cols // anchors x references
	// The detached weights, -gamma a_p and gamma a_n, as constants.
	posWeight, negWeight := make([]float64, len(mat.Value)), make([]float64, len(mat.Value))
	for i, s := range mat.Value {
		posWeight[i] = -l.gamma * math.Max(1+l.m-s, 0)
		negWeight[i] = l.gamma * math.Max(s+l.m, 0)
	}
	posLogits := t.Mul(t.Const(posWeight, rows, cols), t.Shift(mat, -(1-l.m)))
	negLogits := t.Mul(t.Const(negWeight, rows, cols), t.Shift(mat, -l.m))
	losses := t.Softplus(t.Add(t.LogSumExp(posLogits, posMask, false), t.LogSumExp(negLogits, negMask, false)))
	both := make([]float64, rows)
	for i := range both {
		if anyTrue(posMask[i*cols:(i+1)*cols]) && anyTrue(negMask[i*cols:(i+1)*cols]) {
			both[i] = 1
		}
	}
	return []subLoss{elementLoss("loss", t.Mul(losses, t.Const(both, rows, 1)))}, nil
}

func anyTrue(mask []bool) bool {
	for _, m := range mask {
		if m {
			return true
		}
	}
	return false
}
