package eval_test

import (
	"math/rand/v2"

	"github.com/bench-ml/bench/internal/eval"
)

// clustered draws n points in dim dimensions around classes random unit
// centres, Gaussian noise of standard deviation noise per coordinate; each
// point's class is drawn uniformly, so class sizes vary as in real data.
func clustered(seed uint64, n, dim, classes int, noise float64) ([]float64, []int) {
	return clusteredOf[float64](seed, n, dim, classes, noise)
}

// clusteredOf is clustered in T, so that large sets are never held twice.
func clusteredOf[T eval.Float](seed uint64, n, dim, classes int, noise float64) ([]T, []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	centres := make([]float64, classes*dim)
	for i := range centres {
		centres[i] = rng.NormFloat64() / 4
	}
	x := make([]T, n*dim)
	labels := make([]int, n)
	for i := range n {
		c := rng.IntN(classes)
		labels[i] = c
		for l := range dim {
			x[i*dim+l] = T(centres[c*dim+l] + noise*rng.NormFloat64())
		}
	}
	return x, labels
}

func to32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func to64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
