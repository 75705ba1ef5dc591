package gemm

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// naive is C = A B + beta C in float64, the reference.
func naive(m, n, k int, a, b Matrix, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s float64
			for l := range k {
				s += float64(a.at(i, l)) * float64(b.at(l, j))
			}
			if beta != 0 {
				s += float64(beta) * float64(c[i*ldc+j])
			}
			out[i*n+j] = s
		}
	}
	return out
}

func random(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// matrix is a random rows x cols matrix stored transposed or not, with a
// stride wider than the row so that a read past it would show.
func matrix(rng *rand.Rand, rows, cols int, trans bool) Matrix {
	if trans {
		rows, cols = cols, rows
	}
	stride := cols + 3
	return Matrix{Data: random(rng, rows*stride), Stride: stride, Trans: trans}
}

func testSgemm(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	sizes := [][3]int{{1, 1, 1}, {6, 16, 4}, {7, 17, 5}, {5, 15, 3}, {32, 1024, 27}, {64, 256, 288}, {13, 40, 300}, {100, 33, 600}, {128, 64, 257}, {7, 4200, 20}, {3, 2, 0}}
	for _, s := range sizes {
		m, n, k := s[0], s[1], s[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				for _, beta := range []float32{0, 1, 0.5} {
					t.Run(fmt.Sprintf("%dx%dx%d/%v%v/%g", m, n, k, ta, tb, beta), func(t *testing.T) {
						a, b := matrix(rng, m, k, ta), matrix(rng, k, n, tb)
						ldc := n + 2
						c := random(rng, m*ldc)
						if beta == 0 {
							c[0] = float32(math.NaN()) // ignored with beta 0
						}
						want := naive(m, n, k, a, b, beta, c, ldc)
						guard := append([]float32(nil), c...)
						Sgemm(m, n, k, a, b, beta, c, ldc)
						for i := range m {
							for j := range ldc {
								got := c[i*ldc+j]
								if j >= n {
									if got != guard[i*ldc+j] {
										t.Fatalf("(%d,%d) past the row changed", i, j)
									}
									continue
								}
								if w := want[i*n+j]; math.Abs(float64(got)-w) > 1e-4*math.Sqrt(float64(k+1))*(1+math.Abs(w)) {
									t.Fatalf("(%d,%d) = %g; want %g", i, j, got, w)
								}
							}
						}
					})
				}
			}
		}
	}
}

// TestSgemmEveryKernel runs the product with each micro-kernel this CPU
// has and with the portable one, which machines without them use, at each
// tile size.
func TestSgemmEveryKernel(t *testing.T) {
	defer func(k microKernel) { kern = k }(kern)
	for _, k := range append(kernels(), portable(6, 16), portable(8, 32)) {
		t.Run(fmt.Sprintf("%s_%dx%d", k.name, k.mr, k.nr), func(t *testing.T) {
			kern = k
			testSgemm(t)
		})
	}
}

// TestKernelsAgree checks that the assembly and the portable micro-kernels
// give the same tile, added or set, up to the rounding of fused
// multiply-adds.
func TestKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, asm := range kernels() {
		mr, nr, ldc := asm.mr, asm.nr, asm.nr+4
		for _, k := range []int{1, 3, 4, 5, 257} {
			for _, add := range []bool{false, true} {
				a, b := random(rng, k*mr+1), random(rng, k*nr+1)
				c1 := random(rng, mr*ldc)
				c2 := append([]float32(nil), c1...)
				asm.fn(k, a, b, c1, ldc, add)
				portable(mr, nr).fn(k, a, b, c2, ldc, add)
				for i := range c1 {
					if math.Abs(float64(c1[i]-c2[i])) > 1e-4*float64(k+1) {
						t.Fatalf("%s k=%d add=%v: element %d: %g vs %g", asm.name, k, add, i, c1[i], c2[i])
					}
				}
			}
		}
	}
}

func TestSgemmAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	a, b := matrix(rng, 64, 288, false), matrix(rng, 288, 256, false)
	c := make([]float32, 64*256)
	Sgemm(64, 256, 288, a, b, 0, c, 256)
	if n := testing.AllocsPerRun(10, func() { Sgemm(64, 256, 288, a, b, 0, c, 256) }); n != 0 {
		t.Errorf("%v allocations per call; want 0", n)
	}
}

// BenchmarkSgemm reports GFLOP/s on one core for the shapes of the
// reference ConvNet's convolutions and a square product.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range [][3]int{{32, 1024, 27}, {64, 256, 288}, {128, 64, 576}, {288, 256, 64}, {384, 384, 384}} {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			rng := rand.New(rand.NewSource(1))
			a, bm := matrix(rng, m, k, false), matrix(rng, k, n, false)
			c := make([]float32, m*n)
			for b.Loop() {
				Sgemm(m, n, k, a, bm, 0, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkKernel(b *testing.B) {
	for _, k := range append(kernels(), portable(6, 16)) {
		b.Run(k.name, func(b *testing.B) {
			rng := rand.New(rand.NewSource(1))
			const depth = 256
			a, bp, c := random(rng, depth*k.mr), random(rng, depth*k.nr), make([]float32, k.mr*k.nr)
			for b.Loop() {
				k.fn(depth, a, bp, c, k.nr, true)
			}
			b.ReportMetric(2*float64(k.mr*k.nr*depth*b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// SgemmPacked gives what Sgemm gives, bit for bit.
func TestSgemmPacked(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	var p PackedA
	for _, s := range [][3]int{{32, 1024, 27}, {13, 40, 300}, {100, 33, 600}, {7, 5, 3}, {200, 17, 530}} {
		m, n, k := s[0], s[1], s[2]
		for _, ta := range []bool{false, true} {
			a, b := matrix(rng, m, k, ta), matrix(rng, k, n, false)
			want, got := make([]float32, m*n), make([]float32, m*n)
			Sgemm(m, n, k, a, b, 0, want, n)
			p.Pack(m, k, a)
			SgemmPacked(&p, n, b, 0, got, n)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%v trans %v: element %d: %g; Sgemm %g", s, ta, i, got[i], want[i])
				}
			}
		}
	}
}
