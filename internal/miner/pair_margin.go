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
	if err := checkBatch(emb, n, d, labels); err != nil {
		return nil, err
	}
	return pm.mine(distances(pm.Distance, emb, n, d), labels), nil
}

func (pm *PairMargin) mine(m mat, labels []int) *loss.Tuples {
	all := loss.AllPairs(labels)
	t := &loss.Tuples{}
	for i, a := range all.A1 {
		if v := m.at(a, all.P[i]); m.inverted && v < pm.PosMargin || !m.inverted && v > pm.PosMargin {
			t.A1, t.P = append(t.A1, a), append(t.P, all.P[i])
		}
	}
	for i, a := range all.A2 {
		if v := m.at(a, all.N[i]); m.inverted && v > pm.NegMargin || !m.inverted && v < pm.NegMargin {
			t.A2, t.N = append(t.A2, a), append(t.N, all.N[i])
		}
	}
	return t
}
