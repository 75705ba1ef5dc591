package ad

import (
	"fmt"
	"math"
)

// Map applies f to every element; df(x, y) is f'(x) given x and y = f(x).
// Elements whose output gradient is 0 pass nothing back, so that a masked-out
// infinity (log 0, say) cannot turn into NaN.
func (t *Tape) Map(a *Node, f func(x float64) float64, df func(x, y float64) float64) *Node {
	out := t.node(a.Rows, a.Cols, a)
	for i, x := range a.Value {
		out.Value[i] = f(x)
	}
	t.record(out, func() {
		for i, g := range out.Grad {
			if g != 0 {
				a.Grad[i] += g * df(a.Value[i], out.Value[i])
			}
		}
	})
	return out
}

// Exp is e^a.
func (t *Tape) Exp(a *Node) *Node {
	return t.Map(a, math.Exp, func(_, y float64) float64 { return y })
}

// Log is the natural logarithm.
func (t *Tape) Log(a *Node) *Node {
	return t.Map(a, math.Log, func(x, _ float64) float64 { return 1 / x })
}

// Sqrt is the square root.
func (t *Tape) Sqrt(a *Node) *Node {
	return t.Map(a, math.Sqrt, func(_, y float64) float64 { return 0.5 / y })
}

// Square is a².
func (t *Tape) Square(a *Node) *Node {
	return t.Map(a, func(x float64) float64 { return x * x }, func(x, _ float64) float64 { return 2 * x })
}

// Pow is a^k for a constant k.
func (t *Tape) Pow(a *Node, k float64) *Node {
	switch k {
	case 1:
		return a
	case 2:
		return t.Square(a)
	}
	return t.Map(a, func(x float64) float64 { return math.Pow(x, k) },
		func(x, _ float64) float64 { return k * math.Pow(x, k-1) })
}

// Relu is max(a, 0), with derivative 0 at 0.
func (t *Tape) Relu(a *Node) *Node {
	return t.Map(a, func(x float64) float64 { return math.Max(x, 0) }, func(x, _ float64) float64 {
		if x > 0 {
			return 1
		}
		return 0
	})
}

// Softplus is log(1 + e^a), linear above 20 as torch's softplus.
func (t *Tape) Softplus(a *Node) *Node {
	const threshold = 20
	return t.Map(a, func(x float64) float64 {
		if x > threshold {
			return x
		}
		return math.Log1p(math.Exp(x))
	}, func(x, _ float64) float64 {
		if x > threshold {
			return 1
		}
		z := math.Exp(x)
		return z / (z + 1)
	})
}

// Clamp limits a to [lo, hi]; the gradient passes on the closed interval.
func (t *Tape) Clamp(a *Node, lo, hi float64) *Node {
	return t.Map(a, func(x float64) float64 { return math.Min(math.Max(x, lo), hi) }, func(x, _ float64) float64 {
		if x >= lo && x <= hi {
			return 1
		}
		return 0
	})
}

// Acos is the arc cosine.
func (t *Tape) Acos(a *Node) *Node {
	return t.Map(a, math.Acos, func(x, _ float64) float64 { return -1 / math.Sqrt(1-x*x) })
}

// Cos is the cosine.
func (t *Tape) Cos(a *Node) *Node {
	return t.Map(a, math.Cos, func(x, _ float64) float64 { return -math.Sin(x) })
}

// Abs is |a|, with derivative 0 at 0.
func (t *Tape) Abs(a *Node) *Node {
	return t.Map(a, math.Abs, func(x, _ float64) float64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	})
}

// Scale is k*a.
func (t *Tape) Scale(a *Node, k float64) *Node {
	return t.Map(a, func(x float64) float64 { return k * x }, func(_, _ float64) float64 { return k })
}

// Shift is a + k.
func (t *Tape) Shift(a *Node, k float64) *Node {
	return t.Map(a, func(x float64) float64 { return x + k }, func(_, _ float64) float64 { return 1 })
}

// zip applies f to a and b element-wise, broadcasting a dimension of size 1
// as numpy does; da and db are the partial derivatives given x, y and z = f(x, y).
func (t *Tape) zip(a, b *Node, f func(x, y float64) float64, da, db func(x, y, z float64) float64) *Node {
	rows, cols := broadcast(a.Rows, b.Rows), broadcast(a.Cols, b.Cols)
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("ad: cannot broadcast %dx%d with %dx%d", a.Rows, a.Cols, b.Rows, b.Cols))
	}
	out := t.node(rows, cols, a, b)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			out.Value[i*cols+j] = f(a.Value[at(a, i, j)], b.Value[at(b, i, j)])
		}
	}
	t.record(out, func() {
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				g := out.Grad[i*cols+j]
				if g == 0 {
					continue
				}
				ia, ib := at(a, i, j), at(b, i, j)
				x, y, z := a.Value[ia], b.Value[ib], out.Value[i*cols+j]
				if a.Grad != nil {
					a.Grad[ia] += g * da(x, y, z)
				}
				if b.Grad != nil {
					b.Grad[ib] += g * db(x, y, z)
				}
			}
		}
	})
	return out
}

// broadcast is the size of a broadcast dimension, or -1 if incompatible.
func broadcast(m, n int) int {
	switch {
	case m == n || n == 1:
		return m
	case m == 1:
		return n
	}
	return -1
}

// at is the index of element (i, j) of a broadcast operand.
func at(a *Node, i, j int) int {
	if a.Rows == 1 {
		i = 0
	}
	if a.Cols == 1 {
		j = 0
	}
	return i*a.Cols + j
}

// Add is a + b (broadcasting).
func (t *Tape) Add(a, b *Node) *Node {
	return t.zip(a, b, func(x, y float64) float64 { return x + y },
		func(_, _, _ float64) float64 { return 1 }, func(_, _, _ float64) float64 { return 1 })
}

// Sub is a - b (broadcasting).
func (t *Tape) Sub(a, b *Node) *Node {
	return t.zip(a, b, func(x, y float64) float64 { return x - y },
		func(_, _, _ float64) float64 { return 1 }, func(_, _, _ float64) float64 { return -1 })
}

// Mul is a * b element-wise (broadcasting).
func (t *Tape) Mul(a, b *Node) *Node {
	return t.zip(a, b, func(x, y float64) float64 { return x * y },
		func(_, y, _ float64) float64 { return y }, func(x, _, _ float64) float64 { return x })
}

// Div is a / b element-wise (broadcasting).
func (t *Tape) Div(a, b *Node) *Node {
	return t.zip(a, b, func(x, y float64) float64 { return x / y },
		func(_, y, _ float64) float64 { return 1 / y }, func(_, y, z float64) float64 { return -z / y })
}

// Where picks a where cond is true and b elsewhere (a and b of one shape).
func (t *Tape) Where(cond []bool, a, b *Node) *Node {
	if a.Rows != b.Rows || a.Cols != b.Cols || len(cond) != a.Len() {
		panic(fmt.Sprintf("ad: Where of %dx%d and %dx%d with %d conditions", a.Rows, a.Cols, b.Rows, b.Cols, len(cond)))
	}
	out := t.node(a.Rows, a.Cols, a, b)
	for i, c := range cond {
		if c {
			out.Value[i] = a.Value[i]
		} else {
			out.Value[i] = b.Value[i]
		}
	}
	t.record(out, func() {
		for i, c := range cond {
			if c && a.Grad != nil {
				a.Grad[i] += out.Grad[i]
			} else if !c && b.Grad != nil {
				b.Grad[i] += out.Grad[i]
			}
		}
	})
	return out
}
