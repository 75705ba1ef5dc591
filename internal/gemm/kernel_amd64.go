package gemm

import "golang.org/x/sys/cpu"

// kernel6x16 is the portable kernel at 6x16 in AVX2+FMA: the tile lives in
// twelve YMM registers while it runs over k.
//
//go:noescape
func kernel6x16(k int, a, b, c *float32, ldc int, add bool)

// kernel8x32 is the portable kernel at 8x32 in AVX-512: the tile lives in
// sixteen ZMM registers, the column of A broadcast into eight more.
//
//go:noescape
func kernel8x32(k int, a, b, c *float32, ldc int, add bool)

// kernels lists the assembly micro-kernels this CPU runs, best first;
// x/sys/cpu also checks that the OS saves the vector registers.
func kernels() []microKernel {
	var ks []microKernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, asmKernel("avx512", 8, 32, kernel8x32))
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, asmKernel("avx2", 6, 16, kernel6x16))
	}
	return ks
}

// asmKernel wraps an assembly kernel, checking once the bounds it reads and
// writes.
func asmKernel(name string, mr, nr int, f func(k int, a, b, c *float32, ldc int, add bool)) microKernel {
	return microKernel{name: name, mr: mr, nr: nr, fn: func(k int, a, b, c []float32, ldc int, add bool) {
		_, _, _ = a[k*mr-1], b[k*nr-1], c[(mr-1)*ldc+nr-1]
		f(k, &a[0], &b[0], &c[0], ldc, add)
	}}
}
