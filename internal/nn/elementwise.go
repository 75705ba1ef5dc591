package nn

import (
	"math"

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
		name:       b.full(name) + "/add",
		shape:      shape,
		overwrites: true,
		forward: func(out []T, in [][]T) error {
			inPlanes(shape, func(_, ch, lo, hi int) {
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
// the gradient of a per-channel bias.
func channelSum[T Float](name string, x *G.Node) (*G.Node, error) {
	shape := x.Shape().Clone()
	partial, sums := make([]float64, shape[0]*shape[1]), make([]float64, shape[1])
	op := &fnOp[T]{
		name:       name,
		shape:      tensor.Shape{shape[1]},
		overwrites: true,
		forward: func(out []T, in [][]T) error {
			channelSums(shape, 1, partial, sums, func(_, _, lo, hi int, acc []float64) {
				acc[0] = sum(in[0][lo:hi])
			})
			for i, s := range sums {
				out[i] = T(s)
			}
			return nil
		},
	}
	return apply(op, x)
}

// sum adds x in float64, in four interleaved sums so that the additions
// do not wait on each other; the order is fixed, so is the result.
func sum[T Float](x []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i])
		s1 += float64(x[i+1])
		s2 += float64(x[i+2])
		s3 += float64(x[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// sums2 is the sum of x and the sum of its squares, as sum adds.
func sums2[T Float](x []T) (s, sq float64) {
	var s0, s1, q0, q1 float64
	i := 0
	for ; i+2 <= len(x); i += 2 {
		a, b := float64(x[i]), float64(x[i+1])
		s0, q0 = s0+a, q0+a*a
		s1, q1 = s1+b, q1+b*b
	}
	for ; i < len(x); i++ {
		a := float64(x[i])
		s0, q0 = s0+a, q0+a*a
	}
	return s0 + s1, q0 + q1
}

// dots is sum(d) and sum(d*x) over d (x at least as long), as sum adds.
func dots[T Float](d, x []T) (s, dx float64) {
	var s0, s1, p0, p1 float64
	x = x[:len(d)]
	i := 0
	for ; i+2 <= len(d); i += 2 {
		a, b := float64(d[i]), float64(d[i+1])
		s0, p0 = s0+a, p0+a*float64(x[i])
		s1, p1 = s1+b, p1+b*float64(x[i+1])
	}
	for ; i < len(d); i++ {
		a := float64(d[i])
		s0, p0 = s0+a, p0+a*float64(x[i])
	}
	return s0 + s1, p0 + p1
}

// inPlanes calls f with the index p, the channel and the index range
// [lo, hi) of each (example, channel) plane of a tensor of shape (batch,
// channels, rest...), concurrently over fixed chunks of the planes.
func inPlanes(shape tensor.Shape, f func(p, ch, lo, hi int)) {
	c := shape[1]
	size := product(shape[2:])
	inChunks(shape[0]*c, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			f(p, p%c, p*size, (p+1)*size)
		}
	})
}

// channelSums computes k sums per channel over the batch: plane writes the
// k sums of one plane into acc, concurrently for all planes (partial holds
// them, k per plane), and sums[j*channels+ch] adds sum j of the channel's
// planes in batch order, so that the result does not depend on the number
// of threads.
func channelSums(shape tensor.Shape, k int, partial, sums []float64, plane func(p, ch, lo, hi int, acc []float64)) {
	c := shape[1]
	inPlanes(shape, func(p, ch, lo, hi int) { plane(p, ch, lo, hi, partial[p*k:(p+1)*k]) })
	clear(sums)
	for p := range shape[0] * c {
		for j := range k {
			sums[j*c+p%c] += partial[p*k+j]
		}
	}
}

// relu is max(x, 0); the gradient passes where the output is positive.
// Gorgonia's Rectify takes two ops (a comparison and a product) each way.
func relu[T Float](x *G.Node) (*G.Node, error) {
	shape := x.Shape().Clone()
	n := shape.TotalSize()
	op := &fnOp[T]{
		name:       "relu",
		shape:      shape,
		overwrites: true,
		forward: func(y []T, in [][]T) error {
			inChunks(n, func(_, lo, hi int) {
				for i, v := range in[0][lo:hi] {
					y[lo+i] = max(v, 0)
				}
			})
			return nil
		},
		backward: func(_ G.Nodes, y, grad *G.Node) (G.Nodes, error) {
			dx, err := reluGradNode[T](shape, grad, y)
			return G.Nodes{dx}, err
		},
		diffWRT: []bool{true},
	}
	return apply(op, x)
}

// reluGradNode is the gradient through a ReLU whose output is y.
func reluGradNode[T Float](shape tensor.Shape, grad, y *G.Node) (*G.Node, error) {
	n := shape.TotalSize()
	return apply(&fnOp[T]{
		name:       "relu/grad",
		shape:      shape,
		overwrites: true,
		forward: func(dx []T, in [][]T) error {
			inChunks(n, func(_, lo, hi int) { reluGrad(dx[lo:hi], in[0][lo:hi], in[1][lo:hi]) })
			return nil
		},
		inPlace: &inPlace{input: 0},
	}, grad, y)
}

// reluGrad sets dx to dy where the ReLU's output y is positive, else 0,
// without a branch: one taken half the time at random costs more than the
// rest of the loop. y >= 0, so y > 0 exactly when its bits are not all 0.
func reluGrad[T Float](dx, dy, y []T) {
	switch dx := any(dx).(type) {
	case []float32:
		dy, y := any(dy).([]float32), any(y).([]float32)
		for i, v := range y[:len(dx)] {
			b := math.Float32bits(v)
			dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & uint32(int32(b|-b)>>31))
		}
	case []float64:
		dy, y := any(dy).([]float64), any(y).([]float64)
		for i, v := range y[:len(dx)] {
			b := math.Float64bits(v)
			dx[i] = math.Float64frombits(math.Float64bits(dy[i]) & uint64(int64(b|-b)>>63))
		}
	}
}
