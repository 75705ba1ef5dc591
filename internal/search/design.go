package search

import (
	"math"
	"math/rand/v2"
)

// designCandidates is how many Latin hypercubes latinHypercube draws to
// keep the most spread out one.
const designCandidates = 20

// latinHypercube returns n points in the d-dimensional unit cube such that,
// in every dimension, each of the n equal slices of [0, 1] holds exactly one
// point. Of several such designs it keeps the one whose closest two points
// are farthest apart (maximin), which avoids the diagonal-like designs a
// single draw can give. The same rng state gives the same design.
func latinHypercube(n, d int, rng *rand.Rand) [][]float64 {
	var best [][]float64
	bestDist := -1.0
	for range designCandidates {
		pts := make([][]float64, n)
		for i := range pts {
			pts[i] = make([]float64, d)
		}
		for j := range d {
			for i, slice := range rng.Perm(n) {
				pts[i][j] = (float64(slice) + rng.Float64()) / float64(n)
			}
		}
		if dist := minDistance(pts); dist > bestDist {
			best, bestDist = pts, dist
		}
	}
	return best
}

// minDistance is the smallest squared distance between two of the points,
// +Inf for fewer than two.
func minDistance(pts [][]float64) float64 {
	m := math.Inf(1)
	for i := range pts {
		for k := range i {
			m = math.Min(m, sqDist(pts[i], pts[k]))
		}
	}
	return m
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for j := range a {
		s += (a[j] - b[j]) * (a[j] - b[j])
	}
	return s
}
