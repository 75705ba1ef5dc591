package eval

// A kernel computes blocks of query-reference inner products. The search
// loop is the same for every kernel; kernels differ only in how the data is
// laid out in memory so that their inner loop can run at full speed.
type kernel[T Float] interface {
	// rowAlign is the number of query rows that dots fills at a time: query
	// tiles and output buffers have room for a multiple of it.
	rowAlign() int
	// colAlign is the same for reference columns.
	colAlign() int
	// packQueries lays out queries q0..q1 for dots, using dst as storage
	// when the kernel needs a copy.
	packQueries(dst []T, q0, q1 int) []T
	// dots sets out[i*ldo+j] = q_i·r_(r0+j) for the packed queries and the
	// references r0..r1. r0 is a multiple of colAlign.
	dots(out []T, ldo int, qp []T, nq, r0, r1 int)
}

// newKernel picks the fastest kernel available for T on this machine.
func newKernel[T Float](query, ref []T, dim int) kernel[T] {
	if k := newSIMDKernel(query, ref, dim); k != nil {
		return k
	}
	return &goKernel[T]{q: query, r: ref, dim: dim}
}

// goKernel works on the row-major data as given. Its inner loop takes one
// query against four references so that each query element loaded from
// memory is used four times and four independent sums keep the FPU busy.
type goKernel[T Float] struct {
	q, r []T
	dim  int
}

func (k *goKernel[T]) rowAlign() int { return 1 }
func (k *goKernel[T]) colAlign() int { return 1 }

func (k *goKernel[T]) packQueries(_ []T, q0, q1 int) []T {
	return k.q[q0*k.dim : q1*k.dim]
}

func (k *goKernel[T]) dots(out []T, ldo int, qp []T, nq, r0, r1 int) {
	d := k.dim
	for i := range nq {
		q := qp[i*d : (i+1)*d]
		o := out[i*ldo : i*ldo+(r1-r0)]
		j := r0
		for ; j+4 <= r1; j += 4 {
			a := k.r[j*d : (j+1)*d]
			b := k.r[(j+1)*d : (j+2)*d]
			c := k.r[(j+2)*d : (j+3)*d]
			e := k.r[(j+3)*d : (j+4)*d]
			var sa, sb, sc, se T
			for l, x := range q {
				sa += x * a[l]
				sb += x * b[l]
				sc += x * c[l]
				se += x * e[l]
			}
			o[j-r0], o[j-r0+1], o[j-r0+2], o[j-r0+3] = sa, sb, sc, se
		}
		for ; j < r1; j++ {
			a := k.r[j*d : (j+1)*d]
			var s T
			for l, x := range q {
				s += x * a[l]
			}
			o[j-r0] = s
		}
	}
}
