package search

import "math"

// compass maximises f over the box [lo, hi] from x0 by compass search: try a
// step up and down each coordinate, keep any improvement, halve the steps
// when none helps. It needs no gradient, is deterministic and, for the few
// dimensions here, converges to a local maximum in a few hundred calls.
// The steps start at step times the width of the box.
func compass(f func([]float64) float64, x0, lo, hi []float64, step float64, maxEvals int) ([]float64, float64) {
	x := append([]float64(nil), x0...)
	fx := f(x)
	steps := make([]float64, len(x))
	for j := range steps {
		steps[j] = step * (hi[j] - lo[j])
	}
	try := make([]float64, len(x))
	for evals := 1; evals < maxEvals; {
		improved := false
		for j := range x {
			for _, sign := range []float64{1, -1} {
				copy(try, x)
				try[j] = math.Min(math.Max(x[j]+sign*steps[j], lo[j]), hi[j])
				if try[j] == x[j] {
					continue
				}
				ft := f(try)
				evals++
				if ft > fx {
					copy(x, try)
					fx, improved = ft, true
					break
				}
			}
		}
		if improved {
			continue
		}
		small := true
		for j := range steps {
			steps[j] /= 2
			small = small && steps[j] <= 1e-4*(hi[j]-lo[j])
		}
		if small {
			break
		}
	}
	return x, fx
}
