package search

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// hyper are the hyperparameters of a Gaussian process on the unit cube, for
// the standardised objective (mean 0, variance 1 over the observations).
type hyper struct {
	lengthScales []float64 // one per dimension
	signalVar    float64
	noiseVar     float64
}

// The box that fitGP searches, in log space: a length scale below 0.03
// would fit noise between points closer than the design ever places them,
// one above 5 makes a dimension irrelevant, which 5 already does.
var (
	lengthScaleRange = [2]float64{0.03, 5}
	signalVarRange   = [2]float64{0.05, 20}
	noiseVarRange    = [2]float64{1e-6, 1}
)

// jitter keeps the kernel matrix positive definite in floating point when
// two points coincide and the noise is at its lower bound.
const jitter = 1e-10

// gp is a Gaussian process regression of observations y at points x with a
// Matern-5/2 kernel (twice differentiable: smooth, but not as implausibly
// smooth as the squared exponential for a validation metric).
type gp struct {
	x           [][]float64
	h           hyper
	mean, scale float64 // y = mean + scale * standardised y
	chol        mat.TriDense
	alpha       *mat.VecDense // K^-1 * standardised y
	logLik      float64       // log marginal likelihood of the standardised y
}

// matern52 is the kernel between a and b.
func (h hyper) matern52(a, b []float64) float64 {
	r2 := 0.0
	for j := range a {
		d := (a[j] - b[j]) / h.lengthScales[j]
		r2 += d * d
	}
	s5r := math.Sqrt(5 * r2)
	return h.signalVar * (1 + s5r + 5*r2/3) * math.Exp(-s5r)
}

// newGP conditions a process with hyperparameters h on the observations.
func newGP(x [][]float64, y []float64, h hyper) (*gp, error) {
	mean, scale := meanStd(y)
	return newScaledGP(x, y, h, mean, scale)
}

// newScaledGP is newGP with the observations standardised by the given mean
// and scale: a process conditioned on more points is then on the scale of
// the one that fitted h.
func newScaledGP(x [][]float64, y []float64, h hyper, mean, scale float64) (*gp, error) {
	n := len(x)
	if n == 0 || len(y) != n {
		return nil, fmt.Errorf("gaussian process: %d points and %d observations", n, len(y))
	}
	g := &gp{x: x, h: h, mean: mean, scale: scale}
	z := mat.NewVecDense(n, nil)
	for i, v := range y {
		z.SetVec(i, (v-g.mean)/g.scale)
	}
	k := mat.NewSymDense(n, nil)
	for i := range n {
		for l := range i + 1 {
			k.SetSym(i, l, h.matern52(x[i], x[l]))
		}
		k.SetSym(i, i, k.At(i, i)+h.noiseVar+jitter)
	}
	var chol mat.Cholesky
	if !chol.Factorize(k) {
		return nil, fmt.Errorf("gaussian process: kernel matrix is not positive definite")
	}
	chol.LTo(&g.chol)
	g.alpha = mat.NewVecDense(n, nil)
	if err := chol.SolveVecTo(g.alpha, z); err != nil {
		return nil, fmt.Errorf("gaussian process: %w", err)
	}
	g.logLik = -0.5*mat.Dot(z, g.alpha) - 0.5*chol.LogDet() - 0.5*float64(n)*math.Log(2*math.Pi)
	return g, nil
}

// meanStd standardises observations; a single observation, or equal ones,
// keep scale 1 so that the prior still has a spread.
func meanStd(y []float64) (mean, std float64) {
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	for _, v := range y {
		std += (v - mean) * (v - mean)
	}
	std = math.Sqrt(std / float64(len(y)))
	if std < 1e-12 {
		std = 1
	}
	return mean, std
}

// predict returns the posterior mean and standard deviation of the
// objective (without observation noise) at u.
func (g *gp) predict(u []float64) (mean, sd float64) {
	n := len(g.x)
	ks := mat.NewVecDense(n, nil)
	for i, xi := range g.x {
		ks.SetVec(i, g.h.matern52(u, xi))
	}
	mu := mat.Dot(ks, g.alpha)
	var v mat.VecDense
	if err := v.SolveVec(&g.chol, ks); err != nil {
		// The factor was non-singular when made; this cannot happen.
		panic(err)
	}
	variance := math.Max(g.h.signalVar-mat.Dot(&v, &v), 0)
	return g.mean + g.scale*mu, g.scale * math.Sqrt(variance)
}

// fitGP chooses the hyperparameters that maximise the log marginal
// likelihood of the observations, by compass search in log space from a
// few starting length scales, and conditions the process on them.
func fitGP(x [][]float64, y []float64) (*gp, error) {
	d := len(x[0])
	lo := make([]float64, d+2)
	hi := make([]float64, d+2)
	for j := range d {
		lo[j], hi[j] = math.Log(lengthScaleRange[0]), math.Log(lengthScaleRange[1])
	}
	lo[d], hi[d] = math.Log(signalVarRange[0]), math.Log(signalVarRange[1])
	lo[d+1], hi[d+1] = math.Log(noiseVarRange[0]), math.Log(noiseVarRange[1])
	toHyper := func(theta []float64) hyper {
		h := hyper{lengthScales: make([]float64, d), signalVar: math.Exp(theta[d]), noiseVar: math.Exp(theta[d+1])}
		for j := range d {
			h.lengthScales[j] = math.Exp(theta[j])
		}
		return h
	}
	logLik := func(theta []float64) float64 {
		g, err := newGP(x, y, toHyper(theta))
		if err != nil {
			return math.Inf(-1)
		}
		return g.logLik
	}
	var best []float64
	bestLik := math.Inf(-1)
	for _, ls := range []float64{0.1, 0.3, 1} {
		start := make([]float64, d+2)
		for j := range d {
			start[j] = math.Log(ls)
		}
		start[d], start[d+1] = 0, math.Log(1e-3)
		theta, lik := compass(logLik, start, lo, hi, 0.25, 100*(d+2))
		if best == nil || lik > bestLik {
			best, bestLik = theta, lik
		}
	}
	return newGP(x, y, toHyper(best))
}
