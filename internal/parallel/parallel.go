// Package parallel runs independent pieces of work on the cores: the
// weight packing of internal/gemm, the gradient copies of internal/nn and
// the optimiser updates of internal/optim, whose results do not depend on
// which goroutine computes them.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// For calls f(i) for every i in 0..n-1 and waits for them: up to GOMAXPROCS
// goroutines (the caller's included) each take the next i until none is
// left, so that pieces of uneven size still keep every core busy. f(i) must
// not depend on another f(j) running before or after it.
func For(n int, f func(i int)) {
	var next atomic.Int64
	work := func() {
		for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
			f(i)
		}
	}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}
