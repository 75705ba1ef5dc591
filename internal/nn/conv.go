package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	gemmpkg "github.com/bench-ml/bench/internal/gemm"
	"github.com/bench-ml/bench/internal/parallel"
)

// convGeom is the geometry of a 2-D convolution: a kh x kw kernel, padded
// by ph rows and pw columns on each side.
type convGeom struct {
	batch, in, h, w int // input
	out, oh, ow     int // output
	kh, kw, stride  int
	ph, pw          int
}

// convShape is a convolution's kernel, stride and padding, as
// torch.nn.Conv2d's kernel_size, stride and padding.
type convShape struct{ kh, kw, stride, ph, pw int }

func newConvGeomRect(x tensor.Shape, out int, c convShape) convGeom {
	return convGeom{
		batch: x[0], in: x[1], h: x[2], w: x[3],
		out: out, oh: (x[2]+2*c.ph-c.kh)/c.stride + 1, ow: (x[3]+2*c.pw-c.kw)/c.stride + 1,
		kh: c.kh, kw: c.kw, stride: c.stride, ph: c.ph, pw: c.pw,
	}
}

func (g convGeom) k() int { return g.in * g.kh * g.kw } // rows of an image's columns
func (g convGeom) p() int { return g.oh * g.ow }        // output positions per image

// conv2d is PyTorch's conv2d (cross-correlation, weight out x in x k x k)
// as im2col and one matrix product per image, written straight into the
// (batch, out, height, width) layout. Gorgonia's Conv2d computes the same
// in (batch, height, width, out) and transposes it, and the gradient back,
// with a generic strided iterator: a tenth of a step. w is the weight as the
// out x (in*k*k) matrix. A 1x1 stride-1 convolution multiplies the image
// itself, which is its own columns. Otherwise each chunk of the batch builds
// one image's columns at a time in the model's scratch, the weight gradient
// building them again rather than keep a batch of them from the forward:
// at 224x224 they would be gigabytes, and im2col costs little beside the
// product.
func conv2d[T Float](name string, x, w *G.Node, g convGeom, train bool, ws *scratch[T]) (*G.Node, error) {
	k, p := g.k(), g.p()
	colSize := k * p
	if g.direct() {
		colSize = 0
	}
	ws.reserve(convChunks * colSize)
	if train { // the weight gradient's partial sums, before its columns
		ws.reserve(convChunks * (g.out*k + colSize))
	}
	var weight leftMatrix[T]
	op := &fnOp[T]{
		name:       name,
		shape:      tensor.Shape{g.batch, g.out, g.oh, g.ow},
		overwrites: true,
		forward: func(y []T, in [][]T) error {
			weight.set(g.out, k, in[1], k, false)
			cols := ws.get()
			inChunks(g.batch, func(chunk, lo, hi int) {
				c := cols[chunk*colSize:][:colSize]
				for b := lo; b < hi; b++ {
					weight.mul(p, imageColumns(g, in[0][b*g.in*g.h*g.w:], c), p, false, 0, y[b*g.out*p:], p)
				}
			})
			return nil
		},
		// The gradient of the graph's input (the images) is never needed.
		diffWRT: []bool{!x.IsVar(), true},
	}
	op.backward = func(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
		// dW = sum over images of dy_b (out x p) times cols_b transposed,
		// summed per chunk of the batch, then over the chunks in order.
		dw, err := apply(&fnOp[T]{
			name:       name + "/dw",
			shape:      tensor.Shape{g.out, k},
			overwrites: true,
			forward: func(dw []T, in [][]T) error {
				buf := ws.get()
				partial, cols := buf[:convChunks*g.out*k], buf[convChunks*g.out*k:]
				inChunks(g.batch, func(chunk, lo, hi int) {
					part, c := partial[chunk*g.out*k:][:g.out*k], cols[chunk*colSize:][:colSize]
					clear(part)
					for b := lo; b < hi; b++ {
						gemm(false, true, g.out, k, p, in[0][b*g.out*p:], p, imageColumns(g, in[1][b*g.in*g.h*g.w:], c), p, 1, part, k)
					}
				})
				// Each weight adds its chunks' sums in order, the weights
				// split over the cores.
				inChunks(g.out*k, func(_, lo, hi int) {
					copy(dw[lo:hi], partial[lo:hi])
					for c := 1; c < convChunks; c++ {
						for i, v := range partial[c*g.out*k+lo : c*g.out*k+hi] {
							dw[lo+i] += v
						}
					}
				})
				return nil
			},
		}, dy, in[0])
		if err != nil || !op.diffWRT[0] {
			return G.Nodes{nil, dw}, err
		}
		// dx_b = col2im(W transposed times dy_b), or just the product for a
		// direct convolution.
		var weightT leftMatrix[T]
		dx, err := apply(&fnOp[T]{
			name:       name + "/dx",
			shape:      in[0].Shape().Clone(),
			overwrites: true,
			transient:  true,
			forward: func(dx []T, in [][]T) error {
				weightT.set(k, g.out, in[1], k, true)
				dcols := ws.get()
				inChunks(g.batch, func(chunk, lo, hi int) {
					c := dcols[chunk*colSize:][:colSize]
					for b := lo; b < hi; b++ {
						image := dx[b*g.in*g.h*g.w:][:g.in*g.h*g.w]
						if g.direct() {
							weightT.mul(p, in[0][b*g.out*p:], p, false, 0, image, p)
							continue
						}
						weightT.mul(p, in[0][b*g.out*p:], p, false, 0, c, p)
						clear(image)
						col2im(g, c, image)
					}
				})
				return nil
			},
		}, dy, in[1])
		return G.Nodes{dx, dw}, err
	}
	return apply(op, x, w)
}

// direct says that the convolution is 1x1 with stride 1 and no padding: an
// image (in x h*w) is then its own columns.
func (g convGeom) direct() bool {
	return g.kh == 1 && g.kw == 1 && g.stride == 1 && g.ph == 0 && g.pw == 0
}

// imageColumns returns the columns of the image starting at x: x itself for a
// direct convolution, else im2col's, written to buf.
func imageColumns[T Float](g convGeom, x, buf []T) []T {
	if g.direct() {
		return x[:g.k()*g.p()]
	}
	im2col(g, x, buf)
	return buf
}

// scratch is memory that the convolutions of a model share: ops run one at
// a time, and none needs its scratch after it returns. It is allocated at
// the first run, at the largest size a layer reserved while building.
type scratch[T Float] struct {
	size int
	buf  []T
}

func (s *scratch[T]) reserve(n int) { s.size = max(s.size, n) }

func (s *scratch[T]) get() []T {
	if len(s.buf) < s.size {
		s.buf = make([]T, s.size)
	}
	return s.buf
}

// convChunks is the number of fixed slices of the batch that a convolution
// works on concurrently. It is a constant, not the number of cores, so that
// the weight gradient (summed per slice, then over the slices in order) is
// the same on every machine.
const convChunks = 4

// inChunks calls f on convChunks contiguous slices [lo, hi) of the batch,
// concurrently on up to GOMAXPROCS goroutines (the caller's included), and
// waits for them. Which goroutine runs a chunk does not change its result.
// Each goroutine takes the next chunk left, so that one started late (a
// core waking up) leaves its share to the others rather than be waited for.
func inChunks(batch int, f func(chunk, lo, hi int)) {
	parallel.For(convChunks, func(c int) { f(c, c*batch/convChunks, (c+1)*batch/convChunks) })
}

// im2col writes one image's (in x h x w) patches as the columns of cols
// (in*kh*kw rows, one per weight, by oh*ow columns, one per output position),
// zero where the window hangs over the padding.
func im2col[T Float](g convGeom, x, cols []T) {
	p := g.p()
	for c := 0; c < g.in; c++ {
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				row := cols[((c*g.kh+ki)*g.kw+kj)*p:][:p]
				lo, hi := g.inside(kj)
				for oi := 0; oi < g.oh; oi++ {
					i := oi*g.stride - g.ph + ki
					out := row[oi*g.ow : (oi+1)*g.ow]
					if i < 0 || i >= g.h {
						clear(out)
						continue
					}
					clear(out[:lo])
					clear(out[hi:])
					src := x[(c*g.h+i)*g.w:][:g.w]
					if g.stride == 1 {
						copy(out[lo:hi], src[lo-g.pw+kj:])
						continue
					}
					for oj := lo; oj < hi; oj++ {
						out[oj] = src[oj*g.stride-g.pw+kj]
					}
				}
			}
		}
	}
}

// inside is the range [lo, hi) of output columns whose input column for
// kernel column kj is inside the image, not in the padding.
func (g convGeom) inside(kj int) (lo, hi int) {
	// j = oj*stride - pw + kj must be in [0, w).
	lo = max(0, (g.pw-kj+g.stride-1)/g.stride)
	hi = min(g.ow, (g.w-1+g.pw-kj)/g.stride+1)
	return lo, max(lo, hi)
}

// col2im adds the columns back onto the image they came from: the adjoint of
// im2col.
func col2im[T Float](g convGeom, cols, x []T) {
	p := g.p()
	for c := 0; c < g.in; c++ {
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				row := cols[((c*g.kh+ki)*g.kw+kj)*p:][:p]
				lo, hi := g.inside(kj)
				for oi := 0; oi < g.oh; oi++ {
					i := oi*g.stride - g.ph + ki
					if i < 0 || i >= g.h {
						continue
					}
					dst := x[(c*g.h+i)*g.w:][:g.w]
					for oj, v := range row[oi*g.ow+lo : oi*g.ow+hi] {
						dst[(lo+oj)*g.stride-g.pw+kj] += v
					}
				}
			}
		}
	}
}

// leftMatrix is the left operand of several products, such as a
// convolution's weight, multiplied with every image of a batch: float32
// packs it once, float64 passes it to gonum each time.
type leftMatrix[T Float] struct {
	m, k   int
	a      []T
	lda    int
	trans  bool
	packed gemmpkg.PackedA
}

// set makes the m x k matrix a (stored transposed when trans) the left
// operand.
func (l *leftMatrix[T]) set(m, k int, a []T, lda int, trans bool) {
	l.m, l.k, l.a, l.lda, l.trans = m, k, a, lda, trans
	if a32, ok := any(a).([]float32); ok {
		l.packed.Pack(m, k, gemmpkg.Matrix{Data: a32, Stride: lda, Trans: trans})
	}
}

// mul is C = L B + beta C with B k x n. Goroutines may share l.
func (l *leftMatrix[T]) mul(n int, b []T, ldb int, transB bool, beta T, c []T, ldc int) {
	if c32, ok := any(c).([]float32); ok {
		gemmpkg.SgemmPacked(&l.packed, n, gemmpkg.Matrix{Data: any(b).([]float32), Stride: ldb, Trans: transB}, float32(beta), c32, ldc)
		return
	}
	gemm(l.trans, transB, l.m, n, l.k, l.a, l.lda, b, ldb, beta, c, ldc)
}

var blasImpl gonum.Implementation

// gemm is C = A B + beta C on row-major matrices (A m x k, B k x n), either
// transposed as stored: bench's packed AVX2 GEMM in float32, gonum's BLAS
// in float64 (the gradient checks).
func gemm[T Float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float32:
		bm := gemmpkg.Matrix{Data: any(b).([]float32), Stride: ldb, Trans: transB}
		gemmpkg.Sgemm(m, n, k, gemmpkg.Matrix{Data: a, Stride: lda, Trans: transA}, bm, float32(beta), any(c).([]float32), ldc)
	case []float64:
		ta, tb := blas.NoTrans, blas.NoTrans
		if transA {
			ta = blas.Trans
		}
		if transB {
			tb = blas.Trans
		}
		blasImpl.Dgemm(ta, tb, m, n, k, 1, a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}
