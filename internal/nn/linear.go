package nn

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// matmulT is x W^T for x (batch x in) and PyTorch's Linear weight W
// (out x in), through bench's GEMM: Gorgonia's Mul of a Transpose copies the
// weight into a new tensor on every run.
func matmulT[T Float](name string, x, w *G.Node) (*G.Node, error) {
	batch, in, out := x.Shape()[0], x.Shape()[1], w.Shape()[0]
	op := &fnOp[T]{
		name:       name,
		shape:      tensor.Shape{batch, out},
		overwrites: true,
		forward: func(y []T, v [][]T) error {
			gemm(false, true, batch, out, in, v[0], in, v[1], in, 0, y, out)
			return nil
		},
		// The gradient of the graph's input is never needed.
		diffWRT: []bool{!x.IsVar(), true},
	}
	op.backward = func(nodes G.Nodes, _, dy *G.Node) (G.Nodes, error) {
		// dW = dy^T x.
		dw, err := apply(&fnOp[T]{
			name:       name + "/dw",
			shape:      tensor.Shape{out, in},
			overwrites: true,
			forward: func(dw []T, v [][]T) error {
				gemm(true, false, out, in, batch, v[0], out, v[1], in, 0, dw, in)
				return nil
			},
		}, dy, nodes[0])
		if err != nil || !op.diffWRT[0] {
			return G.Nodes{nil, dw}, err
		}
		// dx = dy W.
		dx, err := apply(&fnOp[T]{
			name:       name + "/dx",
			shape:      tensor.Shape{batch, in},
			overwrites: true,
			forward: func(dx []T, v [][]T) error {
				gemm(false, false, batch, in, out, v[0], out, v[1], in, 0, dx, in)
				return nil
			},
		}, dy, nodes[1])
		return G.Nodes{dx, dw}, err
	}
	return apply(op, x, w)
}
