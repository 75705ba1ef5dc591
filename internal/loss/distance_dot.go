package loss

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// DotProductSimilarity is the dot product, of L2-normalised embeddings by
// default.
type DotProductSimilarity struct{ baseDistance }

func newDotProductSimilarity(p *config.Params) Distance {
	return &DotProductSimilarity{readBaseDistance(p)}
}

func (s *DotProductSimilarity) Inverted() bool { return true }

func (s *DotProductSimilarity) Node(t *ad.Tape, x, y *ad.Node) *ad.Node {
	return s.compute(t, x, y, t.MatMulT)
}

func (s *DotProductSimilarity) Matrix(x []float64, n int, y []float64, m int, d int) []float64 {
	return matrix(s, x, n, y, m, d)
}
