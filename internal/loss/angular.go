package loss

import (
	"math"

	"github.com/bench-ml/bench/internal/config"
)

// angular is PML's AngularLoss (Wang et al. 2017), per positive pair (a, p)
// of unit anchor and positive:
// log(1 + sum_{x_j of another label} exp(4 tan²α (a+p)·x_j - 2 (1+tan²α) a·p)).
// As in PML, the negatives are every batch element whose label differs from
// the anchor's, even with a miner (only its positive pairs are used), and
// x_j is the raw embedding: only the anchor and the positive are normalised.
// Against a reference set (CrossBatchMemory's memory) the positives and
// the x_j are references.
type angular struct {
	sqTanAlpha float64
}

func newAngular(p *config.Params) Loss {
	alpha := p.Float("alpha", 40) // degrees
	dist := config.BuildNested(p, Distances, "distance", config.C("LpDistance", nil))
	requireDistance(p, dist, &LpDistance{})
	// The formula is the law of cosines on unit vectors: PML asserts the
	// distance that says so, though it never computes it.
	if lp, ok := dist.(*LpDistance); ok && (lp.p != 2 || lp.power != 1 || !lp.normalize) {
		p.Fail("distance", "must be LpDistance with p: 2, power: 1, normalize_embeddings: true")
	}
	tan := math.Tan(alpha * (math.Pi / 180))
	return newMetric(p, &angular{sqTanAlpha: tan * tan}, "MeanReducer")
}

func (l *angular) subLosses(b *batch) ([]subLoss, error) {
	a1, p, a2, _ := b.tuples.AsPairs(b.labels)
	// PML needs a negative pair to exist, though it never uses them.
	if len(a1) == 0 || len(a2) == 0 {
		return nil, nil
	}
	t, refs, refLabels := b.t, b.refs(), b.labels
	if b.ref != nil {
		refLabels = b.refLabels
	}
	m := len(refLabels)
	anchors, positives := t.NormalizeRows(t.Rows(b.emb, a1), 2), t.NormalizeRows(t.Rows(refs, p), 2)
	apDot := t.RowSums(t.Mul(anchors, positives))       // pairs x 1
	apEmb := t.MatMulT(t.Add(anchors, positives), refs) // pairs x m
	final := t.Sub(t.Scale(apEmb, 4*l.sqTanAlpha), t.Scale(apDot, 2*(1+l.sqTanAlpha)))
	keep := make([]bool, len(a1)*m)
	for k, a := range a1 {
		for j, lj := range refLabels {
			keep[k*m+j] = lj != b.labels[a]
		}
	}
	// A pair whose anchor has no negative in the batch contributes 0 (and
	// still counts in the mean), as PML's masked logsumexp.
	return []subLoss{elementLoss("loss", t.LogSumExp(final, keep, true))}, nil
}
