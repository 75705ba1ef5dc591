// Package gemm is a float32 matrix product, C = A B + beta C, for the
// convolutions and linear layers of internal/nn and the kNN of internal/eval.
// It packs A into panels of mr rows and B into panels of nr columns, each
// laid out so that the micro-kernel reads them sequentially, and blocks K so
// that a B panel stays in L1 and a block of A panels in L2 while the
// micro-kernel (AVX2+FMA Go assembly where the CPU has it) runs over them.
//
// Sgemm is serial: its callers split their work over cores in fixed chunks,
// and every element of C is summed in the same order whatever the chunking,
// so results do not depend on the number of threads. Only PackedA.Pack, a
// copy, uses all the cores itself.
package gemm

import "github.com/bench-ml/bench/internal/parallel"

// The cache blocks, multiples of every kernel's tile.
const (
	kc = 256  // depth of a block: a B panel (kc x nr) is 16-32 KB, in L1
	mc = 96   // rows of A per block: mc x kc is 96 KB, in L2
	nc = 2048 // columns of B per block: kc x nc is 2 MB, in L3
)

// microKernel multiplies a packed A panel (mr rows, k columns) by a packed
// B panel (k rows, nr columns) and adds the product to the mr x nr tile at
// c (row stride ldc), or sets the tile to it when add is false. Every
// element is summed over l in order, with fused multiply-adds in assembly,
// so the tile's size does not change a result.
type microKernel struct {
	name   string
	mr, nr int
	fn     func(k int, a, b, c []float32, ldc int, add bool)
}

// kern is the micro-kernel in use: the best assembly one this CPU runs, or
// the portable one at AVX2's tile.
var kern = func() microKernel {
	if ks := kernels(); len(ks) > 0 {
		return ks[0]
	}
	return portable(6, 16)
}()

// maxTile bounds mr*nr, for the buffer of partial tiles.
const maxTile = 8 * 32

// Matrix is a row-major matrix as stored: element (i, j) of the matrix it
// stands for is Data[i*Stride+j], or Data[j*Stride+i] when Trans is set.
type Matrix struct {
	Data   []float32
	Stride int
	Trans  bool
}

// at returns element (i, j) of the matrix m stands for.
func (m Matrix) at(i, j int) float32 {
	if m.Trans {
		return m.Data[j*m.Stride+i]
	}
	return m.Data[i*m.Stride+j]
}

// Sgemm sets C (m x n, row stride ldc) to A B + beta C, with A m x k and B
// k x n. With beta 0, C's previous contents are ignored (NaN included).
func Sgemm(m, n, k int, a, b Matrix, beta float32, c []float32, ldc int) {
	ws := getWorkspace()
	defer putWorkspace(ws)
	run(m, n, k, func(i0, mb, l0, kb int) []float32 {
		packA(ws.a, a, i0, mb, l0, kb)
		return ws.a
	}, func(dst []float32, l0, kb, j0, nb int) { packB(dst, b, l0, kb, j0, nb) }, beta, c, ldc, ws)
}

// PackedA is a left-hand matrix packed once for several products, such as
// a convolution's weight, multiplied with every image of a batch.
type PackedA struct {
	m, k, mpad int
	data       []float32
}

// Pack packs A (m x k), reusing p's memory. The blocks of mc rows by kc
// columns are packed concurrently: a convolution's weight is packed once
// per product of a batch, which is otherwise a serial part of a training
// step. Packing only moves values, so the result is the same on any number
// of cores.
func (p *PackedA) Pack(m, k int, a Matrix) {
	mr := kern.mr
	p.m, p.k, p.mpad = m, k, (m+mr-1)/mr*mr
	if cap(p.data) < p.mpad*k {
		p.data = make([]float32, p.mpad*k)
	}
	p.data = p.data[:p.mpad*k]
	rowBlocks := (m + mc - 1) / mc
	parallel.For(rowBlocks*((k+kc-1)/kc), func(b int) {
		i0, l0 := b%rowBlocks*mc, b/rowBlocks*kc
		kb := min(kc, k-l0)
		packA(p.block(i0, 0, l0, kb), a, i0, min(mc, m-i0), l0, kb)
	})
}

// SgemmPacked is Sgemm with the A packed in p. It only reads p, so that
// several goroutines may share it.
func SgemmPacked(p *PackedA, n int, b Matrix, beta float32, c []float32, ldc int) {
	ws := getWorkspace()
	defer putWorkspace(ws)
	run(p.m, n, p.k, p.block, func(dst []float32, l0, kb, j0, nb int) { packB(dst, b, l0, kb, j0, nb) }, beta, c, ldc, ws)
}

func (p *PackedA) block(i0, _, l0, kb int) []float32 { return p.data[l0*p.mpad+i0*kb:] }

// run is the blocked product: blockA returns the packed panels of rows
// i0..i0+mb, columns l0..l0+kb of A, and blockB packs rows l0..l0+kb,
// columns j0..j0+nb of B into dst (as packB does).
func run(m, n, k int, blockA func(i0, mb, l0, kb int) []float32, blockB func(dst []float32, l0, kb, j0, nb int), beta float32, c []float32, ldc int, ws *workspace) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || (beta != 0 && beta != 1) {
		scale(m, n, beta, c, ldc)
		beta = 1
	}
	if k == 0 {
		return
	}
	mr, nr := kern.mr, kern.nr
	for j0 := 0; j0 < n; j0 += nc {
		nb := min(nc, n-j0)
		for l0 := 0; l0 < k; l0 += kc {
			kb := min(kc, k-l0)
			add := l0 > 0 || beta == 1 // beta 0: the first block sets C
			blockB(ws.b, l0, kb, j0, nb)
			for i0 := 0; i0 < m; i0 += mc {
				mb := min(mc, m-i0)
				ap := blockA(i0, mb, l0, kb)
				for j := 0; j < nb; j += nr {
					panelB := ws.b[j*kb:]
					for i := 0; i < mb; i += mr {
						tile(kb, ap[i*kb:], panelB, c[(i0+i)*ldc+j0+j:], ldc, min(mr, mb-i), min(nr, nb-j), add, ws.tile)
					}
				}
			}
		}
	}
}

// tile adds (or sets, as the kernel) the product of one A panel and one B
// panel to the rows x cols corner of the tile at c; a partial tile goes
// through buf (maxTile values) so that the kernel never writes past C.
func tile(k int, a, b, c []float32, ldc, rows, cols int, add bool, buf []float32) {
	mr, nr := kern.mr, kern.nr
	if rows == mr && cols == nr {
		kern.fn(k, a, b, c, ldc, add)
		return
	}
	t := buf // not an array on the stack: passed to a func value, it would escape
	kern.fn(k, a, b, t, nr, false)
	store(c, ldc, t, nr, rows, cols, add)
}

// store adds (or copies) the rows x cols corner of the tile t, whose rows
// are tstride apart, to C.
func store(c []float32, ldc int, t []float32, tstride, rows, cols int, add bool) {
	for i := range rows {
		row := c[i*ldc : i*ldc+cols]
		if !add {
			copy(row, t[i*tstride:])
			continue
		}
		for j := range row {
			row[j] += t[i*tstride+j]
		}
	}
}

// scale multiplies C by beta; beta 0 clears it.
func scale(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// packA lays out rows i0..i0+mb, columns l0..l0+kb of A as panels of mr
// rows: within a panel, the mr values of column l are adjacent. Rows past
// the matrix are zero.
func packA(dst []float32, a Matrix, i0, mb, l0, kb int) {
	mr := kern.mr
	for p := 0; p < mb; p += mr {
		panel := dst[p*kb : (p+mr)*kb]
		rows := min(mr, mb-p)
		if !a.Trans {
			for i := range rows {
				src := a.Data[(i0+p+i)*a.Stride+l0:][:kb]
				for l, v := range src {
					panel[l*mr+i] = v
				}
			}
		} else {
			for l := range kb {
				src := a.Data[(l0+l)*a.Stride+i0+p:][:rows]
				copy(panel[l*mr:], src)
			}
		}
		for i := rows; i < mr; i++ {
			for l := range kb {
				panel[l*mr+i] = 0
			}
		}
	}
}

// packB lays out rows l0..l0+kb, columns j0..j0+nb of B as panels of nr
// columns: within a panel, the nr values of row l are adjacent. Columns past
// nb are zero.
func packB(dst []float32, b Matrix, l0, kb, j0, nb int) {
	nr := kern.nr
	for j := 0; j < nb; j += nr {
		panel := dst[j*kb : (j+nr)*kb]
		cols := min(nr, nb-j)
		if !b.Trans {
			for l := range kb {
				row := panel[l*nr : (l+1)*nr]
				copy(row, b.Data[(l0+l)*b.Stride+j0+j:][:cols])
				clear(row[cols:])
			}
		} else {
			for jj := range cols {
				src := b.Data[(j0+j+jj)*b.Stride+l0:][:kb]
				for l, v := range src {
					panel[l*nr+jj] = v
				}
			}
			for l := range kb {
				clear(panel[l*nr+cols : (l+1)*nr])
			}
		}
	}
}

// workspace holds one call's packed panels, at their largest size. A free
// list keeps them between calls, so that a training step allocates none; a
// sync.Pool would drop them at every garbage collection.
type workspace struct{ a, b, tile []float32 }

var workspaces = make(chan *workspace, 64)

func getWorkspace() *workspace {
	select {
	case w := <-workspaces:
		return w
	default:
		return &workspace{a: make([]float32, mc*kc), b: make([]float32, kc*nc), tile: make([]float32, maxTile)}
	}
}

func putWorkspace(w *workspace) {
	select {
	case workspaces <- w:
	default:
	}
}

// portable is the micro-kernel in plain Go at an mr x nr tile: machines
// without the assembly ones use it, and the tests check those against it.
func portable(mr, nr int) microKernel {
	return microKernel{name: "go", mr: mr, nr: nr, fn: func(k int, a, b, c []float32, ldc int, add bool) {
		var acc [maxTile]float32
		for l := range k {
			av := a[l*mr : l*mr+mr]
			bv := b[l*nr : l*nr+nr]
			for i, x := range av {
				row := acc[i*nr : i*nr+nr]
				for j, y := range bv {
					row[j] += x * y
				}
			}
		}
		store(c, ldc, acc[:], nr, mr, nr, add)
	}}
}
