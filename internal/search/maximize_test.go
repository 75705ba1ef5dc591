package search

import (
	"math"
	"testing"
)

func TestCompass(t *testing.T) {
	f := func(x []float64) float64 { return -(x[0]-0.3)*(x[0]-0.3) - 2*(x[1]-0.7)*(x[1]-0.7) }
	x, fx := compass(f, []float64{0.9, 0.1}, []float64{0, 0}, []float64{1, 1}, 0.25, 1000)
	if math.Abs(x[0]-0.3) > 1e-3 || math.Abs(x[1]-0.7) > 1e-3 || fx != f(x) {
		t.Errorf("compass found %v (f %v), want [0.3 0.7]", x, fx)
	}
	// A maximum outside the box ends at its edge.
	x, _ = compass(f, []float64{0.1, 0.1}, []float64{0, 0}, []float64{0.2, 0.5}, 0.25, 1000)
	if x[0] != 0.2 || x[1] != 0.5 {
		t.Errorf("compass in a box found %v, want the corner [0.2 0.5]", x)
	}
	// A box of zero width ends at once.
	if x, _ := compass(f, []float64{0.5, 0.5}, []float64{0.5, 0.5}, []float64{0.5, 0.5}, 0.25, 1000); x[0] != 0.5 || x[1] != 0.5 {
		t.Errorf("compass in a point moved to %v", x)
	}
}
