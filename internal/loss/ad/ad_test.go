package ad

import (
	"math"
	"math/rand/v2"
	"testing"
)

// opCase builds a scalar from its inputs on a tape.
type opCase struct {
	name   string
	inputs []shape
	f      func(t *Tape, in []*Node) *Node
}

type shape struct {
	rows, cols int
	lo, hi     float64 // range of the random values (default -2..2)
}

func (s shape) draw(rng *rand.Rand) []float64 {
	lo, hi := s.lo, s.hi
	if lo == 0 && hi == 0 {
		lo, hi = -2, 2
	}
	v := make([]float64, s.rows*s.cols)
	for i := range v {
		v[i] = lo + (hi-lo)*rng.Float64()
	}
	return v
}

// weighted reduces a node to a scalar with fixed random weights, so that
// every element gets a different upstream gradient.
func weighted(t *Tape, n *Node) *Node {
	rng := rand.New(rand.NewPCG(7, uint64(n.Len())))
	w := make([]float64, n.Len())
	for i := range w {
		w[i] = rng.Float64() + 0.5
	}
	return t.Sum(t.Mul(n, t.Const(w, n.Rows, n.Cols)))
}

func unary(name string, s shape, op func(t *Tape, a *Node) *Node) opCase {
	return opCase{name, []shape{s}, func(t *Tape, in []*Node) *Node { return weighted(t, op(t, in[0])) }}
}

func binary(name string, a, b shape, op func(t *Tape, a, b *Node) *Node) opCase {
	return opCase{name, []shape{a, b}, func(t *Tape, in []*Node) *Node { return weighted(t, op(t, in[0], in[1])) }}
}

var (
	m34   = shape{rows: 3, cols: 4}
	row4  = shape{rows: 1, cols: 4}
	col3  = shape{rows: 3, cols: 1}
	one   = shape{rows: 1, cols: 1}
	pos34 = shape{rows: 3, cols: 4, lo: 0.5, hi: 3}
)

var opCases = []opCase{
	unary("Exp", m34, (*Tape).Exp),
	unary("Log", pos34, (*Tape).Log),
	unary("Sqrt", pos34, (*Tape).Sqrt),
	unary("Square", m34, (*Tape).Square),
	unary("Pow3", pos34, func(t *Tape, a *Node) *Node { return t.Pow(a, 3) }),
	unary("Pow0.5", pos34, func(t *Tape, a *Node) *Node { return t.Pow(a, 0.5) }),
	unary("Relu", m34, (*Tape).Relu),
	unary("Softplus", shape{rows: 3, cols: 4, lo: -25, hi: 25}, (*Tape).Softplus),
	unary("Clamp", m34, func(t *Tape, a *Node) *Node { return t.Clamp(a, -1, 1) }),
	unary("Acos", shape{rows: 3, cols: 4, lo: -0.9, hi: 0.9}, (*Tape).Acos),
	unary("Cos", m34, (*Tape).Cos),
	unary("Abs", m34, (*Tape).Abs),
	unary("Scale", m34, func(t *Tape, a *Node) *Node { return t.Scale(a, -3) }),
	unary("Shift", m34, func(t *Tape, a *Node) *Node { return t.Shift(a, 2) }),
	unary("T", m34, (*Tape).T),
	unary("Reshape", m34, func(t *Tape, a *Node) *Node { return t.Exp(t.Reshape(a, 6, 2)) }),
	unary("Sum", m34, (*Tape).Sum),
	unary("Mean", m34, func(t *Tape, a *Node) *Node { return t.Square(t.Mean(a)) }),
	unary("RowSums", m34, (*Tape).RowSums),
	unary("ColSums", m34, (*Tape).ColSums),
	unary("Gather", m34, func(t *Tape, a *Node) *Node { return t.Gather(a, []int{0, 5, 5, 11}) }),
	unary("Rows", m34, func(t *Tape, a *Node) *Node { return t.Rows(a, []int{2, 0, 2}) }),
	unary("NormalizeRows2", m34, func(t *Tape, a *Node) *Node { return t.NormalizeRows(a, 2) }),
	unary("NormalizeRows3", m34, func(t *Tape, a *Node) *Node { return t.NormalizeRows(a, 3) }),
	unary("PairwiseLpSelf", m34, func(t *Tape, a *Node) *Node { return t.PairwiseLp(a, a, 2) }),
	unary("RowNorms2", m34, func(t *Tape, a *Node) *Node { return t.RowNorms(a, 2) }),
	unary("RowNorms3", m34, func(t *Tape, a *Node) *Node { return t.RowNorms(a, 3) }),
	unary("GroupMax", m34, func(t *Tape, a *Node) *Node { return t.GroupMax(a, 2) }),
	unary("GroupMaxWhole", m34, func(t *Tape, a *Node) *Node { return t.GroupMax(a, 4) }),
	unary("LogSumExp", m34, func(t *Tape, a *Node) *Node { return t.LogSumExp(a, nil, false) }),
	unary("LogSumExpMaskAddOne", m34, func(t *Tape, a *Node) *Node {
		return t.LogSumExp(a, []bool{true, false, true, false, false, false, false, false, true, true, true, true}, true)
	}),
	unary("Softmax", m34, func(t *Tape, a *Node) *Node { return t.Softmax(a, nil) }),
	unary("SoftmaxMask", m34, func(t *Tape, a *Node) *Node {
		return t.Softmax(a, []bool{true, false, true, true, true, true, true, true, false, false, true, true})
	}),
	unary("GroupLogSumExp", m34, func(t *Tape, a *Node) *Node {
		return t.GroupLogSumExp(a, [][]int{{0, 1, 1}, {}, {11}, {3, 7, 2, 9}})
	}),
	binary("Add", m34, m34, (*Tape).Add),
	binary("AddRow", m34, row4, (*Tape).Add),
	binary("SubCol", m34, col3, (*Tape).Sub),
	binary("SubScalarFirst", one, m34, (*Tape).Sub),
	binary("Mul", m34, m34, (*Tape).Mul),
	binary("MulRowCol", row4, col3, (*Tape).Mul),
	binary("Div", m34, pos34, (*Tape).Div),
	binary("DivByCol", m34, shape{rows: 3, cols: 1, lo: 0.5, hi: 2}, (*Tape).Div),
	binary("Where", m34, m34, func(t *Tape, a, b *Node) *Node {
		return t.Where([]bool{true, false, true, true, false, false, true, false, true, true, false, true}, a, b)
	}),
	binary("MatMul", m34, shape{rows: 4, cols: 2}, (*Tape).MatMul),
	binary("MatMulT", m34, shape{rows: 5, cols: 4}, (*Tape).MatMulT),
	binary("PairwiseLp2", m34, shape{rows: 5, cols: 4}, func(t *Tape, a, b *Node) *Node { return t.PairwiseLp(a, b, 2) }),
	binary("PairwiseLp1.5", m34, shape{rows: 5, cols: 4}, func(t *Tape, a, b *Node) *Node { return t.PairwiseLp(a, b, 1.5) }),
	binary("PairwiseLp1", m34, shape{rows: 5, cols: 4}, func(t *Tape, a, b *Node) *Node { return t.PairwiseLp(a, b, 1) }),
	binary("Concat", row4, shape{rows: 1, cols: 2}, func(t *Tape, a, b *Node) *Node { return t.Exp(t.Concat(a, b, a)) }),
}

// TestGradients compares every operation's gradient with central finite
// differences.
func TestGradients(t *testing.T) {
	const h, tol = 1e-6, 1e-6
	for _, c := range opCases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			values := make([][]float64, len(c.inputs))
			for i, s := range c.inputs {
				values[i] = s.draw(rng)
			}
			eval := func() float64 {
				var tape Tape
				in := make([]*Node, len(values))
				for i, s := range c.inputs {
					in[i] = tape.Const(values[i], s.rows, s.cols)
				}
				return c.f(&tape, in).Value[0]
			}
			var tape Tape
			in := make([]*Node, len(values))
			for i, s := range c.inputs {
				in[i] = tape.Var(values[i], s.rows, s.cols)
			}
			out := c.f(&tape, in)
			tape.Backward(out)
			for i, v := range values {
				for k := range v {
					x := v[k]
					v[k] = x + h
					up := eval()
					v[k] = x - h
					down := eval()
					v[k] = x
					want := (up - down) / (2 * h)
					if got := in[i].Grad[k]; math.Abs(got-want) > tol*(1+math.Abs(want)) {
						t.Errorf("d/d input %d [%d] = %.10g, finite difference %.10g", i, k, got, want)
					}
				}
			}
		})
	}
}
