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
	// convRect is a convolution without bias with any kernel, stride and
	// padding (torchvision's Inception v3 has 1x7 and unpadded ones).
	convRect(name string, x *G.Node, out int, c convShape) *G.Node
	batchNorm(name string, x *G.Node) *G.Node
	// batchNormReLU is relu(batchNorm(name, x)) fused: one pass each way.
	batchNormReLU(name string, x *G.Node) *G.Node
	linear(name string, x *G.Node, out int) *G.Node
	relu(x *G.Node) *G.Node
	// pool halves the resolution with a 2x2 window: kind is "max" or "avg".
	pool(name string, x *G.Node, kind string) *G.Node
	// meanPool averages each channel over the image (global average pooling).
	meanPool(name string, x *G.Node) *G.Node
	// batchNormAddReLU is relu(batchNorm(name, x) + shortcut) fused: the
	// end of a residual block.
	batchNormAddReLU(name string, x, shortcut *G.Node) *G.Node
	// batchNormEps is batchNorm with another epsilon (torchvision's
	// Inception networks use 0.001).
	batchNormEps(name string, x *G.Node, eps float64) *G.Node
	// poolWindow is PyTorch's max_pool2d or avg_pool2d (kind "max" or
	// "avg", count_include_pad) with any square window.
	poolWindow(name string, x *G.Node, kind string, w window) *G.Node
	// concat joins maps along the channels, as torch.cat(xs, 1).
	concat(name string, xs ...*G.Node) *G.Node
	// columns is x[:, start:start+size] of a batch x d node.
	columns(name string, x *G.Node, start, size int) *G.Node
	// channelAffine is x_c * scale_c + shift_c on the network's input.
	channelAffine(name string, x *G.Node, scale, shift [3]float64) *G.Node
}

// builder adds layers to one graph. A parameter is created (and initialised
// from the model's rng) the first time its name is seen and shared by the
// later graphs: the train and eval graphs read, and the optimiser updates,
// the same memory.
type builder[T Float] struct {
	m     *Model[T]
	g     *G.ExprGraph
	train bool   // the training graph: batch statistics, nodes kept for Grad
	group string // "trunk", "embedder", "classifier" or "generator": name prefix and optimiser group
	// nodes are the parameter nodes of this graph by name: a component
	// applied twice (the embedder of DAML's synthetic branch) uses the same
	// nodes, so the gradients of both uses add up. (Gorgonia would also
	// merge equal input nodes; sharing must not depend on that.)
	nodes map[string]*G.Node
	// macs counts the multiply-adds of one run of the graph in its
	// convolutions and linear layers, forward and (training) backward.
	macs int64
	err  error
}

// param is one learnable tensor.
type param[T Float] struct {
	optim.Param[T]
	group string
	value *tensor.Dense // shared by the graphs; Param.Value aliases its data
	node  *G.Node       // in the training graph, to differentiate with respect to
}

// fail records err; the first one wins.
func (b *builder[T]) fail(err error) {
	if err != nil && b.err == nil {
		b.err = err
	}
}

// node records a Gorgonia function's error. After an error the node is nil,
// which every layer method returns early on.
func (b *builder[T]) node(n *G.Node, err error) *G.Node {
	b.fail(err)
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
	if n, ok := b.nodes[full]; ok {
		return n
	}
	n := G.NewTensor(b.g, dtype[T](), len(graphShape), G.WithShape(graphShape...), G.WithName(full), G.WithValue(p.value))
	b.nodes[full] = n
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
	y := b.convRect(name, x, out, convShape{kh: kernel, kw: kernel, stride: stride, ph: kernel / 2, pw: kernel / 2})
	if bias {
		y = b.addBias(name+".bias", y, x.Shape()[1]*kernel*kernel)
	}
	return y
}

func (b *builder[T]) convRect(name string, x *G.Node, out int, c convShape) *G.Node {
	if b.err != nil {
		return x
	}
	g := newConvGeomRect(x.Shape(), out, c)
	// The weight node is the out x (in*kh*kw) matrix the columns multiply.
	w := b.param(name+".weight", []int{out, g.in, c.kh, c.kw}, []int{out, g.k()}, b.uniform(g.k()))
	b.count(int64(g.batch)*int64(g.out*g.k()*g.p()), x)
	return b.node(conv2d(b.full(name), x, w, g, b.train, &b.m.convScratch))
}

// count adds the multiply-adds of a layer whose forward takes fwd of them:
// in training, the weight gradient takes as many again, and so does the
// gradient of the input x unless x is the graph's input.
func (b *builder[T]) count(fwd int64, x *G.Node) {
	b.macs += fwd
	if b.train {
		b.macs += fwd
		if !x.IsVar() {
			b.macs += fwd
		}
	}
}

func (b *builder[T]) linear(name string, x *G.Node, out int) *G.Node {
	if b.err != nil {
		return x
	}
	in := x.Shape()[1]
	b.count(int64(x.Shape()[0])*int64(in*out), x)
	w := b.param(name+".weight", []int{out, in}, []int{out, in}, b.uniform(in))
	return b.addBias(name+".bias", b.node(matmulT[T](b.full(name), x, w)), in)
}

func (b *builder[T]) columns(name string, x *G.Node, start, size int) *G.Node {
	if b.err != nil {
		return x
	}
	return b.node(columns[T](b.full(name), x, start, size))
}

func (b *builder[T]) relu(x *G.Node) *G.Node {
	if b.err != nil {
		return x
	}
	return b.node(relu[T](x))
}

func (b *builder[T]) pool(name string, x *G.Node, kind string) *G.Node {
	if b.err != nil {
		return x
	}
	switch kind {
	case "max":
		return b.node(maxPool2[T](b.full(name), x))
	case "avg":
		return b.node(avgPool2[T](b.full(name), x))
	}
	b.fail(fmt.Errorf("unknown pooling %q", kind))
	return x
}

func (b *builder[T]) meanPool(name string, x *G.Node) *G.Node {
	if b.err != nil {
		return x
	}
	return b.node(meanPool[T](b.full(name), x))
}

func product(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}
