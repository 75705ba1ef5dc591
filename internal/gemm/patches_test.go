package gemm

import (
	"fmt"
	"math/rand"
	"testing"
)

// explicit writes the patches as a matrix (weights x positions), the plain
// im2col the products must agree with.
func explicit(p Patches) []float32 {
	n := p.OH * p.OW
	cols := make([]float32, p.Rows()*n)
	for c := range p.In {
		for ki := range p.Kernel {
			for kj := range p.Kernel {
				l := (c*p.Kernel+ki)*p.Kernel + kj
				for oi := range p.OH {
					for oj := range p.OW {
						i, j := oi*p.Stride-p.Pad+ki, oj*p.Stride-p.Pad+kj
						if i >= 0 && i < p.H && j >= 0 && j < p.W {
							cols[l*n+oi*p.OW+oj] = p.X[(c*p.H+i)*p.W+j]
						}
					}
				}
			}
		}
	}
	return cols
}

// The products with patches equal those with the explicit im2col matrix,
// bit for bit, for both the forward and the weight gradient.
func TestPatches(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, g := range [][5]int{ // in, h, w, kernel, stride
		{3, 32, 32, 3, 1}, {2, 9, 10, 3, 1}, {4, 8, 8, 3, 2}, {3, 7, 5, 5, 1}, {5, 6, 6, 1, 2}, {2, 17, 3, 3, 2},
	} {
		in, h, w, kernel, stride := g[0], g[1], g[2], g[3], g[4]
		pad := kernel / 2
		p := Patches{X: random(rng, in*h*w), In: in, H: h, W: w, Kernel: kernel, Stride: stride, Pad: pad,
			OH: (h+2*pad-kernel)/stride + 1, OW: (w+2*pad-kernel)/stride + 1}
		cols, k, n := explicit(p), p.Rows(), p.OH*p.OW
		const out = 7
		t.Run(fmt.Sprint(g), func(t *testing.T) {
			weight := Matrix{Data: random(rng, out*k), Stride: k}
			var a PackedA
			a.Pack(out, k, weight)
			want, got := make([]float32, out*n), make([]float32, out*n)
			SgemmPacked(&a, n, Matrix{Data: cols, Stride: n}, 0, want, n)
			SgemmPatches(&a, &p, 0, got, n)
			equal(t, "forward", got, want)

			dy := Matrix{Data: random(rng, out*n), Stride: n}
			want, got = random(rng, out*k), make([]float32, out*k)
			copy(got, want)
			Sgemm(out, k, n, dy, Matrix{Data: cols, Stride: n, Trans: true}, 1, want, k)
			pt := p
			pt.Trans = true
			SgemmByPatches(out, dy, &pt, 1, got, k)
			equal(t, "weight gradient", got, want)
		})
	}
}

func equal(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: element %d = %g; want %g", what, i, got[i], want[i])
		}
	}
}
