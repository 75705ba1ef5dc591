//go:build !amd64

package gemm

func kernels() []microKernel { return nil }
