package nn

import (
	"errors"
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The ImageNet architectures need PyTorch's general pooling (any square
// window, stride and padding, floor or ceil mode) and channel concatenation.

// window is one pooling layer's geometry, as torch.nn.MaxPool2d and
// AvgPool2d (count_include_pad=True) define it.
type window struct {
	kernel, stride, pad int
	ceil                bool
}

// outSize is PyTorch's pooling output size: in ceil mode a last window may
// hang over the end, but must start inside the input or its left padding.
func (w window) outSize(n int) (int, error) {
	span := n + 2*w.pad - w.kernel
	if span < 0 || w.pad > w.kernel/2 {
		return 0, fmt.Errorf("a %dx%d pooling window (padding %d) does not fit a map of size %d", w.kernel, w.kernel, w.pad, n)
	}
	if !w.ceil {
		return span/w.stride + 1, nil
	}
	o := (span+w.stride-1)/w.stride + 1
	if (o-1)*w.stride >= n+w.pad {
		o--
	}
	return o, nil
}

// each calls f for every output position of one plane (h x w) with its
// index, the clipped window [r0, r1) x [c0, c1) and the window's size
// counting padding (the average's divisor with count_include_pad).
func (w window) each(h, wd, oh, ow int, f func(o, r0, r1, c0, c1, size int)) {
	for i := 0; i < oh; i++ {
		r0 := i*w.stride - w.pad
		r1 := min(r0+w.kernel, h+w.pad)
		rows := r1 - r0
		r0, r1 = max(r0, 0), min(r1, h)
		for j := 0; j < ow; j++ {
			c0 := j*w.stride - w.pad
			c1 := min(c0+w.kernel, wd+w.pad)
			size := rows * (c1 - c0)
			f(i*ow+j, r0, r1, max(c0, 0), min(c1, wd), size)
		}
	}
}

// pool2d is max_pool2d or avg_pool2d (kind "max" or "avg") with the window
// w on x (batch, channels, h, w).
func pool2d[T Float](name string, x *G.Node, kind string, w window) (*G.Node, error) {
	in := x.Shape().Clone()
	h, wd := in[2], in[3]
	oh, err1 := w.outSize(h)
	ow, err2 := w.outSize(wd)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := tensor.Shape{in[0], in[1], oh, ow}
	planes, plane, oplane := in[0]*in[1], h*wd, oh*ow
	var op *fnOp[T]
	switch kind {
	case "max":
		argmax := make([]int, out.TotalSize()) // of the last forward, for its backward
		op = &fnOp[T]{name: name, shape: out, diffWRT: []bool{true},
			forward: func(y []T, v [][]T) error {
				for p := 0; p < planes; p++ {
					x := v[0][p*plane : (p+1)*plane]
					w.each(h, wd, oh, ow, func(o, r0, r1, c0, c1, _ int) {
						best := r0*wd + c0
						for r := r0; r < r1; r++ {
							for c := c0; c < c1; c++ {
								if x[r*wd+c] > x[best] {
									best = r*wd + c
								}
							}
						}
						y[p*oplane+o], argmax[p*oplane+o] = x[best], p*plane+best
					})
				}
				return nil
			},
			backward: linearBackward(name, in, func(dx, g []T) {
				clear(dx)
				for o, i := range argmax {
					dx[i] += g[o]
				}
			}),
		}
	case "avg":
		op = &fnOp[T]{name: name, shape: out, diffWRT: []bool{true},
			forward: func(y []T, v [][]T) error {
				for p := 0; p < planes; p++ {
					x := v[0][p*plane : (p+1)*plane]
					w.each(h, wd, oh, ow, func(o, r0, r1, c0, c1, size int) {
						var s T
						for r := r0; r < r1; r++ {
							for _, v := range x[r*wd+c0 : r*wd+c1] {
								s += v
							}
						}
						y[p*oplane+o] = s / T(size)
					})
				}
				return nil
			},
			backward: linearBackward(name, in, func(dx, g []T) {
				clear(dx)
				for p := 0; p < planes; p++ {
					d := dx[p*plane : (p+1)*plane]
					w.each(h, wd, oh, ow, func(o, r0, r1, c0, c1, size int) {
						v := g[p*oplane+o] / T(size)
						for r := r0; r < r1; r++ {
							for c := c0; c < c1; c++ {
								d[r*wd+c] += v
							}
						}
					})
				}
			}),
		}
	default:
		return nil, fmt.Errorf("%s: unknown pooling %q", name, kind)
	}
	return apply(op, x)
}

// concat joins xs (batch, c_i, h, w) along the channels, as torch.cat(xs, 1).
func concat[T Float](name string, xs ...*G.Node) (*G.Node, error) {
	first := xs[0].Shape()
	batch, rest := first[0], product(first[2:])
	channels := make([]int, len(xs))
	total := 0
	for i, x := range xs {
		s := x.Shape()
		if s.Dims() != first.Dims() || s[0] != batch || product(s[2:]) != rest {
			return nil, fmt.Errorf("%s: cannot concatenate shapes %v and %v", name, first, s)
		}
		channels[i] = s[1]
		total += s[1]
	}
	out := first.Clone()
	out[1] = total
	// offset[i] is where input i's channels start in an example's output.
	offset := make([]int, len(xs))
	for i := 1; i < len(xs); i++ {
		offset[i] = offset[i-1] + channels[i-1]*rest
	}
	op := &fnOp[T]{name: name, shape: out, diffWRT: make([]bool, len(xs)),
		forward: func(y []T, in [][]T) error {
			for b := 0; b < batch; b++ {
				for i, x := range in {
					n := channels[i] * rest
					copy(y[b*total*rest+offset[i]:][:n], x[b*n:(b+1)*n])
				}
			}
			return nil
		},
	}
	for i := range op.diffWRT {
		op.diffWRT[i] = true
	}
	op.backward = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		grads := make(G.Nodes, len(in))
		for i := range in {
			n := channels[i] * rest
			var err error
			grads[i], err = apply(&fnOp[T]{
				name:  fmt.Sprintf("%s/grad%d", name, i),
				shape: in[i].Shape().Clone(),
				forward: func(dx []T, g [][]T) error {
					for b := 0; b < batch; b++ {
						copy(dx[b*n:(b+1)*n], g[0][b*total*rest+offset[i]:][:n])
					}
					return nil
				},
			}, grad)
			if err != nil {
				return nil, err
			}
		}
		return grads, nil
	}
	return apply(op, xs...)
}

func (b *builder[T]) poolWindow(name string, x *G.Node, kind string, w window) *G.Node {
	if b.err != nil {
		return x
	}
	return b.node(pool2d[T](b.full(name), x, kind, w))
}

func (b *builder[T]) concat(name string, xs ...*G.Node) *G.Node {
	if b.err != nil {
		return xs[0]
	}
	return b.node(concat[T](b.full(name), xs...))
}

// channelAffine maps each channel c of the network's input x to
// x * scale[c] + shift[c] (torchvision's transform_input). It has no
// gradient: the input is never differentiated.
func (b *builder[T]) channelAffine(name string, x *G.Node, scale, shift [3]float64) *G.Node {
	if b.err != nil {
		return x
	}
	shape := x.Shape().Clone()
	op := &fnOp[T]{
		name:       b.full(name),
		shape:      shape,
		overwrites: true,
		forward: func(out []T, in [][]T) error {
			inPlanes(shape, func(_, c, lo, hi int) {
				a, s := T(scale[c]), T(shift[c])
				for i := lo; i < hi; i++ {
					out[i] = in[0][i]*a + s
				}
			})
			return nil
		},
	}
	return b.node(apply(op, x))
}
