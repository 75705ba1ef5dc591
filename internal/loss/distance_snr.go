package loss

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// SNRDistance is the signal-to-noise-ratio distance var(x - y) / var(x)
// (variances over the features), of L2-normalised embeddings by default. It
// is not symmetric.
type SNRDistance struct{ baseDistance }

func newSNRDistance(p *config.Params) Distance { return &SNRDistance{readBaseDistance(p)} }

func (s *SNRDistance) Inverted() bool { return false }

// Node uses var(x_i - y_j) / var(x_i) = |xc_i - yc_j|² / |xc_i|² with xc, yc
// the rows minus their means (the variances' 1/(d-1) cancels).
func (s *SNRDistance) Node(t *ad.Tape, x, y *ad.Node) *ad.Node {
	return s.compute(t, x, y, func(x, y *ad.Node) *ad.Node {
		xc := centerRows(t, x)
		yc := xc
		if y != x {
			yc = centerRows(t, y)
		}
		noise := t.Square(t.PairwiseLp(xc, yc, 2))
		signal := t.RowSums(t.Square(xc))
		return t.Div(noise, signal)
	})
}

func (s *SNRDistance) Matrix(x []float64, n int, y []float64, m int, d int) []float64 {
	return matrix(s, x, n, y, m, d)
}

// centerRows subtracts each row's mean.
func centerRows(t *ad.Tape, x *ad.Node) *ad.Node {
	return t.Sub(x, t.Scale(t.RowSums(x), 1/float64(x.Cols)))
}
