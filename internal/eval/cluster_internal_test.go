package eval

import (
	"slices"
	"testing"
)

// TestUpdateCentresEmpty: a cluster left without points takes the point
// farthest from its centre, so that k clusters survive.
func TestUpdateCentresEmpty(t *testing.T) {
	x := []float64{0, 1, 2, 10} // four 1-D points, all assigned to cluster 0
	assign := []int{0, 0, 0, 0}
	dist := []float64{9, 4, 1, 49}
	centres := []float64{3, 100, 200}
	updateCentres(x, 1, assign, dist, centres)
	// Cluster 0 moves to the mean 3.25; clusters 1 and 2 take the farthest
	// points, 10 (distance 49) and then 0 (distance 9).
	if want := []float64{3.25, 10, 0}; !slices.Equal(centres, want) {
		t.Errorf("centres %v, want %v", centres, want)
	}
}
