package gemm

// Patches is the im2col matrix of one image for a 2-D convolution: one row
// per weight (channel, kernel row, kernel column), one column per output
// position, zero where the window hangs over the padding. The products read
// it from the image while they pack it: it is never stored. Trans stands
// for its transpose (positions x weights), the right operand of the weight
// gradient.
type Patches struct {
	X                   []float32 // one image, In x H x W
	In, H, W            int
	OH, OW              int
	Kernel, Stride, Pad int
	Trans               bool
}

// Rows is the number of weights, the rows of the matrix (columns if Trans).
func (p *Patches) Rows() int { return p.In * p.Kernel * p.Kernel }

// SgemmPatches is SgemmPacked with the patches of an image as B: B is
// Rows() x OH*OW, or its transpose with Trans.
func SgemmPatches(a *PackedA, b *Patches, beta float32, c []float32, ldc int) {
	n := b.OH * b.OW
	if b.Trans {
		n = b.Rows()
	}
	ws := workspaces.Get().(*workspace)
	defer workspaces.Put(ws)
	run(a.m, n, a.k, a.block, func(dst []float32, l0, kb int) { b.pack(dst, l0, kb, n) }, beta, c, ldc, ws)
}

// SgemmByPatches is Sgemm with the patches of an image as B, which Trans
// must be set for: the weight gradient dy (m x positions) times the patches transposed.
func SgemmByPatches(m int, a Matrix, b *Patches, beta float32, c []float32, ldc int) {
	ws := workspaces.Get().(*workspace)
	defer workspaces.Put(ws)
	ap := ws.grow(&ws.a, mc*kc)
	n := b.Rows()
	run(m, n, b.OH*b.OW, func(i0, mb, l0, kb int) []float32 {
		packA(ap, a, i0, mb, l0, kb)
		return ap
	}, func(dst []float32, l0, kb int) { b.pack(dst, l0, kb, n) }, beta, c, ldc, ws)
}

// pack is packB for the patches: rows l0..l0+kb of the matrix (of weights,
// or of positions with Trans) as panels of nr columns.
func (p *Patches) pack(dst []float32, l0, kb, n int) {
	for j0 := 0; j0 < n; j0 += nr {
		panel := dst[j0*kb : (j0+nr)*kb]
		cols := min(nr, n-j0)
		if !p.Trans {
			for l := range kb {
				p.positions(panel[l*nr:(l+1)*nr], l0+l, j0, cols)
			}
			continue
		}
		for j := range nr {
			if j >= cols {
				for l := range kb {
					panel[l*nr+j] = 0
				}
				continue
			}
			p.strided(panel[j:], nr, j0+j, l0, kb)
		}
	}
}

// positions writes the values of weight row l at output positions
// pos..pos+cols into dst (of length nr), zero past cols.
func (p *Patches) positions(dst []float32, l, pos, cols int) {
	p.strided(dst, 1, l, pos, cols)
	clear(dst[cols:])
}

// strided writes the values of weight row l at output positions
// pos..pos+count to dst[0], dst[step], dst[2*step], ...
func (p *Patches) strided(dst []float32, step, l, pos, count int) {
	ch, kk := l/(p.Kernel*p.Kernel), l%(p.Kernel*p.Kernel)
	ki, kj := kk/p.Kernel, kk%p.Kernel
	plane := p.X[ch*p.H*p.W : (ch+1)*p.H*p.W]
	// The output columns whose input column is inside the image.
	lo := max(0, (p.Pad-kj+p.Stride-1)/p.Stride)
	hi := max(lo, min(p.OW, (p.W-1+p.Pad-kj)/p.Stride+1))
	oi, oj := pos/p.OW, pos%p.OW
	d := 0
	for count > 0 {
		run := min(count, p.OW-oj)
		i := oi*p.Stride - p.Pad + ki
		if i < 0 || i >= p.H {
			for t := range run {
				dst[d+t*step] = 0
			}
		} else {
			row := plane[i*p.W : (i+1)*p.W]
			for t := range run {
				v := float32(0)
				if o := oj + t; o >= lo && o < hi {
					v = row[o*p.Stride-p.Pad+kj]
				}
				dst[d+t*step] = v
			}
		}
		d += run * step
		count -= run
		oi, oj = oi+1, 0
	}
}
