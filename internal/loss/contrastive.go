package loss

import (
	"github.com/bench-ml/bench/internal/config"
)

// contrastive is PML's ContrastiveLoss: relu(d - pos_margin) on positive
// pairs (pos_loss) and relu(neg_margin - d) on negative pairs (neg_loss),
// the sides swapped for similarities.
type contrastive struct {
	dist                 Distance
	posMargin, negMargin float64
}

func newContrastive(p *config.Params) Loss {
	return newMetric(p, readContrastive(p, "LpDistance"), "AvgNonZeroReducer")
}

// readContrastive reads the parameters ContrastiveLoss shares with
// SignalToNoiseRatioContrastiveLoss.
func readContrastive(p *config.Params, defaultDistance string) *contrastive {
	return &contrastive{
		posMargin: p.Float("pos_margin", 0),
		negMargin: p.Float("neg_margin", 1),
		dist:      config.BuildNested(p, Distances, "distance", config.C(defaultDistance, nil)),
	}
}

func (c *contrastive) subLosses(b *batch) ([]subLoss, error) {
	pr, ok := pairsOf(b, c.dist, false)
	if !ok {
		return nil, nil
	}
	t, mat, a1, pos, a2, neg := b.t, pr.mat, pr.a1, pr.p, pr.a2, pr.n
	posLoss := subLoss{name: "pos_loss", divisor: noDivisor}
	if len(a1) > 0 {
		posLoss.losses = t.Relu(marginAbove(t, c.dist, pairValues(t, mat, a1, pos), c.posMargin))
	}
	negLoss := subLoss{name: "neg_loss", divisor: noDivisor}
	if len(a2) > 0 {
		negLoss.losses = t.Relu(marginBelow(t, c.dist, c.negMargin, pairValues(t, mat, a2, neg)))
	}
	return []subLoss{posLoss, negLoss}, nil
}
