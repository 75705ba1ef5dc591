package nn

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Pooling is bench's own. Gorgonia v0.9.18's AveragePool2D divides each
// window's sum by the input width instead of the window size, its Mean over
// the two spatial axes panics on 1x1 maps, and its MaxPool2D costs a tenth
// of a forward pass.

// windows calls f(o, i) for each output index o of a 2x2, stride-2 pooling
// of a (batch, channels, h, w) tensor and the index i of its window's
// top-left input; the window is i, i+1, i+w, i+w+1. An odd last row or
// column is dropped, as PyTorch's floor mode does.
func windows(in tensor.Shape, f func(o, i int)) {
	h, w, oh, ow := in[2], in[3], in[2]/2, in[3]/2
	for p := 0; p < in[0]*in[1]; p++ {
		for r := 0; r < oh; r++ {
			for c := 0; c < ow; c++ {
				f((p*oh+r)*ow+c, (p*h+2*r)*w+2*c)
			}
		}
	}
}

// b2i is 1 for true and 0 for false; the compiler makes it a SETcc, not a
// branch.
func b2i(b bool) int {
	r := 0
	if b {
		r = 1
	}
	return r
}

func pooledShape(in tensor.Shape) tensor.Shape {
	return tensor.Shape{in[0], in[1], in[2] / 2, in[3] / 2}
}

// maxPool2 is max_pool2d with a 2x2 window and stride 2; the gradient goes
// to the first maximum of each window, as in PyTorch.
func maxPool2[T Float](name string, x *G.Node) (*G.Node, error) {
	in := x.Shape().Clone()
	out := pooledShape(in)
	w, oh, ow := in[3], out[2], out[3]
	argmax := make([]int32, out.TotalSize()) // of the last forward, for its backward
	op := &fnOp[T]{
		name:       name,
		shape:      out,
		overwrites: true,
		forward: func(y []T, v [][]T) error {
			x := v[0]
			inPlanes(in, func(p, _, lo, _ int) {
				o := p * oh * ow
				for r := range oh {
					row := lo + 2*r*w
					for c := range ow {
						// The first maximum of each row, then of the two,
						// without branches: the comparisons are coin flips.
						top, bottom := row+2*c, row+2*c+w
						top += b2i(x[top+1] > x[top])
						bottom += b2i(x[bottom+1] > x[bottom])
						best := top + (bottom-top)*b2i(x[bottom] > x[top])
						m := x[best]
						y[o], argmax[o] = m, int32(best)
						o++
					}
				}
			})
			return nil
		},
		backward: linearBackward(name, in, func(dx, g []T) {
			inPlanes(in, func(p, _, lo, hi int) {
				clear(dx[lo:hi])
				for o := p * oh * ow; o < (p+1)*oh*ow; o++ {
					dx[argmax[o]] = g[o]
				}
			})
		}),
		diffWRT: []bool{true},
	}
	return apply(op, x)
}

// avgPool2 is avg_pool2d with a 2x2 window and stride 2.
func avgPool2[T Float](name string, x *G.Node) (*G.Node, error) {
	in := x.Shape().Clone()
	w := in[3]
	op := &fnOp[T]{
		name:  name,
		shape: pooledShape(in),
		forward: func(y []T, v [][]T) error {
			x := v[0]
			windows(in, func(o, i int) { y[o] = (x[i] + x[i+1] + x[i+w] + x[i+w+1]) / 4 })
			return nil
		},
		backward: linearBackward(name, in, func(dx, g []T) {
			clear(dx) // an odd last row or column gets no gradient
			windows(in, func(o, i int) {
				d := g[o] / 4
				dx[i], dx[i+1], dx[i+w], dx[i+w+1] = d, d, d, d
			})
		}),
		diffWRT: []bool{true},
	}
	return apply(op, x)
}

// meanPool averages each channel of x (batch, channels, height, width) over
// the image: adaptive_avg_pool2d to 1x1, flattened to (batch, channels).
func meanPool[T Float](name string, x *G.Node) (*G.Node, error) {
	in := x.Shape().Clone()
	size := T(in[2] * in[3])
	op := &fnOp[T]{
		name:       name,
		shape:      tensor.Shape{in[0], in[1]},
		overwrites: true,
		forward: func(y []T, v [][]T) error {
			inPlanes(in, func(p, _, lo, hi int) { y[p] = T(sum(v[0][lo:hi])) / size })
			return nil
		},
		backward: linearBackward(name, in, func(dx, g []T) {
			inPlanes(in, func(p, _, lo, hi int) {
				d := g[p] / size
				for i := lo; i < hi; i++ {
					dx[i] = d
				}
			})
		}),
		diffWRT: []bool{true},
	}
	return apply(op, x)
}

// linearBackward is the backward of a pooling op, whose input gradient is a
// fixed linear map of the output gradient: fill writes every value of dx
// (shaped like the input) from g, as an op of its own so Gorgonia can chain
// it.
func linearBackward[T Float](name string, in tensor.Shape, fill func(dx, g []T)) func(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		dx, err := apply(&fnOp[T]{
			name:       name + "/grad",
			shape:      in,
			overwrites: true,
			transient:  true,
			forward: func(dx []T, v [][]T) error {
				fill(dx, v[0])
				return nil
			},
		}, grad)
		return G.Nodes{dx}, err
	}
}
