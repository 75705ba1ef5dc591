package search

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
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
	ks := make([]float64, len(g.x))
	for i, xi := range g.x {
		ks[i] = g.h.matern52(u, xi)
	}
	mu := floats.Dot(ks, g.alpha.RawVector().Data)
	// v = L^-1 ks, by forward substitution: mat's SolveVec would also
	// estimate the factor's condition number, which costs more than the
	// solve, at every one of the acquisition's thousands of calls.
	v := blas64.Vector{N: len(ks), Inc: 1, Data: ks}
	blas64.Trsv(blas.NoTrans, g.chol.RawTriangular(), v)
	variance := math.Max(g.h.signalVar-blas64.Dot(v, v), 0)
	return g.mean + g.scale*mu, g.scale * math.Sqrt(variance)
}

// fitGP chooses the hyperparameters that maximise the log marginal
// likelihood of the observations, by L-BFGS with the likelihood's gradient
// from a few starting length scales, and conditions the process on them.
// The box of each hyperparameter is kept by optimising an unbounded
// variable that a logistic function maps into it.
func fitGP(x [][]float64, y []float64) (*gp, error) {
	d := len(x[0])
	mean, scale := meanStd(y)
	f := newLikelihood(x, y, mean, scale)
	lo := make([]float64, d+2)
	hi := make([]float64, d+2)
	for j := range d {
		lo[j], hi[j] = math.Log(lengthScaleRange[0]), math.Log(lengthScaleRange[1])
	}
	lo[d], hi[d] = math.Log(signalVarRange[0]), math.Log(signalVarRange[1])
	lo[d+1], hi[d+1] = math.Log(noiseVarRange[0]), math.Log(noiseVarRange[1])
	theta := func(phi []float64) []float64 {
		t := make([]float64, len(phi))
		for i, p := range phi {
			t[i] = lo[i] + (hi[i]-lo[i])/(1+math.Exp(-p))
		}
		return t
	}
	// The negated likelihood and its gradient, memoised: L-BFGS asks for
	// the value and the gradient at one point in two calls.
	var lastPhi, lastGrad []float64
	var lastF float64
	eval := func(phi []float64) {
		if lastPhi != nil && slices.Equal(phi, lastPhi) {
			return
		}
		t := theta(phi)
		lik, grad := f.eval(t)
		lastPhi, lastF = slices.Clone(phi), -lik
		lastGrad = make([]float64, len(phi))
		for i := range phi {
			// d theta / d phi of the logistic map.
			s := (t[i] - lo[i]) / (hi[i] - lo[i])
			lastGrad[i] = -grad[i] * (hi[i] - lo[i]) * s * (1 - s)
		}
	}
	problem := optimize.Problem{
		Func: func(phi []float64) float64 { eval(phi); return lastF },
		Grad: func(g, phi []float64) { eval(phi); copy(g, lastGrad) },
	}
	var best []float64
	bestF := math.Inf(1)
	for _, ls := range []float64{0.1, 0.3, 1} {
		start := make([]float64, d+2)
		for j := range d {
			start[j] = math.Log(ls)
		}
		start[d], start[d+1] = 0, math.Log(1e-3)
		phi := make([]float64, d+2)
		for i, t := range start {
			s := (t - lo[i]) / (hi[i] - lo[i])
			phi[i] = math.Log(s / (1 - s))
		}
		res, err := optimize.Minimize(problem, phi, &optimize.Settings{MajorIterations: 200}, &optimize.LBFGS{})
		if res == nil {
			return nil, fmt.Errorf("fitting the gaussian process: %w", err)
		}
		if res.F < bestF {
			best, bestF = theta(res.X), res.F
		}
	}
	if best == nil {
		return nil, fmt.Errorf("fitting the gaussian process: no hyperparameters give a positive definite kernel matrix")
	}
	h := hyper{lengthScales: make([]float64, d), signalVar: math.Exp(best[d]), noiseVar: math.Exp(best[d+1])}
	for j := range d {
		h.lengthScales[j] = math.Exp(best[j])
	}
	return newScaledGP(x, y, h, mean, scale)
}

// likelihood computes the log marginal likelihood of standardised
// observations and its gradient in the log hyperparameters (log length
// scales, log signal variance, log noise variance).
type likelihood struct {
	n, d  int
	z     []float64
	diff2 [][]float64 // diff2[j][i*n+l] = (x[i][j] - x[l][j])^2
}

func newLikelihood(x [][]float64, y []float64, mean, scale float64) *likelihood {
	n, d := len(x), len(x[0])
	f := &likelihood{n: n, d: d, z: make([]float64, n), diff2: make([][]float64, d)}
	for i, v := range y {
		f.z[i] = (v - mean) / scale
	}
	for j := range d {
		f.diff2[j] = make([]float64, n*n)
		for i := range n {
			for l := range n {
				dx := x[i][j] - x[l][j]
				f.diff2[j][i*n+l] = dx * dx
			}
		}
	}
	return f
}

// eval returns the log likelihood at theta and its gradient, -Inf where
// the kernel matrix is not positive definite. With alpha = K^-1 z, the
// derivative in a hyperparameter t is tr((alpha alpha' - K^-1) dK/dt) / 2;
// for the Matern-5/2 kernel, dk/dlog(l_j) = s 5/3 (1 + sqrt5 r) exp(-sqrt5 r)
// (x_j - x'_j)^2 / l_j^2.
func (f *likelihood) eval(theta []float64) (float64, []float64) {
	n, d := f.n, f.d
	inv2 := make([]float64, d)
	for j := range d {
		inv2[j] = math.Exp(-2 * theta[j])
	}
	signal, noise := math.Exp(theta[d]), math.Exp(theta[d+1])
	kf := make([]float64, n*n) // the kernel without noise
	dk := make([]float64, n*n) // s 5/3 (1 + sqrt5 r) exp(-sqrt5 r)
	k := mat.NewSymDense(n, nil)
	for i := range n {
		for l := range i + 1 {
			r2 := 0.0
			for j := range d {
				r2 += f.diff2[j][i*n+l] * inv2[j]
			}
			s5r := math.Sqrt(5 * r2)
			e := signal * math.Exp(-s5r)
			v := (1 + s5r + 5*r2/3) * e
			kf[i*n+l], kf[l*n+i] = v, v
			g := 5.0 / 3 * (1 + s5r) * e
			dk[i*n+l], dk[l*n+i] = g, g
			k.SetSym(i, l, v)
		}
		k.SetSym(i, i, k.At(i, i)+noise+jitter)
	}
	grad := make([]float64, d+2)
	var chol mat.Cholesky
	if !chol.Factorize(k) {
		return math.Inf(-1), grad
	}
	z := mat.NewVecDense(n, f.z)
	alpha := mat.NewVecDense(n, nil)
	if err := chol.SolveVecTo(alpha, z); err != nil {
		return math.Inf(-1), grad
	}
	var kinv mat.SymDense
	if err := chol.InverseTo(&kinv); err != nil {
		return math.Inf(-1), grad
	}
	lik := -0.5*mat.Dot(z, alpha) - 0.5*chol.LogDet() - 0.5*float64(n)*math.Log(2*math.Pi)
	a := alpha.RawVector().Data
	trW := 0.0
	for i := range n {
		for l := range n {
			w := a[i]*a[l] - kinv.At(i, l)
			if i == l {
				trW += w
			}
			grad[d] += w * kf[i*n+l]
			wg := w * dk[i*n+l]
			for j := range d {
				grad[j] += wg * f.diff2[j][i*n+l]
			}
		}
	}
	for j := range d {
		grad[j] *= 0.5 * inv2[j]
	}
	grad[d] *= 0.5
	grad[d+1] = 0.5 * noise * trW
	return lik, grad
}

// How sampleGPs draws hyperparameters from their posterior: a few sweeps
// from the most likely ones to forget them, then a sample every few
// sweeps. Averaging the acquisition over samples (Snoek, Larochelle and
// Adams 2012, "Practical Bayesian optimization of machine learning
// algorithms") keeps the search exploring where a single point estimate,
// too sure of long length scales early on, stalls in a local optimum.
const (
	hyperSamples      = 4
	hyperBurnIn       = 10
	hyperThin         = 3
	hyperSliceWidth   = 1.0 // in log hyperparameter space
	signalVarPriorStd = 1.0 // of the log signal variance, around 0
)

// logPosterior is the log density, up to a constant, of the
// hyperparameters theta given the observations: theta holds the log
// hyperparameters of likelihood.eval and then the process's constant mean,
// in standardised units (Spearmint samples it too: on an objective that
// is flat but for a few peaks, the mean of the observations is above the
// flat level, and the process far from every observation, in the corners
// of the cube, looks better than it is). The prior is flat in the log
// length scales and the log noise variance inside their boxes and in the
// mean between the smallest and the largest observation; normal on the
// log signal variance (the observations are standardised, so a variance
// near 1 is expected); the density is -Inf outside the boxes. The process
// conditioned on theta is returned with it.
func logPosterior(x [][]float64, y []float64, mean, scale float64, theta []float64) (float64, *gp) {
	d := len(x[0])
	inside := func(t float64, r [2]float64) bool { return t >= math.Log(r[0]) && t <= math.Log(r[1]) }
	h := hyper{lengthScales: make([]float64, d), signalVar: math.Exp(theta[d]), noiseVar: math.Exp(theta[d+1])}
	ok := inside(theta[d], signalVarRange) && inside(theta[d+1], noiseVarRange)
	for j := range d {
		ok = ok && inside(theta[j], lengthScaleRange)
		h.lengthScales[j] = math.Exp(theta[j])
	}
	m := mean + scale*theta[d+2]
	if !ok || m < slices.Min(y) || m > slices.Max(y) {
		return math.Inf(-1), nil
	}
	g, err := newScaledGP(x, y, h, m, scale)
	if err != nil {
		return math.Inf(-1), nil
	}
	s := theta[d] / signalVarPriorStd
	return g.logLik - s*s/2, g
}

// sampleGPs returns hyperSamples processes conditioned on the observations,
// with hyperparameters drawn from their posterior by slice sampling from
// the most likely ones (fitGP's).
func sampleGPs(x [][]float64, y []float64, rng *rand.Rand) ([]*gp, error) {
	g, err := fitGP(x, y)
	if err != nil {
		return nil, err
	}
	d := len(x[0])
	// Clamped: exp and log may round a value on a box's edge out of it.
	clampLog := func(v float64, r [2]float64) float64 {
		return math.Min(math.Max(math.Log(v), math.Log(r[0])), math.Log(r[1]))
	}
	theta := make([]float64, d+3) // the mean starts at that of the observations
	for j, l := range g.h.lengthScales {
		theta[j] = clampLog(l, lengthScaleRange)
	}
	theta[d], theta[d+1] = clampLog(g.h.signalVar, signalVarRange), clampLog(g.h.noiseVar, noiseVarRange)
	var last *gp
	logp := func(t []float64) float64 {
		lp, g := logPosterior(x, y, g.mean, g.scale, t)
		last = g
		return lp
	}
	lp := logp(theta)
	if math.IsInf(lp, -1) {
		// Not positive definite in floating point, where fitGP's
		// process was: keep that one alone.
		return []*gp{g}, nil
	}
	gps := make([]*gp, 0, hyperSamples)
	for sweep := 1; len(gps) < hyperSamples; sweep++ {
		lp = sliceSweep(logp, theta, lp, hyperSliceWidth, rng)
		if sweep > hyperBurnIn && (sweep-hyperBurnIn)%hyperThin == 0 {
			logp(theta) // last is the process at theta
			gps = append(gps, last)
		}
	}
	return gps, nil
}
