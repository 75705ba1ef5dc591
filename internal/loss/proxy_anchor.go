package loss

import (
	"github.com/bench-ml/bench/internal/config"
)

// proxyAnchor is PML's ProxyAnchorLoss with proxies (C x D): for each class
// c, pos_loss log(1 + sum_{i of c} exp(-alpha (cos_ic - margin))) summed over
// the classes in the batch and divided by their number, and neg_loss
// log(1 + sum_{i not of c} exp(alpha (cos_ic + margin))) summed over all
// classes and divided by num_classes (DivisorReducer).
type proxyAnchor struct {
	*classWeights
	dist          Distance
	margin, alpha float64
}

func newProxyAnchor(p *config.Params) Loss {
	l := &proxyAnchor{
		margin:       p.Float("margin", 0.1),
		alpha:        p.Float("alpha", 32),
		classWeights: readClassWeights(p, "proxies", classByEmbedding, initKaimingNormalFanOut),
		dist:         config.BuildNested(p, Distances, "distance", config.C("CosineSimilarity", nil)),
	}
	return newShaped(p, l, l.classWeights, "DivisorReducer")
}

// classByEmbedding is the C x D layout of proxies.
func classByEmbedding(c, e int) []int { return []int{c, e} }

func (l proxyAnchor) with(cw *classWeights) lossFunc { l.classWeights = cw; return &l }

func (l *proxyAnchor) subLosses(b *batch) ([]subLoss, error) {
	proxies, err := l.node(b)
	if err != nil {
		return nil, err
	}
	t := b.t
	n, classes := len(b.labels), l.numClasses
	cos := l.dist.Node(t, b.emb, proxies)
	// PML adds the miner weights minus 1 to the exponents.
	w := minerWeights(b.tuples, n, false)
	for i := range w {
		w[i]--
	}
	shift := t.Const(w, n, 1)
	// Masks by class (C x N), for logsumexp over the batch.
	posMask, negMask := make([]bool, classes*n), make([]bool, classes*n)
	present := map[int]bool{}
	for i, y := range b.labels {
		present[y] = true
		for c := range classes {
			posMask[c*n+i] = c == y
			negMask[c*n+i] = c != y
		}
	}
	posExp := t.Add(t.Scale(marginAbove(t, l.dist, cos, l.margin), l.alpha), shift)
	negExp := t.Add(t.Scale(marginBelow(t, l.dist, -l.margin, cos), l.alpha), shift)
	return []subLoss{
		{name: "pos_loss", losses: rowVector(t.LogSumExp(t.T(posExp), posMask, true)), divisor: float64(len(present))},
		{name: "neg_loss", losses: rowVector(t.LogSumExp(t.T(negExp), negMask, true)), divisor: float64(classes)},
	}, nil
}
