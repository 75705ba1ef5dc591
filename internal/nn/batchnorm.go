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
}

// bnOp is one use of a BatchNorm layer in a graph, optionally followed by a
// ReLU in the same pass (relu), or by the join of a residual block
// (residual: relu(bn(x) + shortcut)), with its buffers: allocated once, so
// that a step allocates nothing.
type bnOp[T Float] struct {
	*batchNorm[T]
	shape    tensor.Shape
	relu     bool
	residual bool

	// Written by the training forward for the backward of the same step,
	// which recomputes the normalised input from the input and these rather
	// than keep a copy of it.
	batchStats   bool      // normalised with the batch's statistics
	mean, invStd []float64 // per channel
	partial      []float64 // per-plane sums, two per plane
	sums         []float64 // per-channel sums, two per channel
}

// batchNorm normalises each channel of x (batch, channels, ...). The training
// graph uses the batch's statistics (biased variance) and updates the running
// ones (unbiased variance, momentum 0.1), as PyTorch does; the eval graph
// uses the running statistics.
func (b *builder[T]) batchNorm(name string, x *G.Node) *G.Node { return b.bn(name, x, false, nil) }

// batchNormReLU is relu(batchNorm(x)) in one pass each way.
func (b *builder[T]) batchNormReLU(name string, x *G.Node) *G.Node { return b.bn(name, x, true, nil) }

// batchNormAddReLU is relu(batchNorm(x) + shortcut), the end of a residual
// block, in one pass forward: Gorgonia's Add would allocate its output at
// every run, and the sum and the ReLU would each be another pass and
// buffer. Backward, the gradient through the ReLU is that of the shortcut
// and BatchNorm's incoming one.
func (b *builder[T]) batchNormAddReLU(name string, x, shortcut *G.Node) *G.Node {
	if b.err == nil && !x.Shape().Eq(shortcut.Shape()) {
		b.fail(fmt.Errorf("%s: residual join of shapes %v and %v", b.full(name), x.Shape(), shortcut.Shape()))
	}
	return b.bn(name, x, false, shortcut)
}

// bn is a BatchNorm, followed by a ReLU (relu) or by the residual join with
// shortcut (non-nil).
func (b *builder[T]) bn(name string, x *G.Node, relu bool, shortcut *G.Node) *G.Node {
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
		residual:  shortcut != nil,
		mean:      make([]float64, c),
		invStd:    make([]float64, c),
		partial:   make([]float64, 2*shape[0]*c),
		sums:      make([]float64, 2*c),
	}
	train := b.train
	op := &fnOp[T]{name: full, shape: shape, overwrites: true, diffWRT: []bool{true, true, true}}
	op.forward = func(out []T, in [][]T) error {
		var sc []T
		if bn.residual {
			sc = in[3]
		}
		bn.forward(out, in[0], in[1], in[2], sc, train)
		return nil
	}
	if train {
		op.backward = bn.backward(full)
	}
	if shortcut == nil {
		return b.node(apply(op, x, gamma, beta))
	}
	if train {
		backward := op.backward
		op.backward = func(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
			g, err := reluGradNode[T](shape, dy, y)
			if err != nil {
				return nil, err
			}
			grads, err := backward(in[:3], y, g)
			return append(grads, g), err
		}
	}
	op.diffWRT = append(op.diffWRT, true)
	return b.node(apply(op, x, gamma, beta, shortcut))
}

// batchNorm returns the layer's state, creating it (running mean 0, running
// variance 1) on first use.
func (m *Model[T]) batchNorm(name, group string, channels int) *batchNorm[T] {
	if bn, ok := m.bnByName[name]; ok {
		return bn
	}
	bn := &batchNorm[T]{group: group, eps: bnEps, runMean: make([]T, channels), runVar: make([]T, channels)}
	fill[T](1)(bn.runVar)
	m.bns = append(m.bns, bn)
	m.bnByName[name] = bn
	m.state = append(m.state,
		stateTensor[T]{name: name + ".running_mean", shape: []int{channels}, data: bn.runMean},
		stateTensor[T]{name: name + ".running_var", shape: []int{channels}, data: bn.runVar})
	return bn
}

func (bn *bnOp[T]) forward(out, x, gamma, beta, shortcut []T, train bool) {
	c := bn.shape[1]
	mean, invStd := bn.mean, bn.invStd
	useBatch := train && !bn.frozen
	if useBatch {
		// One pass for the sums of x and of its squares: in float64, the
		// variance E[x^2] - E[x]^2 keeps ten digits even when the mean is a
		// thousand standard deviations from 0.
		n := float64(bn.shape.TotalSize() / c)
		channelSums(bn.shape, 2, bn.partial, bn.sums, func(_, _, lo, hi int, acc []float64) {
			acc[0], acc[1] = sums2(x[lo:hi])
		})
		for ch := range mean {
			mean[ch] = bn.sums[ch] / n
		}
		for ch, sq := range bn.sums[c:] {
			v := max(sq/n-mean[ch]*mean[ch], 0)
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
	inPlanes(bn.shape, func(_, ch, lo, hi int) {
		// y = gamma*xhat + beta = x*scale + shift, then the ReLU.
		scale := float64(gamma[ch]) * invStd[ch]
		s, t := T(scale), T(float64(beta[ch])-mean[ch]*scale)
		x := x[lo:hi]
		y := out[lo:hi][:len(x)]
		switch {
		case bn.residual:
			sc := shortcut[lo:hi][:len(x)]
			for i, v := range x {
				y[i] = max(v*s+t+sc[i], 0)
			}
		case bn.relu:
			for i, v := range x {
				y[i] = max(v*s+t, 0)
			}
		default:
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
// is positive), with xhat = (x - mean)*invStd recomputed from x. With batch
// statistics, dx = gamma*invStd/n * (n*dy - sum(dy) - xhat*sum(dy*xhat));
// with running statistics the normalisation is a constant affine map. One
// pass computes both sums: sum(dy) (dbeta) and sum(dy*x), from which
// sum(dy*xhat) = (sum(dy*x) - mean*sum(dy))*invStd (dgamma).
func (bn *bnOp[T]) backward(name string) func(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	c := bn.shape[1]
	n := float64(bn.shape.TotalSize() / c)
	return func(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
		dgamma, err := apply(&fnOp[T]{
			name:       name + "/dgamma",
			shape:      tensor.Shape{c},
			overwrites: true,
			forward: func(out []T, in [][]T) error {
				dy, y, x := in[0], in[1], in[2]
				channelSums(bn.shape, 2, bn.partial, bn.sums, func(_, _, lo, hi int, acc []float64) {
					var buf [256]T
					var db, dx float64
					for i := lo; i < hi; i += len(buf) {
						d := dy[i:min(hi, i+len(buf))]
						if bn.relu {
							d = buf[:len(d)]
							reluGrad(d, dy[i:], y[i:])
						}
						b, g := dots(d, x[i:])
						db, dx = db+b, dx+g
					}
					acc[0], acc[1] = db, dx
				})
				for ch := range c {
					// Now sums[c+ch] is sum(dy*xhat).
					bn.sums[c+ch] = (bn.sums[c+ch] - bn.mean[ch]*bn.sums[ch]) * bn.invStd[ch]
					out[ch] = T(bn.sums[c+ch])
				}
				return nil
			},
		}, dy, y, in[0])
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
				dy, gamma, x, y := in[0], in[2], in[3], in[4]
				inPlanes(bn.shape, func(_, ch, lo, hi int) {
					// dx = a*dy + b + c*xhat = a*dy + (b - c*mean*invStd) + c*invStd*x,
					// the per-channel factors in float64.
					a := float64(gamma[ch]) * bn.invStd[ch]
					var b, c float64
					if bn.batchStats {
						b, c = -a*bn.sums[ch]/n, -a*bn.sums[len(bn.mean)+ch]/n
					}
					aT, bT, cT := T(a), T(b-c*bn.mean[ch]*bn.invStd[ch]), T(c*bn.invStd[ch])
					d := dy[lo:hi]
					if bn.relu {
						d = out[lo:hi]
						reluGrad(d, dy[lo:hi], y[lo:hi])
					}
					o, x := out[lo:hi], x[lo:hi]
					for i, v := range d {
						o[i] = aT*v + bT + cT*x[i]
					}
				})
				return nil
			},
			inPlace: &inPlace{input: 0, peers: G.Nodes{dgamma}},
		}, dy, dbeta, in[1], in[0], y)
		return G.Nodes{dx, dgamma, dbeta}, err
	}
}

// batchNormEps is batchNorm with another epsilon, kept by the layer.
func (b *builder[T]) batchNormEps(name string, x *G.Node, eps float64) *G.Node {
	y := b.batchNorm(name, x)
	if bn, ok := b.m.bnByName[b.full(name)]; ok {
		bn.eps = eps
	}
	return y
}
