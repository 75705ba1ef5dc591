package loss

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// CosineSimilarity is the dot product of L2-normalised embeddings.
type CosineSimilarity struct{ baseDistance }

func newCosineSimilarity(p *config.Params) Distance {
	b := readBaseDistance(p)
	if !b.normalize {
		p.Fail("normalize_embeddings", "CosineSimilarity always normalises (use DotProductSimilarity for raw dot products)")
	}
	return &CosineSimilarity{b}
}

func (s *CosineSimilarity) Inverted() bool { return true }

func (s *CosineSimilarity) Node(t *ad.Tape, x, y *ad.Node) *ad.Node {
	return s.compute(t, x, y, t.MatMulT)
}

func (s *CosineSimilarity) Matrix(x []float64, n int, y []float64, m int, d int) []float64 {
	return matrix(s, x, n, y, m, d)
}
