package parallel

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// TestForCallsEachOnce: every index is run exactly once, whatever the
// number of pieces against the number of goroutines.
func TestForCallsEachOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	for _, n := range []int{0, 1, 2, 3, 4, 100} {
		counts := make([]atomic.Int32, n)
		For(n, func(i int) { counts[i].Add(1) })
		for i := range counts {
			if c := counts[i].Load(); c != 1 {
				t.Errorf("n %d: f(%d) ran %d times; want 1", n, i, c)
			}
		}
	}
}
