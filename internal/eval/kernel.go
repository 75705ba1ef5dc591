package eval

// maskBits is the number of reference columns per word of a score mask.
const maskBits = 16

// A kernel scores blocks of queries against blocks of references: the
// score |r|^2 - 2 q·r ranks references like the squared distance (|q|^2 is
// the same for all), and a bit mask marks the scores below each query's
// threshold, so that the search looks only at those. The search loop is
// the same for every kernel; kernels differ in how they lay the data out
// so that their inner loop runs at full speed.
type kernel[T Float] interface {
	// rowAlign is the number of query rows that scores fills at a time:
	// query tiles, thresholds and output buffers have room for a multiple
	// of it.
	rowAlign() int
	// packQueries lays out queries q0..q1 for scores, using dst (room for
	// the rows rounded up to rowAlign) when the kernel needs a copy.
	packQueries(dst []T, q0, q1 int) []T
	// scores sets out[i*ldo+j] to the score of packed query i and reference
	// r0+j, and bit j%16 of mask[i*ldm+j/16] when it is below thr[i], for
	// j < r1-r0; it may write out up to the next multiple of maskBits, but
	// mask bits past r1 stay clear. r0 is a multiple of maskBits.
	scores(out []T, ldo int, mask []uint16, ldm int, qp, thr []T, nq, r0, r1 int)
}

// newKernel picks the fastest kernel available for T on this machine.
func newKernel[T Float](query, ref []T, dim int) kernel[T] {
	if k := newSIMDKernel(query, ref, dim); k != nil {
		return k
	}
	return &goKernel[T]{q: query, r: ref, rnorm: sqNorms(ref, dim), dim: dim}
}

// sqNorms returns |x_i|^2 accumulated in float64: the norms enter every
// distance, so their rounding error should be no larger than T's.
func sqNorms[T Float](x []T, dim int) []T {
	n := len(x) / dim
	out := make([]T, n)
	for i := range n {
		var s float64
		for _, v := range x[i*dim : (i+1)*dim] {
			s += float64(v) * float64(v)
		}
		out[i] = T(s)
	}
	return out
}

// goKernel works on the row-major data as given. Its inner loop takes one
// query against four references so that each query element loaded from
// memory is used four times and four independent sums keep the FPU busy.
type goKernel[T Float] struct {
	q, r  []T
	rnorm []T
	dim   int
}

func (k *goKernel[T]) rowAlign() int { return 1 }

func (k *goKernel[T]) packQueries(_ []T, q0, q1 int) []T {
	return k.q[q0*k.dim : q1*k.dim]
}

func (k *goKernel[T]) scores(out []T, ldo int, mask []uint16, ldm int, qp, thr []T, nq, r0, r1 int) {
	d := k.dim
	n := r1 - r0
	for i := range nq {
		q := qp[i*d : (i+1)*d]
		o := out[i*ldo : i*ldo+n]
		m := mask[i*ldm : i*ldm+(n+maskBits-1)/maskBits]
		clear(m)
		j := 0
		for ; j+4 <= n; j += 4 {
			a := k.r[(r0+j)*d : (r0+j+1)*d]
			b := k.r[(r0+j+1)*d : (r0+j+2)*d]
			c := k.r[(r0+j+2)*d : (r0+j+3)*d]
			e := k.r[(r0+j+3)*d : (r0+j+4)*d]
			var sa, sb, sc, se T
			for l, x := range q {
				sa += x * a[l]
				sb += x * b[l]
				sc += x * c[l]
				se += x * e[l]
			}
			o[j], o[j+1], o[j+2], o[j+3] = sa, sb, sc, se
		}
		for ; j < n; j++ {
			a := k.r[(r0+j)*d : (r0+j+1)*d]
			var s T
			for l, x := range q {
				s += x * a[l]
			}
			o[j] = s
		}
		rn := k.rnorm[r0:r1]
		t := thr[i]
		for j, r := range rn {
			s := r - 2*o[j]
			o[j] = s
			if s < t {
				m[j/maskBits] |= 1 << (j % maskBits)
			}
		}
	}
}
