package search

import "math/rand/v2"

// sliceSweep updates every coordinate of x in turn by univariate slice
// sampling (Neal 2003, "Slice sampling", with stepping out and shrinkage):
// a level under the density at x is drawn, an interval of width w around
// x is stepped out until both ends are below it, and points drawn
// uniformly from the interval, shrunk towards x at each rejection, until
// one is above it. The chain it makes leaves the density exp(logp)
// invariant, needs no step size tuned to it (w only sets the cost), and a
// logp of -Inf outside a box keeps it inside. x is updated in place; lx is
// logp(x), and the new logp(x) is returned.
func sliceSweep(logp func([]float64) float64, x []float64, lx float64, w float64, rng *rand.Rand) float64 {
	// maxSteps bounds the stepping out, at a cost of a slightly smaller
	// interval where the density is very flat.
	const maxSteps = 10
	for j := range x {
		x0 := x[j]
		level := lx - rng.ExpFloat64() // log(u * p(x)) for u uniform in (0, 1)
		at := func(v float64) float64 {
			x[j] = v
			return logp(x)
		}
		left := x0 - w*rng.Float64()
		right := left + w
		for range maxSteps {
			if at(left) <= level {
				break
			}
			left -= w
		}
		for range maxSteps {
			if at(right) <= level {
				break
			}
			right += w
		}
		for {
			v := left + (right-left)*rng.Float64()
			if lv := at(v); lv > level {
				lx = lv
				break
			}
			if v < x0 {
				left = v
			} else {
				right = v
			}
			if right-left < 1e-12 {
				// Only floating point can shrink the interval to x0,
				// whose density is above the level: stay there.
				x[j] = x0
				lx = logp(x)
				break
			}
		}
	}
	return lx
}
