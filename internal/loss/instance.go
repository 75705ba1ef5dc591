package loss

import (
	"slices"

	"github.com/bench-ml/bench/internal/config"
)

// instance is PML's InstanceLoss (Zheng et al., Dual-Path Convolutional
// Image-Text Embeddings with Instance Loss): per row i the cross-entropy of
// the logits gamma * s_ij over every j of the batch (i itself included),
// its target the column c_i = the rank of i's label among the batch's
// distinct labels (torch.unique's return_inverse).
type instance struct {
	dist  Distance
	gamma float64
}

func newInstance(p *config.Params) Loss {
	l := &instance{
		gamma: p.Float("gamma", 64),
		dist:  config.BuildNested(p, Distances, "distance", config.C("CosineSimilarity", nil)),
	}
	requireDistance(p, l.dist, &CosineSimilarity{})
	return newMetric(p, l, "MeanReducer")
}

func (*instance) refusesTuples() {}

// The target is a column of the batch, not a class: PML feeds the label
// ranks to F.cross_entropy over the n x n similarities, so row i is pulled
// towards sample c_i, whatever its label. Kept as PML computes it.
func (l *instance) subLosses(b *batch) ([]subLoss, error) {
	n := len(b.labels)
	if n == 0 {
		return nil, nil
	}
	t := b.t
	logits := t.Scale(l.dist.Node(t, b.emb, b.emb), l.gamma)
	distinct := slices.Compact(slices.Sorted(slices.Values(b.labels)))
	cols := make([]int, n)
	for i, y := range b.labels {
		cols[i], _ = slices.BinarySearch(distinct, y)
	}
	return []subLoss{elementLoss("loss", crossEntropy(t, logits, cols))}, nil
}
