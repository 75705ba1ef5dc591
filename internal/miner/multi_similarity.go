package miner

import (
	"cmp"
	"math"
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
	return ms.mine(selfQuery(emb, n, d, labels))
}

func (ms *MultiSimilarity) mine(q query) (*loss.Tuples, error) {
	return ms.tuples(distances(ms.Distance, q)), nil
}

func (ms *MultiSimilarity) tuples(m mat) *loss.Tuples {
	t := &loss.Tuples{}
	var pos, neg []int
	for a := range m.rows {
		row := m.v[a*m.cols : (a+1)*m.cols]
		minPos, maxPos := math.Inf(1), math.Inf(-1)
		minNeg, maxNeg := math.Inf(1), math.Inf(-1)
		nPos, nNeg := 0, 0
		for j, v := range row {
			switch {
			case m.positive(a, j):
				minPos, maxPos, nPos = min(minPos, v), max(maxPos, v), nPos+1
			case m.negative(a, j):
				minNeg, maxNeg, nNeg = min(minNeg, v), max(maxNeg, v), nNeg+1
			}
		}
		if nPos == 0 || nNeg == 0 {
			continue
		}
		pos, neg = pos[:0], neg[:0]
		for j, v := range row {
			switch {
			case m.positive(a, j):
				if m.inverted && v-ms.Epsilon < maxNeg || !m.inverted && v+ms.Epsilon > minNeg {
					pos = append(pos, j)
				}
			case m.negative(a, j) && (m.inverted && v+ms.Epsilon > minPos || !m.inverted && v-ms.Epsilon < maxPos):
				neg = append(neg, j)
			}
		}
		// PML lists them as its sort of the row gives them.
		byValue := func(i, j int) int { return cmp.Or(cmp.Compare(row[i], row[j]), cmp.Compare(i, j)) }
		slices.SortFunc(pos, byValue)
		slices.SortFunc(neg, byValue)
		for _, p := range pos {
			t.A1, t.P = append(t.A1, a), append(t.P, p)
		}
		for _, n := range neg {
			t.A2, t.N = append(t.A2, a), append(t.N, n)
		}
	}
	return t
}
