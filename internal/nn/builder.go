package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/bench-ml/bench/internal/optim"
)

// layers is what trunks and heads use to add layers to a graph. The builder
// implements it for float32 and float64 graphs, so that the components
// themselves need no type parameter. Errors are sticky: after the first one
// every method returns its input unchanged and the builder reports it.
type layers interface {
	// conv is a 2-D convolution with "same" padding (kernel/2), PyTorch's
	// Conv2d weight layout (out, in, k, k) and an optional bias.
	conv(name string, x *G.Node, out, kernel, stride int, bias bool) *G.Node
	batchNorm(name string, x *G.Node) *G.Node
	linear(name string, x *G.Node, out int) *G.Node
	relu(x *G.Node) *G.Node
	// pool halves the resolution with a 2x2 window: kind is "max" or "avg".
	pool(name string, x *G.Node, kind string) *G.Node
	// meanPool averages each channel over the image (global average pooling).
	meanPool(name string, x *G.Node) *G.Node
	add(a, b *G.Node) *G.Node
}

// builder adds layers to one graph. A parameter is created (and initialised
// from the model's rng) the first time its name is seen and shared by the
// later graphs: the train and eval graphs read, and the optimiser updates,
// the same memory.
type builder[T Float] struct {
	m     *Model[T]
	g     *G.ExprGraph
	train bool   // the training graph: batch statistics, nodes kept for Grad
	group string // "trunk", "embedder" or "classifier": name prefix and optimiser group
	err   error
}

// param is one learnable tensor.
type param[T Float] struct {
	optim.Param[T]
	group string
	value *tensor.Dense // shared by the graphs; Param.Value aliases its data
	node  *G.Node       // in the training graph, to differentiate with respect to
}

// ok records err (the first one wins) and reports whether building may go on.
func (b *builder[T]) ok(err error) bool {
	if err != nil && b.err == nil {
		b.err = err
	}
	return b.err == nil
}

// node applies a Gorgonia function result to the sticky error.
func (b *builder[T]) node(n *G.Node, err error) *G.Node {
	b.ok(err)
	return n
}

func (b *builder[T]) full(name string) string { return b.group + "." + name }

// param returns the node of a parameter; shape is its saved (PyTorch) shape,
// graphShape the shape the graph uses (same data, row-major).
func (b *builder[T]) param(name string, shape, graphShape []int, init func([]T)) *G.Node {
	full := b.full(name)
	p, ok := b.m.byName[full]
	if !ok {
		data := make([]T, product(shape))
		init(data)
		p = &param[T]{
			Param: optim.Param[T]{Name: full, Shape: shape, Value: data, Grad: make([]T, len(data))},
			group: b.group,
			value: tensor.New(tensor.WithShape(graphShape...), tensor.WithBacking(data)),
		}
		b.m.params = append(b.m.params, p)
		b.m.byName[full] = p
		b.m.state = append(b.m.state, stateTensor[T]{name: full, shape: shape, data: data})
	}
	n := G.NewTensor(b.g, dtype[T](), len(graphShape), G.WithShape(graphShape...), G.WithName(full), G.WithValue(p.value))
	if b.train {
		p.node = n
	}
	return n
}

// uniform is PyTorch's default initialisation of Conv2d and Linear, for the
// weight (kaiming_uniform with a = sqrt(5)) and the bias alike:
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
func (b *builder[T]) uniform(fanIn int) func([]T) {
	bound := 1 / math.Sqrt(float64(fanIn))
	return func(data []T) {
		for i := range data {
			data[i] = T((2*b.m.rng.Float64() - 1) * bound)
		}
	}
}

func fill[T Float](v T) func([]T) {
	return func(data []T) {
		for i := range data {
			data[i] = v
		}
	}
}

func (b *builder[T]) conv(name string, x *G.Node, out, kernel, stride int, bias bool) *G.Node {
	if b.err != nil {
		return x
	}
	s := x.Shape()
	fanIn := s[1] * kernel * kernel
	// The weight node is the (out, in*k*k) matrix that multiplies im2col's
	// columns, so that no Gorgonia op reshapes a shared parameter in place.
	w := b.param(name+".weight", []int{out, s[1], kernel, kernel}, []int{out, fanIn}, b.uniform(fanIn))
	k, pad := tensor.Shape{kernel, kernel}, tensor.Shape{kernel / 2, kernel / 2}
	cols := b.node(G.Im2Col(x, k, pad, tensor.Shape{stride, stride}, tensor.Shape{1, 1}))
	if b.err != nil {
		return x
	}
	cs := cols.Shape() // batch, out height, out width, in*k*k
	y := b.node(G.Reshape(cols, tensor.Shape{cs[0] * cs[1] * cs[2], cs[3]}))
	wt := b.node(G.Transpose(w))
	y = b.node(G.Mul(y, wt))
	y = b.node(G.Reshape(y, tensor.Shape{cs[0], cs[1], cs[2], out}))
	y = b.node(G.Transpose(y, 0, 3, 1, 2))
	if bias {
		y = b.addBias(name+".bias", y, fanIn)
	}
	return y
}

func (b *builder[T]) linear(name string, x *G.Node, out int) *G.Node {
	if b.err != nil {
		return x
	}
	in := x.Shape()[1]
	w := b.param(name+".weight", []int{out, in}, []int{out, in}, b.uniform(in))
	wt := b.node(G.Transpose(w))
	y := b.node(G.Mul(x, wt))
	return b.addBias(name+".bias", y, in)
}

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

func (b *builder[T]) relu(x *G.Node) *G.Node {
	if b.err != nil {
		return x
	}
	return b.node(G.Rectify(x))
}

func (b *builder[T]) pool(name string, x *G.Node, kind string) *G.Node {
	if b.err != nil {
		return x
	}
	switch kind {
	case "max":
		return b.node(G.MaxPool2D(x, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2}))
	case "avg":
		return b.node(avgPool2[T](b.full(name), x))
	}
	b.ok(fmt.Errorf("nn: unknown pooling %q", kind))
	return x
}

func (b *builder[T]) meanPool(name string, x *G.Node) *G.Node {
	if b.err != nil {
		return x
	}
	return b.node(meanPool[T](b.full(name), x))
}

func (b *builder[T]) add(x, y *G.Node) *G.Node {
	if b.err != nil {
		return x
	}
	return b.node(G.Add(x, y))
}

func product(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}
