package report

import (
	"maps"
	"slices"
)

// Curve is one recorded quantity against iterations or epochs.
type Curve struct{ X, Y []float64 }

// Len is the number of points.
func (c Curve) Len() int { return len(c.X) }

// XY is point i, for gonum/plot.
func (c Curve) XY(i int) (x, y float64) { return c.X[i], c.Y[i] }

// Band is the mean of several curves (the folds of an experiment) at each
// x any of them reached, with the lowest and highest of them there.
type Band struct{ Mean, Low, High Curve }

// band averages the curves point by point over the curves that have x: a
// fold stopped early by patience leaves the later epochs to the others.
func band(curves []Curve) Band {
	sum, lo, hi, n := map[float64]float64{}, map[float64]float64{}, map[float64]float64{}, map[float64]int{}
	for _, c := range curves {
		for i, x := range c.X {
			y := c.Y[i]
			if n[x] == 0 || y < lo[x] {
				lo[x] = y
			}
			if n[x] == 0 || y > hi[x] {
				hi[x] = y
			}
			sum[x] += y
			n[x]++
		}
	}
	var b Band
	for _, x := range slices.Sorted(maps.Keys(n)) {
		b.Mean.X, b.Mean.Y = append(b.Mean.X, x), append(b.Mean.Y, sum[x]/float64(n[x]))
		b.Low.X, b.Low.Y = append(b.Low.X, x), append(b.Low.Y, lo[x])
		b.High.X, b.High.Y = append(b.High.X, x), append(b.High.Y, hi[x])
	}
	return b
}

// smooth is the trailing moving average of c's values over window points
// (fewer at the start), which shows a noisy per-iteration loss's trend
// without shifting it ahead of the data.
func smooth(c Curve, window int) Curve {
	out := Curve{X: c.X, Y: make([]float64, len(c.Y))}
	var sum float64
	for i, v := range c.Y {
		sum += v
		if i >= window {
			sum -= c.Y[i-window]
		}
		out.Y[i] = sum / float64(min(i+1, window))
	}
	return out
}

// smoothingWindow is the moving-average window for a curve of n points:
// a tenth of it, so the smoothed curve shows about ten independent steps
// whatever the run length.
func smoothingWindow(n int) int { return max(1, n/10) }
