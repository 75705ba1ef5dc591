package loss

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// thresholdConsistentMargin is PML's ThresholdConsistentMarginLoss (TCM):
// lambda_plus times the mean of margin_plus - s over the positive pairs with
// s <= margin_plus, plus lambda_minus times the mean of s - margin_minus over
// the negative pairs with s >= margin_minus, s the cosine of the pair; a
// side without such pairs gives 0.
type thresholdConsistentMargin struct {
	lambdaPlus, lambdaMinus float64
	marginPlus, marginMinus float64
}

func newThresholdConsistentMargin(p *config.Params) Loss {
	l := &thresholdConsistentMargin{
		lambdaPlus:  p.Float("lambda_plus", 1),
		lambdaMinus: p.Float("lambda_minus", 1),
		marginPlus:  p.Float("margin_plus", 0.9),
		marginMinus: p.Float("margin_minus", 0.5),
	}
	dist := config.BuildNested(p, Distances, "distance", config.C("CosineSimilarity", nil))
	requireDistance(p, dist, &CosineSimilarity{})
	return newMetric(p, l, "MeanReducer")
}

func (l *thresholdConsistentMargin) subLosses(b *batch) ([]subLoss, error) {
	a1, p, a2, n := b.tuples.AsPairs(b.labels)
	t := b.t
	// PML takes F.cosine_similarity of the raw embeddings, whatever the
	// distance's power: the cosine, always.
	unit := t.NormalizeRows(b.emb, 2)
	cos := t.MatMulT(unit, unit)
	pos := l.side(t, cos, a1, p, func(s float64) bool { return s <= l.marginPlus }, -1, l.marginPlus, l.lambdaPlus)
	neg := l.side(t, cos, a2, n, func(s float64) bool { return s >= l.marginMinus }, 1, -l.marginMinus, l.lambdaMinus)
	var loss *ad.Node
	switch {
	case pos != nil && neg != nil:
		loss = t.Add(pos, neg)
	case pos != nil:
		loss = pos
	default:
		loss = neg
	}
	return []subLoss{{name: "loss", losses: loss, reduced: true, divisor: noDivisor}}, nil
}

// side is lambda * mean(sign*s + shift) over the pairs (rows, cols) whose
// cosine s is active, or nil when none is.
func (l *thresholdConsistentMargin) side(t *ad.Tape, cos *ad.Node, rows, cols []int, active func(float64) bool, sign, shift, lambda float64) *ad.Node {
	var ar, ac []int
	for k, i := range rows {
		if active(cos.Value[i*cos.Cols+cols[k]]) {
			ar, ac = append(ar, i), append(ac, cols[k])
		}
	}
	if len(ar) == 0 {
		return nil
	}
	s := pairValues(t, cos, ar, ac)
	return t.Scale(t.Mean(t.Shift(t.Scale(s, sign), shift)), lambda)
}
