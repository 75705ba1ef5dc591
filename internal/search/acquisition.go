package search

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// How propose searches the unit cube: the expected improvement is cheap
// next to a trial, so many random candidates, as many again around the best
// observations (where the maximum often is, in a bump too narrow for
// uniform candidates to find), then the best few refined.
const (
	proposalCandidates = 2000
	proposalLocal      = 2000
	proposalLocalBest  = 5    // observations the local candidates are around
	proposalLocalSD    = 0.05 // their spread, in the unit cube
	proposalRefined    = 10
)

// expectedImprovement is E[max(f - best, 0)] for f ~ N(mean, sd^2): the
// acquisition for maximisation.
func expectedImprovement(mean, sd, best float64) float64 {
	if sd <= 0 {
		return math.Max(mean-best, 0)
	}
	z := (mean - best) / sd
	cdf := 0.5 * math.Erfc(-z/math.Sqrt2)
	pdf := math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
	return (mean-best)*cdf + sd*pdf
}

// logExpectedImprovement is the logarithm of expectedImprovement, accurate
// where the improvement underflows: far from the best, the expected
// improvement of every point is 0 in floating point, and the search would
// have no direction. EI = sd h(z) with h(z) = z cdf(z) + pdf(z); for very
// negative z, h(z) = pdf(z)/z^2 (1 - 3/z^2 + 15/z^4 - ...), the asymptotic
// series of the normal tail.
func logExpectedImprovement(mean, sd, best float64) float64 {
	if sd <= 0 {
		return math.Log(math.Max(mean-best, 0))
	}
	z := (mean - best) / sd
	if z > -10 {
		cdf := 0.5 * math.Erfc(-z/math.Sqrt2)
		pdf := math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
		return math.Log(sd) + math.Log(z*cdf+pdf)
	}
	z2 := z * z
	logPDF := -z2/2 - 0.5*math.Log(2*math.Pi)
	return math.Log(sd) + logPDF - math.Log(z2) + math.Log1p(-3/z2+15/(z2*z2)-105/(z2*z2*z2))
}

// logMeanExp is log(mean(exp(v))), without the overflow or underflow of
// exp: the log of the expected improvement averaged over processes.
func logMeanExp(v []float64) float64 {
	m := slices.Max(v)
	if math.IsInf(m, -1) {
		return m
	}
	sum := 0.0
	for _, w := range v {
		sum += math.Exp(w - m)
	}
	return m + math.Log(sum/float64(len(v)))
}

// propose fits Gaussian processes to the observations y at the points x,
// one per sample of the hyperparameters' posterior, and returns the point
// of the space with the largest expected improvement over the best
// observation, averaged over the processes. The pending points, trials
// still running, are held at a value the liar gives them under each
// process, with its hyperparameters drawn given the observations alone:
// the process is then sure of its value there, so the improvement near a
// pending point is small and parallel trials do not repeat one another.
// A lie above the best observation is the process's best, as if observed:
// measured from the best observation alone, a point beside a pending one
// the process believes good still had an improvement, and the parallel
// search refined the optimum a few times less precisely.
func propose(s Space, x [][]float64, y []float64, pending [][]float64, liar Liar, rng *rand.Rand) ([]float64, error) {
	gps, err := sampleGPs(x, y, rng)
	best := slices.Max(y)
	bests := make([]float64, len(gps)) // each process's best, lies included
	for k := range gps {
		bests[k] = best
		if err != nil || len(pending) == 0 {
			continue
		}
		g := gps[k]
		lies := make([]float64, len(pending))
		for i, p := range pending {
			lies[i] = liar.value(g, p, y)
			bests[k] = math.Max(bests[k], lies[i])
		}
		gps[k], err = newScaledGP(append(slices.Clip(x), pending...), append(slices.Clip(y), lies...), g.h, g.mean, g.scale)
	}
	if err != nil {
		return nil, fmt.Errorf("proposing a trial: %w", err)
	}
	// Integer coordinates are snapped first so that the improvement is that
	// of the value a trial would actually run.
	logEI := make([]float64, len(gps))
	acq := func(u []float64) float64 {
		for k, g := range gps {
			m, sd := g.predict(s.snap(u))
			logEI[k] = logExpectedImprovement(m, sd, bests[k])
		}
		return logMeanExp(logEI)
	}
	type candidate struct {
		u   []float64
		acq float64
	}
	cands := make([]candidate, 0, proposalCandidates+proposalLocal)
	for range proposalCandidates {
		u := make([]float64, len(s))
		for j := range u {
			u[j] = rng.Float64()
		}
		cands = append(cands, candidate{u, acq(u)})
	}
	order := make([]int, len(y))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(y[b], y[a]) })
	centres := order[:min(proposalLocalBest, len(order))]
	for i := range proposalLocal {
		c := x[centres[i%len(centres)]]
		u := make([]float64, len(s))
		for j := range u {
			u[j] = math.Min(math.Max(c[j]+proposalLocalSD*rng.NormFloat64(), 0), 1)
		}
		cands = append(cands, candidate{u, acq(u)})
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(b.acq, a.acq) })
	lo, hi := make([]float64, len(s)), make([]float64, len(s))
	for j := range hi {
		hi[j] = 1
	}
	top := cands[0]
	for _, c := range cands[:proposalRefined] {
		if u, v := compass(acq, c.u, lo, hi, 0.05, 200); v > top.acq {
			top = candidate{u, v}
		}
	}
	return s.snap(top.u), nil
}

// Liar is how a pending trial's objective is imagined while it runs.
type Liar string

const (
	// KrigingBeliever holds a pending trial at the process's mean there.
	KrigingBeliever Liar = "kriging_believer"
	// ConstantLiar holds every pending trial at the best objective seen
	// (Ginsbourger's optimistic CL): no improvement is expected there, so
	// the next trials go elsewhere. The pessimistic lie, the worst
	// objective, drags the process down far around a pending point and
	// did much worse on the regret benchmark.
	ConstantLiar Liar = "constant_liar"
)

// Check refuses a liar other than these two.
func (l Liar) Check() error {
	if l != KrigingBeliever && l != ConstantLiar {
		return fmt.Errorf("want %s or %s, got %q", KrigingBeliever, ConstantLiar, string(l))
	}
	return nil
}

func (l Liar) value(g *gp, u []float64, y []float64) float64 {
	if l == KrigingBeliever {
		m, _ := g.predict(u)
		return m
	}
	return slices.Max(y)
}
