package loss

import (
	"github.com/bench-ml/bench/internal/config"
)

// normalizedSoftmax is PML's NormalizedSoftmaxLoss: cross-entropy of the
// similarities of the embeddings with the L2-normalised columns of W
// (D x C), divided by temperature.
type normalizedSoftmax struct {
	*classWeights
	dist        Distance
	temperature float64
}

func newNormalizedSoftmax(p *config.Params) Loss {
	l := &normalizedSoftmax{
		temperature:  p.Float("temperature", 0.05, config.Above(0)),
		classWeights: readClassWeights(p, "W", embeddingByClass, initNormal),
		dist:         config.BuildNested(p, Distances, "distance", config.C("DotProductSimilarity", nil)),
	}
	// PML asserts a DotProductSimilarity, which CosineSimilarity is too.
	requireDistance(p, l.dist, &DotProductSimilarity{}, &CosineSimilarity{})
	return newShaped(p, l, l.classWeights, "MeanReducer")
}

func (l normalizedSoftmax) with(cw *classWeights) lossFunc { l.classWeights = cw; return &l }

func (l *normalizedSoftmax) subLosses(b *batch) ([]subLoss, error) {
	w, err := l.node(b)
	if err != nil {
		return nil, err
	}
	t := b.t
	classes := t.NormalizeRows(t.T(w), 2) // the normalised columns of W, as rows
	logits := t.Scale(l.dist.Node(t, b.emb, classes), 1/l.temperature)
	return []subLoss{weightedCrossEntropy(b, logits)}, nil
}
