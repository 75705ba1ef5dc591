package gemm

import "golang.org/x/sys/cpu"

// hasAVX2FMA selects the assembly micro-kernel; x/sys/cpu also checks that
// the OS saves the YMM registers.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel6x16 is kernelGo in AVX2+FMA: the 6x16 tile lives in twelve YMM
// registers while it runs over k.
//
//go:noescape
func kernel6x16(k int, a, b, c *float32, ldc int)

func kernel(k int, a, b, c []float32, ldc int) {
	if k == 0 {
		return
	}
	if !hasAVX2FMA {
		kernelGo(k, a, b, c, ldc)
		return
	}
	// The bounds the assembly reads and writes, checked once here.
	_, _, _ = a[k*mr-1], b[k*nr-1], c[(mr-1)*ldc+nr-1]
	kernel6x16(k, &a[0], &b[0], &c[0], ldc)
}
