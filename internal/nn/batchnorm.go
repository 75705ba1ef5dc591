package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PyTorch's BatchNorm defaults.
const (
	bnEps      = 1e-5
	bnMomentum = 0.1
)

// batchNorm is the state of one BatchNorm layer, owned by bench: Gorgonia's
// BatchNorm resets its running statistics on a new TapeMachine or
// SetTraining(true), so bench writes its own forward and backward.
type batchNorm[T Float] struct {
	group           string
	eps             float64
	runMean, runVar []T  // saved with the model
	frozen          bool // use the running statistics in training too, and never update them

	// Written by the training forward for the backward of the same step.
	batchStats bool // normalised with the batch's statistics
	xhat       []T
	invStd     []float64
}

// batchNorm normalises each channel of x (batch, channels, ...). The training
// graph uses the batch's statistics (biased variance) and updates the running
// ones (unbiased variance, momentum 0.1), as PyTorch does; the eval graph
// uses the running statistics.
func (b *builder[T]) batchNorm(name string, x *G.Node) *G.Node {
	return b.batchNormEps(name, x, bnEps)
}

// batchNormEps is batchNorm with another epsilon (torchvision's Inception
// networks use 0.001).
func (b *builder[T]) batchNormEps(name string, x *G.Node, eps float64) *G.Node {
	if b.err != nil {
		return x
	}
	full := b.full(name)
	shape := x.Shape().Clone()
	c := shape[1]
	if n := shape.TotalSize() / c; b.train && n < 2 {
		b.fail(fmt.Errorf("%s: a batch of %d gives %d value per channel; training BatchNorm needs more", full, shape[0], n))
		return x
	}
	gamma := b.param(name+".weight", []int{c}, []int{c}, fill[T](1))
	beta := b.param(name+".bias", []int{c}, []int{c}, fill[T](0))
	bn := b.m.batchNorm(full, b.group, c)
	bn.eps = eps
	op := &fnOp[T]{name: full, shape: shape, diffWRT: []bool{true, true, true}}
	if b.train {
		bn.xhat = make([]T, shape.TotalSize())
		op.forward = func(out []T, in [][]T) error {
			bn.forward(shape, out, in[0], in[1], in[2], true)
			return nil
		}
		op.backward = bn.backward(full, shape)
	} else {
		op.forward = func(out []T, in [][]T) error {
			bn.forward(shape, out, in[0], in[1], in[2], false)
			return nil
		}
	}
	return b.node(apply(op, x, gamma, beta))
}

// batchNorm returns the layer's state, creating it (running mean 0, running
// variance 1) on first use.
func (m *Model[T]) batchNorm(name, group string, channels int) *batchNorm[T] {
	if bn, ok := m.bnByName[name]; ok {
		return bn
	}
	bn := &batchNorm[T]{group: group, runMean: make([]T, channels), runVar: make([]T, channels)}
	fill[T](1)(bn.runVar)
	m.bns = append(m.bns, bn)
	m.bnByName[name] = bn
	m.state = append(m.state,
		stateTensor[T]{name: name + ".running_mean", shape: []int{channels}, data: bn.runMean},
		stateTensor[T]{name: name + ".running_var", shape: []int{channels}, data: bn.runVar})
	return bn
}

func (bn *batchNorm[T]) forward(shape tensor.Shape, out, x, gamma, beta []T, train bool) {
	c := shape[1]
	mean, invStd := make([]float64, c), make([]float64, c)
	useBatch := train && !bn.frozen
	if useBatch {
		n := float64(shape.TotalSize() / c)
		forPlanes(shape, func(ch, lo, hi int) {
			for _, v := range x[lo:hi] {
				mean[ch] += float64(v)
			}
		})
		for ch := range mean {
			mean[ch] /= n
		}
		variance := make([]float64, c)
		forPlanes(shape, func(ch, lo, hi int) {
			for _, v := range x[lo:hi] {
				d := float64(v) - mean[ch]
				variance[ch] += d * d
			}
		})
		for ch, v := range variance {
			v /= n
			invStd[ch] = 1 / math.Sqrt(v+bn.eps)
			bn.runMean[ch] = T((1-bnMomentum)*float64(bn.runMean[ch]) + bnMomentum*mean[ch])
			bn.runVar[ch] = T((1-bnMomentum)*float64(bn.runVar[ch]) + bnMomentum*v*n/(n-1))
		}
	} else {
		for ch := range mean {
			mean[ch] = float64(bn.runMean[ch])
			invStd[ch] = 1 / math.Sqrt(float64(bn.runVar[ch])+bn.eps)
		}
	}
	forPlanes(shape, func(ch, lo, hi int) {
		g, b := float64(gamma[ch]), float64(beta[ch])
		for i := lo; i < hi; i++ {
			xh := (float64(x[i]) - mean[ch]) * invStd[ch]
			if train {
				bn.xhat[i] = T(xh)
			}
			out[i] = T(g*xh + b)
		}
	})
	if train {
		bn.batchStats, bn.invStd = useBatch, invStd
	}
}

// backward builds the gradient nodes of x, gamma and beta from dy. With batch
// statistics, dx = gamma*invStd/n * (n*dy - sum(dy) - xhat*sum(dy*xhat)); with
// running statistics the normalisation is a constant affine map.
func (bn *batchNorm[T]) backward(name string, shape tensor.Shape) func(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	c := shape[1]
	n := float64(shape.TotalSize() / c)
	return func(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
		dbeta, err := channelSum[T](name+"/dbeta", dy)
		if err != nil {
			return nil, err
		}
		dgamma, err := apply(&fnOp[T]{
			name:  name + "/dgamma",
			shape: tensor.Shape{c},
			forward: func(out []T, in [][]T) error {
				sums := make([]float64, c)
				forPlanes(shape, func(ch, lo, hi int) {
					for i := lo; i < hi; i++ {
						sums[ch] += float64(in[0][i]) * float64(bn.xhat[i])
					}
				})
				for ch, s := range sums {
					out[ch] = T(s)
				}
				return nil
			},
		}, dy)
		if err != nil {
			return nil, err
		}
		dx, err := apply(&fnOp[T]{
			name:  name + "/dx",
			shape: shape,
			forward: func(out []T, in [][]T) error {
				dy, dgamma, dbeta, gamma := in[0], in[1], in[2], in[3]
				forPlanes(shape, func(ch, lo, hi int) {
					k := float64(gamma[ch]) * bn.invStd[ch]
					if !bn.batchStats {
						for i := lo; i < hi; i++ {
							out[i] = T(k * float64(dy[i]))
						}
						return
					}
					db, dg := float64(dbeta[ch]), float64(dgamma[ch])
					for i := lo; i < hi; i++ {
						out[i] = T(k / n * (n*float64(dy[i]) - db - float64(bn.xhat[i])*dg))
					}
				})
				return nil
			},
		}, dy, dgamma, dbeta, in[1])
		return G.Nodes{dx, dgamma, dbeta}, err
	}
}
