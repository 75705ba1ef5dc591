package nn

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Average pooling is bench's own: Gorgonia v0.9.18's AveragePool2D divides
// each window's sum by the input width instead of the window size, and its
// Mean over the two spatial axes panics on 1x1 maps.

// avgPool2 is avg_pool2d with a 2x2 window and stride 2 (odd last rows and
// columns dropped, as PyTorch's floor mode does).
func avgPool2[T Float](name string, x *G.Node) (*G.Node, error) {
	in := x.Shape().Clone()
	out := tensor.Shape{in[0], in[1], in[2] / 2, in[3] / 2}
	// each calls f(o, i) for every output index o and the input indices i of
	// its window.
	each := func(f func(o, i int)) {
		h, w, oh, ow := in[2], in[3], out[2], out[3]
		for p := 0; p < in[0]*in[1]; p++ {
			for r := 0; r < oh; r++ {
				for c := 0; c < ow; c++ {
					o, i := (p*oh+r)*ow+c, (p*h+2*r)*w+2*c
					f(o, i)
					f(o, i+1)
					f(o, i+w)
					f(o, i+w+1)
				}
			}
		}
	}
	op := &fnOp[T]{
		name:  name,
		shape: out,
		forward: func(y []T, v [][]T) error {
			each(func(o, i int) { y[o] += v[0][i] / 4 })
			return nil
		},
		backward: func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
			dx, err := apply(&fnOp[T]{
				name:  name + "/grad",
				shape: in,
				forward: func(dx []T, v [][]T) error {
					each(func(o, i int) { dx[i] = v[0][o] / 4 })
					return nil
				},
			}, grad)
			return G.Nodes{dx}, err
		},
		diffWRT: []bool{true},
	}
	return apply(op, x)
}

// meanPool averages each channel of x (batch, channels, height, width) over
// the image: adaptive_avg_pool2d to 1x1, flattened to (batch, channels).
func meanPool[T Float](name string, x *G.Node) (*G.Node, error) {
	in := x.Shape().Clone()
	size := T(in[2] * in[3])
	out := tensor.Shape{in[0], in[1]}
	op := &fnOp[T]{
		name:  name,
		shape: out,
		forward: func(y []T, v [][]T) error {
			forPlanes(in, func(_, lo, hi int) {
				var s float64
				for _, x := range v[0][lo:hi] {
					s += float64(x)
				}
				y[lo/(hi-lo)] = T(s) / size
			})
			return nil
		},
		backward: func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
			dx, err := apply(&fnOp[T]{
				name:  name + "/grad",
				shape: in,
				forward: func(dx []T, v [][]T) error {
					forPlanes(in, func(_, lo, hi int) {
						g := v[0][lo/(hi-lo)] / size
						for i := lo; i < hi; i++ {
							dx[i] = g
						}
					})
					return nil
				},
			}, grad)
			return G.Nodes{dx}, err
		},
		diffWRT: []bool{true},
	}
	return apply(op, x)
}
