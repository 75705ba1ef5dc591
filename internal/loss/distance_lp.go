package loss

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// LpDistance is the p-norm distance (torch.cdist), of L2-normalised
// embeddings by default.
type LpDistance struct{ baseDistance }

func newLpDistance(p *config.Params) Distance { return &LpDistance{readBaseDistance(p)} }

func (l *LpDistance) Inverted() bool { return false }

func (l *LpDistance) Node(t *ad.Tape, x, y *ad.Node) *ad.Node {
	return l.compute(t, x, y, func(x, y *ad.Node) *ad.Node { return t.PairwiseLp(x, y, l.p) })
}

func (l *LpDistance) Matrix(x []float64, n int, y []float64, m int, d int) []float64 {
	return matrix(l, x, n, y, m, d)
}
