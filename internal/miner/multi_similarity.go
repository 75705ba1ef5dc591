package miner

import (
	"cmp"
	"slices"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
)

// MultiSimilarity is PML's MultiSimilarityMiner. For a similarity s it keeps
// a positive pair (a, p) when s_ap - Epsilon < max_n s_an and a negative
// pair (a, n) when s_an + Epsilon > min_p s_ap; for a distance the mirror
// image. An anchor without positives or without negatives keeps nothing.
// Per anchor the pairs come in increasing order of the matrix value, as
// PML's sort gives them.
type MultiSimilarity struct {
	Epsilon  float64
	Distance loss.Distance
}

func newMultiSimilarityMiner(p *config.Params) Miner {
	return &MultiSimilarity{
		Epsilon:  p.Float("epsilon", 0.1),
		Distance: config.BuildNested(p, loss.Distances, "distance", config.C("CosineSimilarity", nil)),
	}
}

// Mine implements Miner.
func (ms *MultiSimilarity) Mine(emb []float64, n, d int, labels []int) (*loss.Tuples, error) {
	if err := checkBatch(emb, n, d, labels); err != nil {
		return nil, err
	}
	return ms.mine(distances(ms.Distance, emb, n, d), labels), nil
}

func (ms *MultiSimilarity) mine(m mat, labels []int) *loss.Tuples {
	t := &loss.Tuples{}
	var pos, neg []int
	for a := range m.n {
		pos, neg = pos[:0], neg[:0]
		for j := range m.n {
			switch {
			case j == a:
			case labels[j] == labels[a]:
				pos = append(pos, j)
			default:
				neg = append(neg, j)
			}
		}
		if len(pos) == 0 || len(neg) == 0 {
			continue
		}
		row := m.v[a*m.n : (a+1)*m.n]
		byValue := func(i, j int) int { return cmp.Compare(row[i], row[j]) }
		slices.SortStableFunc(pos, byValue)
		slices.SortStableFunc(neg, byValue)
		minPos, maxPos := row[pos[0]], row[pos[len(pos)-1]]
		minNeg, maxNeg := row[neg[0]], row[neg[len(neg)-1]]
		for _, p := range pos {
			if m.inverted && row[p]-ms.Epsilon < maxNeg || !m.inverted && row[p]+ms.Epsilon > minNeg {
				t.A1, t.P = append(t.A1, a), append(t.P, p)
			}
		}
		for _, n := range neg {
			if m.inverted && row[n]+ms.Epsilon > minPos || !m.inverted && row[n]-ms.Epsilon < maxPos {
				t.A2, t.N = append(t.A2, a), append(t.N, n)
			}
		}
	}
	return t
}
