package eval

import "math"

// Shape of the AVX2 micro-kernel: simdRows query rows by simdCols
// references, held in twelve 8-float registers while it runs over the
// feature dimension. simdCols is also the width of a mask word.
const (
	simdRows = 6
	simdCols = maskBits
)

// hasAVX2FMA is checked once: the micro-kernel needs AVX2 and FMA, and the
// OS must save the YMM registers on context switches.
var hasAVX2FMA = detectAVX2FMA()

func detectAVX2FMA() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // XMM and YMM state enabled by the OS
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0 // AVX2
}

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

// score6x16 computes, for i < 6 and j < 16, the dot products
// s = sum_l qp[l*6+i]*pp[l*16+j], sets out[i*ldo+j] = rn[j] - 2s and sets
// bit j of mask[i*ldm] when that score is below thr[i].
//
//go:noescape
func score6x16(qp, pp *float32, d int, rn, thr, out *float32, ldo int, mask *uint16, ldm int)

func newSIMDKernel[T Float](query, ref []T, dim int) kernel[T] {
	r, ok := any(ref).([]float32)
	if !ok || !hasAVX2FMA || dim == 0 {
		return nil
	}
	panels := packPanels(r, dim)
	return any(&avxKernel{
		q:      any(query).([]float32),
		panels: panels,
		rnorm:  padNorms(r, dim, len(panels)/dim),
		dim:    dim,
	}).(kernel[T])
}

// avxKernel keeps the references as panels of 16: for each feature l, the
// 16 values r_j[l] are adjacent, so one panel row fills two registers and
// the micro-kernel reads the panel once, sequentially, per 6 queries.
type avxKernel struct {
	q      []float32
	panels []float32
	rnorm  []float32 // padded with +Inf to whole panels
	dim    int
}

// packPanels copies the n x dim row-major matrix r into panels of simdCols
// rows, zero-padding the last one.
func packPanels(r []float32, dim int) []float32 {
	n := len(r) / dim
	np := (n + simdCols - 1) / simdCols
	p := make([]float32, np*simdCols*dim)
	for j := range n {
		base := (j/simdCols)*simdCols*dim + j%simdCols
		for l, v := range r[j*dim : (j+1)*dim] {
			p[base+l*simdCols] = v
		}
	}
	return p
}

func (k *avxKernel) rowAlign() int { return simdRows }

// packQueries interleaves groups of 6 query rows feature by feature, so the
// micro-kernel broadcasts its 6 query values from one cache line.
func (k *avxKernel) packQueries(dst []float32, q0, q1 int) []float32 {
	d := k.dim
	n := q1 - q0
	rows := (n + simdRows - 1) / simdRows * simdRows
	dst = dst[:rows*d]
	for g := 0; g < rows; g += simdRows {
		blk := dst[g*d : (g+simdRows)*d]
		for i := range simdRows {
			if g+i >= n {
				for l := range d {
					blk[l*simdRows+i] = 0
				}
				continue
			}
			src := k.q[(q0+g+i)*d : (q0+g+i+1)*d]
			for l, v := range src {
				blk[l*simdRows+i] = v
			}
		}
	}
	return dst
}

// scores runs the micro-kernel panel by panel; the inner loop over query
// groups reuses each 16 x dim panel while it is in L1.
func (k *avxKernel) scores(out []float32, ldo int, mask []uint16, ldm int, qp, thr []float32, nq, r0, r1 int) {
	d := k.dim
	groups := (nq + simdRows - 1) / simdRows
	for c := r0; c < r1; c += simdCols {
		pp := &k.panels[c*d]
		rn := &k.rnorm[c]
		for g := range groups {
			i := g * simdRows
			score6x16(&qp[i*d], pp, d, rn, &thr[i], &out[i*ldo+c-r0], ldo, &mask[i*ldm+(c-r0)/simdCols], ldm)
		}
	}
}

// padNorms returns sqNorms(x) padded to n entries with +Inf, whose scores
// are never below a threshold: padding columns never become candidates.
func padNorms[T Float](x []T, dim, n int) []T {
	rn := sqNorms(x, dim)
	for len(rn) < n {
		rn = append(rn, T(math.Inf(1)))
	}
	return rn
}
