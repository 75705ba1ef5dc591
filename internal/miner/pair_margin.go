package miner

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
)

// PairMargin is PML's PairMarginMiner: the positive pairs farther apart than
// PosMargin and the negative pairs closer than NegMargin (for a similarity:
// positives less similar than PosMargin, negatives more similar than
// NegMargin), ordered pairs row-major.
type PairMargin struct {
	PosMargin, NegMargin float64
	Distance             loss.Distance
}

func newPairMarginMiner(p *config.Params) Miner {
	return &PairMargin{
		PosMargin: p.Float("pos_margin", 0.2),
		NegMargin: p.Float("neg_margin", 0.8),
		Distance:  config.BuildNested(p, loss.Distances, "distance", defaultDistance),
	}
}

// Mine implements Miner.
func (pm *PairMargin) Mine(emb []float64, n, d int, labels []int) (*loss.Tuples, error) {
	return pm.mine(selfQuery(emb, n, d, labels))
}

func (pm *PairMargin) mine(q query) (*loss.Tuples, error) {
	return pm.tuples(distances(pm.Distance, q)), nil
}

func (pm *PairMargin) tuples(m mat) *loss.Tuples {
	t := m.allPairs()
	t.A1, t.P = keepPairs(m, t.A1, t.P, func(v float64) bool {
		return m.inverted && v < pm.PosMargin || !m.inverted && v > pm.PosMargin
	})
	t.A2, t.N = keepPairs(m, t.A2, t.N, func(v float64) bool {
		return m.inverted && v > pm.NegMargin || !m.inverted && v < pm.NegMargin
	})
	return t
}

// keepPairs keeps, in place, the pairs (a[i], b[i]) whose matrix value
// passes keep.
func keepPairs(m mat, a, b []int, keep func(v float64) bool) ([]int, []int) {
	kept := 0
	for i := range a {
		if keep(m.at(a[i], b[i])) {
			a[kept], b[kept] = a[i], b[i]
			kept++
		}
	}
	return a[:kept], b[:kept]
}
