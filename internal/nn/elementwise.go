package nn

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// addBias adds a per-channel (axis 1) bias: Gorgonia's broadcasting would
// reshape the shared bias tensor in place and copy it for every row.
func (b *builder[T]) addBias(name string, x *G.Node, fanIn int) *G.Node {
	if b.err != nil {
		return x
	}
	c := x.Shape()[1]
	bias := b.param(name, []int{c}, []int{c}, b.uniform(fanIn))
	shape := x.Shape().Clone()
	op := &fnOp[T]{
		name:  b.full(name) + "/add",
		shape: shape,
		forward: func(out []T, in [][]T) error {
			forPlanes(shape, func(ch, lo, hi int) {
				for i := lo; i < hi; i++ {
					out[i] = in[0][i] + in[1][ch]
				}
			})
			return nil
		},
		backward: func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
			db, err := channelSum[T](b.full(name)+"/grad", grad)
			return G.Nodes{grad, db}, err
		},
		diffWRT: []bool{true, true},
	}
	return b.node(apply(op, x, bias))
}

// channelSum sums x (batch, channels, ...) over everything but the channel:
// the gradient of a per-channel bias (and of BatchNorm's beta).
func channelSum[T Float](name string, x *G.Node) (*G.Node, error) {
	shape := x.Shape().Clone()
	op := &fnOp[T]{
		name:  name,
		shape: tensor.Shape{shape[1]},
		forward: func(out []T, in [][]T) error {
			sums := make([]float64, len(out))
			forPlanes(shape, func(ch, lo, hi int) {
				for _, v := range in[0][lo:hi] {
					sums[ch] += float64(v)
				}
			})
			for i, s := range sums {
				out[i] = T(s)
			}
			return nil
		},
	}
	return apply(op, x)
}

// forPlanes calls f with the channel and the index range [lo, hi) of each
// (example, channel) plane of a tensor of shape (batch, channels, rest...).
func forPlanes(shape tensor.Shape, f func(ch, lo, hi int)) {
	c := shape[1]
	size := product(shape[2:])
	for i := 0; i < shape[0]*c; i++ {
		f(i%c, i*size, (i+1)*size)
	}
}

// relu is max(x, 0); the gradient passes where the output is positive.
// Gorgonia's Rectify takes two ops (a comparison and a product) each way.
func relu[T Float](x *G.Node) (*G.Node, error) {
	shape := x.Shape().Clone()
	op := &fnOp[T]{
		name:  "relu",
		shape: shape,
		forward: func(y []T, in [][]T) error {
			for i, v := range in[0] {
				y[i] = max(v, 0)
			}
			return nil
		},
		backward: func(_ G.Nodes, y, grad *G.Node) (G.Nodes, error) {
			dx, err := apply(&fnOp[T]{
				name:  "relu/grad",
				shape: shape,
				forward: func(dx []T, in [][]T) error {
					for i, v := range in[1] {
						if v > 0 {
							dx[i] = in[0][i]
						}
					}
					return nil
				},
			}, grad, y)
			return G.Nodes{dx}, err
		},
		diffWRT: []bool{true},
	}
	return apply(op, x)
}
