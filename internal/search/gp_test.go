package search

import (
	"math"
	"slices"
	"testing"
)

// m52 is the Matern-5/2 correlation at distance r over the length scale,
// written out for the hand computations below.
func m52(r float64) float64 {
	return (1 + math.Sqrt(5)*r + 5*r*r/3) * math.Exp(-math.Sqrt(5)*r)
}

func oneDim(l, signal, noise float64) hyper {
	return hyper{lengthScales: []float64{l}, signalVar: signal, noiseVar: noise}
}

// Two observations y = 1 at x = 0 and y = 3 at x = 1 standardise to z = -1
// and 1 (mean 2, standard deviation 1), and the 2x2 kernel matrix inverts by
// hand: with k12 = m52(1), the posterior at x is
//
//	mean = 2 + (k(x,1) - k(x,0)) / (1 - k12)
//	var  = 1 - (k0^2 + k1^2 - 2 k12 k0 k1) / (1 - k12^2).
func TestGPTwoPoints(t *testing.T) {
	g, err := newGP([][]float64{{0}, {1}}, []float64{1, 3}, oneDim(1, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	k12 := m52(1)
	for _, x := range []float64{0, 0.25, 0.5, 0.9, 1, 2} {
		k0, k1 := m52(math.Abs(x)), m52(math.Abs(x-1))
		wantMean := 2 + (k1-k0)/(1-k12)
		wantSD := math.Sqrt(math.Max(1-(k0*k0+k1*k1-2*k12*k0*k1)/(1-k12*k12), 0))
		mean, sd := g.predict([]float64{x})
		if math.Abs(mean-wantMean) > 1e-8 || math.Abs(sd-wantSD) > 1e-4 {
			t.Errorf("x=%v: mean %.10f sd %.6f, want %.10f %.6f", x, mean, sd, wantMean, wantSD)
		}
	}
}

// With z = (-1, 1) and K = [[a, b], [b, a]], z'K^-1 z = 2/(a-b) and
// log|K| = log(a^2 - b^2).
func TestGPLogLikelihood(t *testing.T) {
	for _, h := range []hyper{oneDim(1, 1, 0.1), oneDim(0.3, 2, 1e-3)} {
		g, err := newGP([][]float64{{0}, {1}}, []float64{1, 3}, h)
		if err != nil {
			t.Fatal(err)
		}
		a, b := h.signalVar+h.noiseVar+jitter, h.signalVar*m52(1/h.lengthScales[0])
		want := -0.5*2/(a-b) - 0.5*math.Log(a*a-b*b) - math.Log(2*math.Pi)
		if math.Abs(g.logLik-want) > 1e-9 {
			t.Errorf("%+v: log likelihood %.12f, want %.12f", h, g.logLik, want)
		}
	}
}

// Without noise the posterior mean passes through the observations, where
// it is certain; far from them it falls back to the prior: the mean of the
// observations, and their spread times the signal's.
func TestGPInterpolates(t *testing.T) {
	x := [][]float64{{0.1, 0.2}, {0.9, 0.1}, {0.5, 0.5}, {0.2, 0.8}, {0.7, 0.9}}
	y := []float64{0.3, -1.2, 0.8, 2.5, 0.1}
	h := hyper{lengthScales: []float64{0.3, 0.5}, signalVar: 1.5, noiseVar: 1e-9}
	g, err := newGP(x, y, h)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x {
		mean, sd := g.predict(x[i])
		if math.Abs(mean-y[i]) > 1e-5 || sd > 1e-3 {
			t.Errorf("at observation %d: mean %v sd %v, want %v and 0", i, mean, sd, y[i])
		}
	}
	m, s := meanStd(y)
	mean, sd := g.predict([]float64{30, 30})
	if math.Abs(mean-m) > 1e-9 || math.Abs(sd-s*math.Sqrt(h.signalVar)) > 1e-9 {
		t.Errorf("far away: mean %v sd %v, want the prior %v %v", mean, sd, m, s*math.Sqrt(h.signalVar))
	}
}

// fitGP's hyperparameters explain smooth data better than its starting
// points do, and predict it between the observations.
func TestFitGP(t *testing.T) {
	f := func(u float64) float64 { return math.Sin(6*u) + 0.5*u }
	var x [][]float64
	var y []float64
	for i := range 9 {
		u := float64(i) / 8
		x, y = append(x, []float64{u}), append(y, f(u))
	}
	g, err := fitGP(x, y)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []float64{0.1, 0.3, 1} {
		start, err := newGP(x, y, oneDim(l, 1, 1e-3))
		if err != nil {
			t.Fatal(err)
		}
		if g.logLik < start.logLik {
			t.Errorf("fitted log likelihood %v below that of length scale %v: %v", g.logLik, l, start.logLik)
		}
	}
	for _, u := range []float64{0.07, 0.33, 0.61, 0.95} {
		if mean, _ := g.predict([]float64{u}); math.Abs(mean-f(u)) > 0.05 {
			t.Errorf("f(%v) = %v, predicted %v (hyperparameters %+v)", u, f(u), mean, g.h)
		}
	}
}

// The gradient of the log likelihood matches central differences.
func TestLikelihoodGradient(t *testing.T) {
	x := [][]float64{{0.1, 0.2}, {0.9, 0.1}, {0.5, 0.5}, {0.2, 0.8}, {0.7, 0.9}, {0.4, 0.3}}
	y := []float64{0.3, -1.2, 0.8, 2.5, 0.1, 0.4}
	mean, scale := meanStd(y)
	f := newLikelihood(x, y, mean, scale)
	theta := []float64{math.Log(0.3), math.Log(0.7), math.Log(1.3), math.Log(0.01)}
	lik, grad := f.eval(theta)
	g, err := newGP(x, y, hyper{lengthScales: []float64{0.3, 0.7}, signalVar: 1.3, noiseVar: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(lik-g.logLik) > 1e-9 {
		t.Errorf("log likelihood %v, the process's %v", lik, g.logLik)
	}
	const h = 1e-6
	for i := range theta {
		up, down := slices.Clone(theta), slices.Clone(theta)
		up[i] += h
		down[i] -= h
		lu, _ := f.eval(up)
		ld, _ := f.eval(down)
		if want := (lu - ld) / (2 * h); math.Abs(grad[i]-want) > 1e-5*math.Max(1, math.Abs(want)) {
			t.Errorf("d/dtheta[%d] = %v, central difference %v", i, grad[i], want)
		}
	}
}
