package loss

import (
	"math"

	"github.com/bench-ml/bench/internal/config"
)

// tupletMargin is PML's TupletMarginLoss, per positive pair (a, p):
// log(1 + sum_{negative pairs (a, n)} exp(scale (s_an - cos(theta_ap - margin)))),
// theta_ap = acos(s_ap), margin in degrees in the config.
type tupletMargin struct {
	dist          Distance
	margin, scale float64 // margin in radians
}

func newTupletMargin(p *config.Params) Loss {
	l := &tupletMargin{
		margin: p.Float("margin", 5.73) * math.Pi / 180,
		scale:  p.Float("scale", 64),
		dist:   config.BuildNested(p, Distances, "distance", config.C("CosineSimilarity", nil)),
	}
	requireDistance(p, l.dist, &CosineSimilarity{})
	return newMetric(p, l, "MeanReducer")
}

// The log(1 + sum exp(x_n - c)) is computed as logsumexp({x_n} ∪ {c}) - c.
// PML's acos has no clamp (a similarity rounded above 1 gives NaN there);
// here it is clamped to [-1, 1].
func (l *tupletMargin) subLosses(b *batch) ([]subLoss, error) {
	pr, ok := pairsOf(b, l.dist, true)
	if !ok {
		return nil, nil
	}
	t, mat, a1, p, a2, n := b.t, pr.mat, pr.a1, pr.p, pr.a2, pr.n
	angles := t.Acos(t.Clamp(pairValues(t, mat, a1, p), -1, 1))
	pos := t.Scale(t.Cos(t.Shift(angles, -l.margin)), l.scale)
	logits := t.Concat(t.Scale(pairValues(t, mat, a2, n), l.scale), pos)
	negs := negativesOf(a2)
	groups := make([][]int, len(a1))
	for k, a := range a1 {
		groups[k] = append([]int{len(a2) + k}, negs[a]...)
	}
	losses := t.Sub(t.GroupLogSumExp(logits, groups), t.Reshape(pos, len(a1), 1))
	return []subLoss{elementLoss("loss", losses)}, nil
}
