package loss

import (
	"github.com/bench-ml/bench/internal/config"
)

// ntXent is PML's NTXentLoss, per positive pair (a, p):
// -log(exp(s_ap/T) / (exp(s_ap/T) + sum_{negative pairs (a, n)} exp(s_an/T)))
// (negated distances for a non-inverted distance).
type ntXent struct {
	dist        Distance
	temperature float64
}

func newNTXent(p *config.Params) Loss {
	l := &ntXent{
		temperature: p.Float("temperature", 0.07, config.Above(0)),
		dist:        config.BuildNested(p, Distances, "distance", config.C("CosineSimilarity", nil)),
	}
	return newMetric(p, l, "MeanReducer")
}

// PML adds float64's smallest normal inside the log; it changes the loss
// only for ratios below 1e-290, which cosine similarities at any sane
// temperature cannot reach, so it is left out.
func (l *ntXent) subLosses(b *batch) ([]subLoss, error) {
	pr, ok := pairsOf(b, l.dist, true)
	if !ok {
		return nil, nil
	}
	t, mat, a1, p, a2, n := b.t, pr.mat, pr.a1, pr.p, pr.a2, pr.n
	scale := 1 / l.temperature
	if !l.dist.Inverted() {
		scale = -scale
	}
	pos := t.Scale(pairValues(t, mat, a1, p), scale)
	logits := t.Concat(pos, t.Scale(pairValues(t, mat, a2, n), scale))
	// Pair k's denominator: itself and its anchor's negatives.
	negs := negativesOf(a2)
	groups := make([][]int, len(a1))
	for k, a := range a1 {
		groups[k] = append(groups[k], k)
		for _, j := range negs[a] {
			groups[k] = append(groups[k], len(a1)+j)
		}
	}
	losses := t.Sub(t.GroupLogSumExp(logits, groups), t.Reshape(pos, len(a1), 1))
	return []subLoss{elementLoss("loss", losses)}, nil
}
