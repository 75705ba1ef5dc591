package data

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// forEach calls fn(i) for i in [0, n) on runtime.NumCPU() goroutines.
func forEach(n int, fn func(i int) error) error { return forEachOn(0, n, fn) }

// forEachOn calls fn(i) for i in [0, n) on the given number of goroutines
// (0: runtime.NumCPU()). It returns the error of the lowest failing i, so
// that the message does not depend on scheduling; after a failure the
// remaining items are skipped.
func forEachOn(workers, n int, fn func(i int) error) error {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	workers = min(workers, n)
	errs := make([]error, n)
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errs[i] = err
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
