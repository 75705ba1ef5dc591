package nn

import (
	"fmt"
	"hash"
	"hash/fnv"
	"slices"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Float is the element type of a model: float32 for training, float64 for
// the gradient checks.
type Float interface{ float32 | float64 }

// fnOp is a Gorgonia Op made of plain functions. bench's own layers
// (convolution, BatchNorm, pooling, ReLU, bias, the loss bridge) are written
// this way: their state (running statistics, the step's loss gradient, what
// a forward keeps for its backward) lives in bench, where no new TapeMachine
// or SetTraining can reset it, and their loops are direct. Graphs have a
// fixed batch size, so the output shape is fixed too.
type fnOp[T Float] struct {
	// name is the op's hash: Gorgonia merges nodes with equal ops and
	// inputs, so an op with state carries its layer's name.
	name  string
	typ   hm.Type
	shape tensor.Shape // of the output; empty for a scalar
	// forward fills out (zeroed unless overwrites, len = shape.TotalSize()) from the inputs'
	// data (nil for a scalar input).
	forward func(out []T, in [][]T) error
	// backward returns one gradient node per input (nil where diffWRT is
	// false); nil for an op that is never differentiated.
	backward func(in G.Nodes, out, grad *G.Node) (G.Nodes, error)
	diffWRT  []bool
	// overwrites says that forward writes every value of out, which then
	// need not be zeroed first.
	overwrites bool
	// inPlace, when set, offers to write the output over one input, which
	// an elementwise gradient no longer needs: half the memory of the
	// backward pass.
	inPlace *inPlace
	out     *tensor.Dense // reused by every run: the graphs allocate nothing per step
}

// inPlace is an fnOp's offer to overwrite its input, taken by
// allowInPlace only where no other node reads that input after the op.
type inPlace struct {
	input int     // its index
	src   *G.Node // that input's node, set by apply
	peers G.Nodes // the other nodes that may read it, all run before the op
	ok    bool    // the offer is taken
}

// apply adds an fnOp node on the inputs. diffWRT may be nil when backward is.
func apply[T Float](op *fnOp[T], in ...*G.Node) (*G.Node, error) {
	tv := hm.TypeVariable('a')
	types := make(hm.Types, 0, len(in)+1)
	for _, n := range in {
		types = append(types, tensorType(n.Shape().Dims(), tv))
	}
	types = append(types, tensorType(op.shape.Dims(), tv))
	op.typ = hm.NewFnType(types...)
	if op.diffWRT == nil {
		op.diffWRT = make([]bool, len(in))
	}
	if op.inPlace != nil {
		op.inPlace.src = in[op.inPlace.input]
	}
	return G.ApplyOp(op, in...)
}

// allowInPlace takes the in-place offers of g's ops whose input is computed
// by the graph (not bound to it, as the images and parameters are) and read
// by no node but the op and its peers.
func allowInPlace[T Float](g *G.ExprGraph) {
	for _, n := range g.AllNodes() {
		op, ok := n.Op().(*fnOp[T])
		if !ok || op.inPlace == nil {
			continue
		}
		src := op.inPlace.src
		op.inPlace.ok = src.Op() != nil
		for readers := g.To(src.ID()); readers.Next(); {
			r := readers.Node().(*G.Node)
			op.inPlace.ok = op.inPlace.ok && (r == n || slices.Contains(op.inPlace.peers, r))
		}
	}
}

func tensorType(dims int, of hm.TypeVariable) hm.Type {
	if dims == 0 {
		return of
	}
	return G.TensorType{Dims: dims, Of: of}
}

func (op *fnOp[T]) Arity() int    { return len(op.diffWRT) }
func (op *fnOp[T]) Type() hm.Type { return op.typ }

func (op *fnOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *fnOp[T]) Do(inputs ...G.Value) (G.Value, error) {
	in := make([][]T, len(inputs))
	for i, v := range inputs {
		t, ok := v.(*tensor.Dense)
		if !ok {
			continue // a scalar, only ever an ordering dependency
		}
		if t.IsView() {
			t = t.Materialize().(*tensor.Dense)
		}
		in[i] = t.Data().([]T)
	}
	if op.shape.Dims() == 0 {
		out := make([]T, 1)
		if err := op.forward(out, in); err != nil {
			return nil, err
		}
		return scalar(out[0]), nil
	}
	if op.inPlace != nil && op.inPlace.ok {
		t, ok := inputs[op.inPlace.input].(*tensor.Dense)
		if !ok || t.IsView() || !t.Shape().Eq(op.shape) {
			return nil, fmt.Errorf("nn: %s cannot overwrite its input %d", op.name, op.inPlace.input)
		}
		if err := op.forward(t.Data().([]T), in); err != nil {
			return nil, err
		}
		return t, nil
	}
	if op.out == nil {
		op.out = tensor.New(tensor.WithShape(op.shape...), tensor.Of(dtype[T]()))
	} else if err := op.out.Reshape(op.shape...); err != nil { // in case a consumer reshaped it in place
		return nil, err
	}
	out := op.out.Data().([]T)
	if !op.overwrites {
		clear(out)
	}
	if err := op.forward(out, in); err != nil {
		return nil, err
	}
	return op.out, nil
}

func scalar[T Float](v T) G.Value {
	switch v := any(v).(type) {
	case float32:
		return G.NewF32(v)
	case float64:
		return G.NewF64(v)
	}
	panic("unreachable")
}

func dtype[T Float]() tensor.Dtype {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return tensor.Float32
	}
	return tensor.Float64
}

func (op *fnOp[T]) DiffWRT(int) []bool { return op.diffWRT }

func (op *fnOp[T]) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if op.backward == nil {
		return nil, fmt.Errorf("nn: %s is not differentiable", op.name)
	}
	return op.backward(in, out, grad)
}

func (op *fnOp[T]) ReturnsPtr() bool      { return false }
func (op *fnOp[T]) CallsExtern() bool     { return false }
func (op *fnOp[T]) OverwritesInput() int  { return -1 }
func (op *fnOp[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "bench.%s%v", op.name, op.shape) }
func (op *fnOp[T]) String() string        { return op.name }

func (op *fnOp[T]) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
