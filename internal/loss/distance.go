package loss

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// Distance is one of PML's distances: a matrix of distances, or of
// similarities when Inverted, between two sets of embeddings.
type Distance interface {
	// Matrix is the row-major n x m matrix between the rows of x (n x d) and
	// the rows of y (m x d). Pass x twice for a batch against itself.
	Matrix(x []float64, n int, y []float64, m int, d int) []float64
	// Inverted reports a similarity (larger means closer), PML's is_inverted.
	Inverted() bool
	// Node computes the matrix on a tape, for gradients; x and y may be the
	// same node.
	Node(t *ad.Tape, x, y *ad.Node) *ad.Node
}

// Margin is PML's distance.margin(x, y): how far x is beyond y in the
// "farther apart" direction (x - y for distances, y - x for similarities).
func Margin(dist Distance, x, y float64) float64 {
	if dist.Inverted() {
		return y - x
	}
	return x - y
}

// matrix evaluates a distance without gradient.
func matrix(dist Distance, x []float64, n int, y []float64, m int, d int) []float64 {
	var t ad.Tape
	return dist.Node(&t, t.Const(x, n, d), t.Const(y, m, d)).Value
}

// baseDistance holds the parameters every PML distance has (BaseDistance):
// L2-normalising the inputs first (with the p-norm), and raising the matrix
// to a power.
type baseDistance struct {
	normalize bool
	p, power  float64
}

func readBaseDistance(p *config.Params) baseDistance {
	return baseDistance{
		normalize: p.Bool("normalize_embeddings", true),
		p:         p.Float("p", 2, config.Above(0)),
		power:     p.Float("power", 1),
	}
}

// compute normalises x and y if asked, applies mat, then the power.
func (b baseDistance) compute(t *ad.Tape, x, y *ad.Node, mat func(x, y *ad.Node) *ad.Node) *ad.Node {
	if b.normalize {
		same := x == y
		x = t.NormalizeRows(x, b.p)
		if same {
			y = x
		} else {
			y = t.NormalizeRows(y, b.p)
		}
	}
	return t.Pow(mat(x, y), b.power)
}
