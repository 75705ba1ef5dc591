package search

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// Every dimension of a Latin hypercube has one point in each of its n
// slices, whatever n and d.
func TestLatinHypercubeCoversTheCube(t *testing.T) {
	for _, c := range []struct{ n, d int }{{1, 1}, {5, 1}, {5, 3}, {12, 2}} {
		pts := latinHypercube(c.n, c.d, rand.New(rand.NewPCG(7, 0)))
		if len(pts) != c.n {
			t.Fatalf("n=%d d=%d: %d points", c.n, c.d, len(pts))
		}
		for j := range c.d {
			seen := make([]bool, c.n)
			for _, p := range pts {
				if len(p) != c.d || p[j] < 0 || p[j] >= 1 {
					t.Fatalf("n=%d d=%d: point %v outside the unit cube", c.n, c.d, p)
				}
				seen[int(p[j]*float64(c.n))] = true
			}
			for s, ok := range seen {
				if !ok {
					t.Errorf("n=%d d=%d: dimension %d has no point in slice %d: %v", c.n, c.d, j, s, pts)
				}
			}
		}
	}
}

func TestLatinHypercubeIsSeeded(t *testing.T) {
	design := func(seed uint64) [][]float64 { return latinHypercube(5, 2, rand.New(rand.NewPCG(seed, 0))) }
	if !reflect.DeepEqual(design(1), design(1)) {
		t.Error("the same seed gave two designs")
	}
	if reflect.DeepEqual(design(1), design(2)) {
		t.Error("two seeds gave the same design")
	}
}

// Keeping the most spread out of several hypercubes gives a design whose
// closest points are farther apart than a typical single draw's.
func TestLatinHypercubeMaximin(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 0))
	got := minDistance(latinHypercube(8, 2, rng))
	sum := 0.0
	const draws = 200
	for range draws {
		// a single hypercube, as latinHypercube draws them
		pts := make([][]float64, 8)
		for i := range pts {
			pts[i] = make([]float64, 2)
		}
		for j := range 2 {
			for i, s := range rng.Perm(8) {
				pts[i][j] = (float64(s) + rng.Float64()) / 8
			}
		}
		sum += minDistance(pts)
	}
	if mean := sum / draws; got <= mean {
		t.Errorf("closest squared distance %v, no better than a single draw's mean %v", got, mean)
	}
}
