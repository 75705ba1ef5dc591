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
	runMean, runVar []T  // saved with the model
	frozen          bool // use the running statistics in training too, and never update them
}

// bnOp is one use of a BatchNorm layer in a graph, optionally followed by a
// ReLU in the same pass (relu), with its buffers: allocated once, so that a
// step allocates nothing.
type bnOp[T Float] struct {
	*batchNorm[T]
	shape tensor.Shape
	relu  bool

	// Written by the training forward for the backward of the same step.
	batchStats   bool // normalised with the batch's statistics
	xhat         []T
	dy           []T       // with relu: the gradient of the BatchNorm's output, zero where the ReLU cut it
	mean, invStd []float64 // per channel
	partial      []float64 // per-plane sums, two per plane
	sums         []float64 // per-channel sums, two per channel
}

// batchNorm normalises each channel of x (batch, channels, ...). The training
// graph uses the batch's statistics (biased variance) and updates the running
// ones (unbiased variance, momentum 0.1), as PyTorch does; the eval graph
// uses the running statistics.
func (b *builder[T]) batchNorm(name string, x *G.Node) *G.Node { return b.bn(name, x, false) }

// batchNormReLU is relu(batchNorm(x)) in one pass each way.
func (b *builder[T]) batchNormReLU(name string, x *G.Node) *G.Node { return b.bn(name, x, true) }

func (b *builder[T]) bn(name string, x *G.Node, relu bool) *G.Node {
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
	bn := &bnOp[T]{
		batchNorm: b.m.batchNorm(full, b.group, c),
		shape:     shape,
		relu:      relu,
		mean:      make([]float64, c),
		invStd:    make([]float64, c),
		partial:   make([]float64, 2*shape[0]*c),
		sums:      make([]float64, 2*c),
	}
	train := b.train
	op := &fnOp[T]{name: full, shape: shape, overwrites: true, diffWRT: []bool{true, true, true}}
	op.forward = func(out []T, in [][]T) error {
		bn.forward(out, in[0], in[1], in[2], train)
		return nil
	}
	if train {
		bn.xhat = make([]T, shape.TotalSize())
		if relu {
			bn.dy = make([]T, shape.TotalSize())
		}
		op.backward = bn.backward(full)
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

func (bn *bnOp[T]) forward(out, x, gamma, beta []T, train bool) {
	c := bn.shape[1]
	mean, invStd := bn.mean, bn.invStd
	useBatch := train && !bn.frozen
	if useBatch {
		// Two passes, as PyTorch: the mean, then the squared deviations.
		n := float64(bn.shape.TotalSize() / c)
		channelSums(bn.shape, 1, bn.partial, bn.sums, func(_, _, lo, hi int, acc []float64) {
			acc[0] = sum(x[lo:hi])
		})
		for ch := range mean {
			mean[ch] = bn.sums[ch] / n
		}
		channelSums(bn.shape, 1, bn.partial, bn.sums, func(_, ch, lo, hi int, acc []float64) {
			var s float64
			for _, v := range x[lo:hi] {
				d := float64(v) - mean[ch]
				s += d * d
			}
			acc[0] = s
		})
		for ch, v := range bn.sums[:c] {
			v /= n
			invStd[ch] = 1 / math.Sqrt(v+bnEps)
			bn.runMean[ch] = T((1-bnMomentum)*float64(bn.runMean[ch]) + bnMomentum*mean[ch])
			bn.runVar[ch] = T((1-bnMomentum)*float64(bn.runVar[ch]) + bnMomentum*v*n/(n-1))
		}
	} else {
		for ch := range mean {
			mean[ch] = float64(bn.runMean[ch])
			invStd[ch] = 1 / math.Sqrt(float64(bn.runVar[ch])+bnEps)
		}
	}
	inPlanes(bn.shape, func(_, ch, lo, hi int) {
		// y = gamma*xhat + beta = x*scale + shift, then the ReLU.
		scale := float64(gamma[ch]) * invStd[ch]
		s, t := T(scale), T(float64(beta[ch])-mean[ch]*scale)
		x := x[lo:hi]
		y := out[lo:hi][:len(x)]
		if train {
			m, is, xhat := T(mean[ch]), T(invStd[ch]), bn.xhat[lo:hi]
			for i, v := range x {
				xhat[i] = (v - m) * is
			}
		}
		if bn.relu {
			for i, v := range x {
				y[i] = max(v*s+t, 0)
			}
		} else {
			for i, v := range x {
				y[i] = v*s + t
			}
		}
	})
	if train {
		bn.batchStats = useBatch
	}
}

// backward builds the gradient nodes of x, gamma and beta from dy, the
// gradient of the output (after the ReLU, which passes it where the output
// is positive). With batch statistics, dx = gamma*invStd/n * (n*dy -
// sum(dy) - xhat*sum(dy*xhat)); with running statistics the normalisation
// is a constant affine map. One pass computes both sums (dbeta, dgamma).
func (bn *bnOp[T]) backward(name string) func(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	c := bn.shape[1]
	n := float64(bn.shape.TotalSize() / c)
	return func(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
		dgamma, err := apply(&fnOp[T]{
			name:       name + "/dgamma",
			shape:      tensor.Shape{c},
			overwrites: true,
			forward: func(out []T, in [][]T) error {
				dy, y := in[0], in[1]
				channelSums(bn.shape, 2, bn.partial, bn.sums, func(_, _, lo, hi int, acc []float64) {
					d := dy[lo:hi]
					if bn.relu {
						d = bn.dy[lo:hi]
						reluGrad(d, dy[lo:hi], y[lo:hi])
					}
					var db, dg float64
					for i, v := range d {
						db += float64(v)
						dg += float64(v) * float64(bn.xhat[lo+i])
					}
					acc[0], acc[1] = db, dg
				})
				for ch, s := range bn.sums[c:] {
					out[ch] = T(s)
				}
				return nil
			},
		}, dy, y)
		if err != nil {
			return nil, err
		}
		// dbeta is the other sum of the same pass; it runs after dgamma.
		dbeta, err := apply(&fnOp[T]{
			name:       name + "/dbeta",
			shape:      tensor.Shape{c},
			overwrites: true,
			forward: func(out []T, _ [][]T) error {
				for ch, s := range bn.sums[:c] {
					out[ch] = T(s)
				}
				return nil
			},
		}, dgamma)
		if err != nil {
			return nil, err
		}
		dx, err := apply(&fnOp[T]{
			name:       name + "/dx",
			shape:      bn.shape,
			overwrites: true,
			forward: func(out []T, in [][]T) error {
				dy, gamma := in[0], in[2]
				if bn.relu {
					dy = bn.dy // masked by dgamma, which ran before
				}
				inPlanes(bn.shape, func(_, ch, lo, hi int) {
					// dx = a*dy + b + c*xhat, the per-channel factors in float64.
					a := float64(gamma[ch]) * bn.invStd[ch]
					var b, c T
					if bn.batchStats {
						b, c = T(-a*bn.sums[ch]/n), T(-a*bn.sums[len(bn.mean)+ch]/n)
					}
					aT := T(a)
					for i := lo; i < hi; i++ {
						out[i] = aT*dy[i] + b + c*bn.xhat[i]
					}
				})
				return nil
			},
		}, dy, dbeta, in[1])
		return G.Nodes{dx, dgamma, dbeta}, err
	}
}
