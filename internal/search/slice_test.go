package search

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sampleMoments runs n sweeps of the slice sampler on a 1-D density from
// x0 and returns the mean and variance of the chain, and its extremes.
func sampleMoments(logp func([]float64) float64, x0 float64, n int) (mean, variance, lo, hi float64) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := []float64{x0}
	lx := logp(x)
	lo, hi = math.Inf(1), math.Inf(-1)
	sum, sum2 := 0.0, 0.0
	for range n {
		lx = sliceSweep(logp, x, lx, 1, rng)
		sum, sum2 = sum+x[0], sum2+x[0]*x[0]
		lo, hi = math.Min(lo, x[0]), math.Max(hi, x[0])
	}
	mean = sum / float64(n)
	return mean, sum2/float64(n) - mean*mean, lo, hi
}

// On a normal density N(2, 0.5^2) from far away, the chain's mean and
// variance are the density's (to a few standard errors of 20,000 slightly
// correlated draws).
func TestSliceSweepNormal(t *testing.T) {
	logp := func(x []float64) float64 { z := (x[0] - 2) / 0.5; return -z * z / 2 }
	mean, variance, _, _ := sampleMoments(logp, -3, 20000)
	if math.Abs(mean-2) > 0.03 || math.Abs(variance-0.25) > 0.015 {
		t.Errorf("mean %v variance %v, want 2 and 0.25", mean, variance)
	}
}

// A density of -Inf outside a box keeps the chain inside it: on the
// triangle density 2x on [0, 1], mean 2/3 and variance 1/18.
func TestSliceSweepBox(t *testing.T) {
	logp := func(x []float64) float64 {
		if x[0] < 0 || x[0] > 1 {
			return math.Inf(-1)
		}
		return math.Log(2 * x[0])
	}
	mean, variance, lo, hi := sampleMoments(logp, 0.5, 20000)
	if lo < 0 || hi > 1 {
		t.Errorf("chain in [%v, %v], outside [0, 1]", lo, hi)
	}
	if math.Abs(mean-2.0/3) > 0.01 || math.Abs(variance-1.0/18) > 0.004 {
		t.Errorf("mean %v variance %v, want %v and %v", mean, variance, 2.0/3, 1.0/18)
	}
}

// sampleGPs gives hyperSamples processes whose hyperparameters are in
// their boxes and differ from one another, the same ones for the same rng.
func TestSampleGPs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var x [][]float64
	var y []float64
	for range 12 {
		u := []float64{rng.Float64(), rng.Float64()}
		x, y = append(x, u), append(y, math.Sin(5*u[0])+u[1]*u[1])
	}
	gps, err := sampleGPs(x, y, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	again, err := sampleGPs(x, y, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(gps) != hyperSamples {
		t.Fatalf("%d processes, want %d", len(gps), hyperSamples)
	}
	in := func(v float64, r [2]float64) bool { return v >= r[0] && v <= r[1] }
	for k, g := range gps {
		h := g.h
		ok := in(h.signalVar, signalVarRange) && in(h.noiseVar, noiseVarRange)
		for _, l := range h.lengthScales {
			ok = ok && in(l, lengthScaleRange)
		}
		if !ok {
			t.Errorf("sample %d: %+v outside the boxes", k, h)
		}
		if k > 0 && h.lengthScales[0] == gps[k-1].h.lengthScales[0] {
			t.Errorf("samples %d and %d have the same length scale %v", k-1, k, h.lengthScales[0])
		}
		if h.signalVar != again[k].h.signalVar || h.lengthScales[1] != again[k].h.lengthScales[1] {
			t.Errorf("sample %d differs with the same rng: %+v, then %+v", k, h, again[k].h)
		}
	}
}
