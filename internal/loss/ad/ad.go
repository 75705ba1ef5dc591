// Package ad is a small reverse-mode automatic differentiation over float64
// matrices, just enough for the metric losses: each operation computes its
// value at once and records on the tape how to push its output gradient to
// its inputs; Backward replays those records in reverse.
//
// Gradients follow PyTorch's conventions at kinks (relu'(0) = 0, clamp passes
// the gradient on the closed interval, abs'(0) = 0), so that results agree
// with pytorch-metric-learning. Values and gradients are row-major.
package ad

import "fmt"

// Node is a rows x cols matrix on a tape.
type Node struct {
	Rows, Cols int
	Value      []float64
	// Grad is dOutput/dNode after Backward; nil when no variable feeds the
	// node, so constant subgraphs cost nothing in the backward pass.
	Grad []float64
}

// Len is the number of elements.
func (n *Node) Len() int { return n.Rows * n.Cols }

// Tape records the backward steps of the operations built on it. The zero
// value is ready to use; a tape serves one Backward.
type Tape struct {
	backward []func()
}

// Var makes a leaf whose gradient is wanted. value is used, not copied.
func (t *Tape) Var(value []float64, rows, cols int) *Node {
	checkLen(value, rows, cols)
	return &Node{Rows: rows, Cols: cols, Value: value, Grad: make([]float64, len(value))}
}

// Const makes a leaf without gradient. value is used, not copied.
func (t *Tape) Const(value []float64, rows, cols int) *Node {
	checkLen(value, rows, cols)
	return &Node{Rows: rows, Cols: cols, Value: value}
}

// Scalar makes a 1 x 1 constant.
func (t *Tape) Scalar(v float64) *Node { return t.Const([]float64{v}, 1, 1) }

// Backward computes d out / d node for every node feeding out, which must be
// 1 x 1.
func (t *Tape) Backward(out *Node) {
	if out.Len() != 1 {
		panic(fmt.Sprintf("ad: Backward of a %dx%d node, want 1x1", out.Rows, out.Cols))
	}
	if out.Grad == nil {
		return
	}
	out.Grad[0] = 1
	for i := len(t.backward) - 1; i >= 0; i-- {
		t.backward[i]()
	}
	t.backward = nil
}

func checkLen(value []float64, rows, cols int) {
	if len(value) != rows*cols {
		panic(fmt.Sprintf("ad: %d values for a %dx%d matrix", len(value), rows, cols))
	}
}

// node allocates the output of an operation; it carries a gradient when any
// input does.
func (t *Tape) node(rows, cols int, inputs ...*Node) *Node {
	out := &Node{Rows: rows, Cols: cols, Value: make([]float64, rows*cols)}
	for _, in := range inputs {
		if in.Grad != nil {
			out.Grad = make([]float64, rows*cols)
			break
		}
	}
	return out
}

// record adds a backward step when out needs one.
func (t *Tape) record(out *Node, back func()) {
	if out.Grad != nil {
		t.backward = append(t.backward, back)
	}
}

// Reshape views a with another shape of the same size; value and gradient
// are shared, so it needs no backward step.
func (t *Tape) Reshape(a *Node, rows, cols int) *Node {
	checkLen(a.Value, rows, cols)
	return &Node{Rows: rows, Cols: cols, Value: a.Value, Grad: a.Grad}
}

// T is the transpose.
func (t *Tape) T(a *Node) *Node {
	out := t.node(a.Cols, a.Rows, a)
	for i := 0; i < a.Rows; i++ {
		for j := 0; j < a.Cols; j++ {
			out.Value[j*a.Rows+i] = a.Value[i*a.Cols+j]
		}
	}
	t.record(out, func() {
		for i := 0; i < a.Rows; i++ {
			for j := 0; j < a.Cols; j++ {
				a.Grad[i*a.Cols+j] += out.Grad[j*a.Rows+i]
			}
		}
	})
	return out
}
