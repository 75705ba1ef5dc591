package loss

import (
	"fmt"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// marginLoss is PML's MarginLoss: relu(d_ap - beta + margin) +
// relu(beta - d_an + margin) per triplet, divided (DivisorReducer) by the
// number of active terms; beta is one value or one per class
// (num_classes), learnt when learn_beta, with a regulariser nu*beta.
type marginLoss struct {
	dist       Distance
	margin, nu float64
	sampler    tripletSampler
	learnBeta  bool
	beta       *Weight
}

func newMarginLoss(p *config.Params) Loss {
	l := &marginLoss{
		margin:    p.Float("margin", 0.2),
		nu:        p.Float("nu", 0),
		sampler:   readTripletSampler(p),
		learnBeta: p.Bool("learn_beta", false),
	}
	beta := p.Float("beta", 1.2)
	size := max(p.Int("num_classes", 0, config.Min(0)), 1) // 0 is PML's None: one beta
	l.beta = &Weight{Name: "beta", Shape: []int{size}, Value: make([]float64, size), Grad: make([]float64, size)}
	for i := range l.beta.Value {
		l.beta.Value[i] = beta
	}
	l.dist = config.BuildNested(p, Distances, "distance", config.C("LpDistance", nil))
	return newMetric(p, l, "DivisorReducer")
}

func (l marginLoss) fresh() lossFunc {
	l.sampler, l.beta = l.sampler.fresh(), l.beta.clone()
	return &l
}

func (l *marginLoss) samplerOf() *tripletSampler { return &l.sampler }

func (l *marginLoss) weights() []*Weight {
	if l.learnBeta {
		return []*Weight{l.beta}
	}
	return nil
}

func (l *marginLoss) subLosses(b *batch) ([]subLoss, error) {
	a, pos, neg := l.sampler.triplets(b)
	if len(a) == 0 {
		return nil, nil
	}
	t := b.t
	beta := t.Const(l.beta.Value, 1, len(l.beta.Value))
	if l.learnBeta {
		beta = weightNode(l.beta)
	}
	perClass := len(l.beta.Value) > 1
	if perClass {
		classes := make([]int, len(a))
		for k, i := range a {
			classes[k] = b.labels[i]
			if classes[k] >= len(l.beta.Value) {
				return nil, fmt.Errorf("label %d is not below num_classes %d", classes[k], len(l.beta.Value))
			}
		}
		beta = t.Gather(beta, classes)
	}
	mat := l.dist.Node(t, b.emb, b.refs())
	posLoss := t.Relu(t.Shift(marginOf(t, l.dist, pairValues(t, mat, a, pos), beta), l.margin))
	negLoss := t.Relu(t.Shift(marginOf(t, l.dist, beta, pairValues(t, mat, a, neg)), l.margin))
	divisor := float64(countPositive(posLoss) + countPositive(negLoss))
	subs := []subLoss{{name: "margin_loss", losses: t.Add(posLoss, negLoss), divisor: divisor}}
	reg := subLoss{name: "beta_reg_loss", divisor: divisor}
	if l.learnBeta {
		reg.losses = t.Scale(beta, l.nu)
		reg.reduced = !perClass
	}
	return append(subs, reg), nil
}

func countPositive(n *ad.Node) int {
	c := 0
	for _, v := range n.Value {
		if v > 0 {
			c++
		}
	}
	return c
}
