package loss

import (
	"github.com/bench-ml/bench/internal/config"
)

// tripletMargin is PML's TripletMarginLoss: relu(d_ap - d_an + margin) per
// triplet (softplus when smooth_loss; with swap, d_an is the closer of d_an
// and d_pn), the sides swapped for similarities.
type tripletMargin struct {
	dist         Distance
	margin       float64
	swap, smooth bool
	sampler      tripletSampler
}

func newTripletMargin(p *config.Params) Loss {
	l := &tripletMargin{
		margin:  p.Float("margin", 0.05),
		swap:    p.Bool("swap", false),
		smooth:  p.Bool("smooth_loss", false),
		sampler: readTripletSampler(p),
		dist:    config.BuildNested(p, Distances, "distance", config.C("LpDistance", nil)),
	}
	return newMetric(p, l, "AvgNonZeroReducer")
}

func (l tripletMargin) fresh() lossFunc { l.sampler = l.sampler.fresh(); return &l }

func (l *tripletMargin) samplerOf() *tripletSampler { return &l.sampler }

func (l *tripletMargin) subLosses(b *batch) ([]subLoss, error) {
	a, pos, neg := l.sampler.triplets(b)
	if len(a) == 0 {
		return nil, nil
	}
	t := b.t
	mat := l.dist.Node(t, b.emb, b.refs())
	ap, an := pairValues(t, mat, a, pos), pairValues(t, mat, a, neg)
	if l.swap {
		an = smallest(t, l.dist, an, pairValues(t, mat, pos, neg))
	}
	violation := t.Shift(marginOf(t, l.dist, ap, an), l.margin)
	loss := t.Relu(violation)
	if l.smooth {
		loss = t.Softplus(violation)
	}
	return []subLoss{{name: "loss", losses: loss, divisor: noDivisor}}, nil
}
