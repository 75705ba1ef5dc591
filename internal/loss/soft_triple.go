package loss

import (
	"github.com/bench-ml/bench/internal/config"
)

// softTriple is PML's SoftTripleLoss: each class has centers_per_class
// centres (columns of fc, D x C*K, centre k of class c at column c*K+k);
// the similarity to a class is the softmax(s/gamma)-weighted mean of the
// similarities to its centres; then cross-entropy of
// la * (similarity - margin at the label). PML has no centre regulariser.
type softTriple struct {
	*classWeights
	dist                 Distance
	centers              int
	la, gammaInv, margin float64
}

func newSoftTriple(p *config.Params) Loss {
	l := &softTriple{
		centers:  p.Int("centers_per_class", 10, config.Min(1)),
		la:       p.Float("la", 20),
		gammaInv: 1 / p.Float("gamma", 0.1, config.Above(0)),
		margin:   p.Float("margin", 0.01),
		dist:     config.BuildNested(p, Distances, "distance", config.C("CosineSimilarity", nil)),
	}
	l.classWeights = readClassWeights(p, "fc", func(c, e int) []int { return []int{e, c * l.centers} }, initKaimingUniformSqrt5)
	if l.dist != nil && !l.dist.Inverted() {
		p.Fail("distance", "must be a similarity (CosineSimilarity or DotProductSimilarity)")
	}
	return newShaped(p, l, l.classWeights, "MeanReducer")
}

func (l softTriple) with(cw *classWeights) lossFunc { l.classWeights = cw; return &l }

func (l *softTriple) subLosses(b *batch) ([]subLoss, error) {
	fc, err := l.node(b)
	if err != nil {
		return nil, err
	}
	t := b.t
	n, classes := len(b.labels), l.numClasses
	sims := t.Reshape(l.dist.Node(t, b.emb, t.T(fc)), n*classes, l.centers)
	prob := t.Softmax(t.Scale(sims, l.gammaInv), nil)
	toClasses := t.Reshape(t.RowSums(t.Mul(prob, sims)), n, classes)
	margins := make([]float64, n*classes)
	for _, i := range targets(b.labels, classes) {
		margins[i] = l.margin
	}
	logits := t.Scale(t.Sub(toClasses, t.Const(margins, n, classes)), l.la)
	return []subLoss{weightedCrossEntropy(b, logits)}, nil
}
