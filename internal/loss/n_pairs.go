package loss

import (
	"slices"

	"github.com/bench-ml/bench/internal/config"
)

// nPairs is PML's NPairsLoss (Sohn 2016): one positive pair (a_c, p_c) per
// label c, then for each, the cross-entropy of the similarities of a_c to
// every chosen positive with p_c as the target (negated distances for a
// non-inverted distance).
type nPairs struct {
	dist Distance
}

func newNPairs(p *config.Params) Loss {
	l := &nPairs{dist: config.BuildNested(p, Distances, "distance", config.C("DotProductSimilarity", nil))}
	return newMetric(p, l, "MeanReducer")
}

func (l *nPairs) subLosses(b *batch) ([]subLoss, error) {
	a, p := uniqueLabelPairs(b)
	if len(a) == 0 {
		return nil, nil
	}
	t := b.t
	sim := l.dist.Node(t, t.Rows(b.emb, a), t.Rows(b.emb, p))
	if !l.dist.Inverted() {
		sim = t.Scale(sim, -1)
	}
	targets := make([]int, len(a))
	for i := range targets {
		targets[i] = i
	}
	return []subLoss{elementLoss("loss", crossEntropy(t, sim, targets))}, nil
}

// uniqueLabelPairs is PML's convert_to_pos_pairs_with_unique_labels: of the
// positive pairs (the batch's in row-major order, or the miner's in its
// order; a triplet's anchor and positive), the first one of each anchor
// label, by ascending label (np.unique's return_index).
func uniqueLabelPairs(b *batch) (anchors, positives []int) {
	a1, p, _, _ := b.tuples.AsPairs(b.labels)
	first := map[int]int{} // label -> index of its first pair
	for k, a := range a1 {
		if _, ok := first[b.labels[a]]; !ok {
			first[b.labels[a]] = k
		}
	}
	labels := make([]int, 0, len(first))
	for label := range first {
		labels = append(labels, label)
	}
	slices.Sort(labels)
	for _, label := range labels {
		anchors, positives = append(anchors, a1[first[label]]), append(positives, p[first[label]])
	}
	return anchors, positives
}
