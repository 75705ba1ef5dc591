package eval_test

import (
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/bench-ml/bench/internal/eval"
)

func TestNMIAMI(t *testing.T) {
	for _, tc := range []struct {
		name          string
		labels, clust []int
		nmi, ami      float64
	}{
		{name: "identical", labels: []int{0, 0, 1, 1, 2, 2}, clust: []int{0, 0, 1, 1, 2, 2}, nmi: 1, ami: 1},
		{name: "renamed", labels: []int{5, 5, 9, 9, 7, 7}, clust: []int{2, 2, 0, 0, 1, 1}, nmi: 1, ami: 1},
		{name: "one cluster each", labels: []int{3, 3, 3}, clust: []int{1, 1, 1}, nmi: 1, ami: 1},
		{name: "all singletons", labels: []int{0, 1, 2, 3}, clust: []int{3, 0, 2, 1}, nmi: 1, ami: 1},
		{name: "uninformative", labels: []int{0, 0, 1, 1}, clust: []int{0, 0, 0, 0}, nmi: 0, ami: 0},
		{name: "2x2", labels: []int{0, 0, 1, 1}, clust: []int{0, 0, 0, 1}, nmi: nmi2x2(), ami: math.NaN()},
	} {
		if got := eval.NMI(tc.labels, tc.clust); math.Abs(got-tc.nmi) > 1e-12 {
			t.Errorf("%s: NMI = %v, want %v", tc.name, got, tc.nmi)
		}
		if got := eval.AMI(tc.labels, tc.clust); !math.IsNaN(tc.ami) && math.Abs(got-tc.ami) > 1e-12 {
			t.Errorf("%s: AMI = %v, want %v", tc.name, got, tc.ami)
		}
		if math.Abs(eval.NMI(tc.labels, tc.clust)-eval.NMI(tc.clust, tc.labels)) > 1e-15 || math.Abs(eval.AMI(tc.labels, tc.clust)-eval.AMI(tc.clust, tc.labels)) > 1e-15 {
			t.Errorf("%s: not symmetric", tc.name)
		}
	}
}

// nmi2x2 works out the NMI of the table [[2 0] [1 1]] from the definition:
// MI = sum p log(p/(pa pb)) over the cells, over the mean of the entropies.
// (The golden files check AMI against scikit-learn.)
func nmi2x2() float64 {
	mi := 0.5*math.Log(0.5/(0.5*0.75)) + 0.25*math.Log(0.25/(0.5*0.75)) + 0.25*math.Log(0.25/(0.5*0.25))
	ha := math.Log(2)
	hb := -(0.75*math.Log(0.75) + 0.25*math.Log(0.25))
	return mi / ((ha + hb) / 2)
}

func TestKMeans(t *testing.T) {
	const dim = 10
	x, y := clustered(4, 600, dim, 12, 0.01)
	got, err := eval.KMeans(x, dim, 12, 1)
	if err != nil {
		t.Fatal(err)
	}
	if nmi := eval.NMI(y, got); nmi < 0.999 {
		t.Errorf("NMI of well separated clusters = %v, want 1", nmi)
	}
	// Same seed, same clusters, whatever the number of cores.
	prev := runtime.GOMAXPROCS(1)
	again, err := eval.KMeans(x, dim, 12, 1)
	runtime.GOMAXPROCS(prev)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, again) {
		t.Error("k-means with the same seed gave different clusters")
	}
	if _, err := eval.KMeans(x[:3*dim], dim, 4, 0); err == nil {
		t.Error("4 clusters of 3 points: no error")
	}
}
