package search

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// How propose searches the unit cube: the expected improvement is cheap
// next to a trial, so many random candidates, then the best few refined.
const (
	proposalCandidates = 2000
	proposalRefined    = 5
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

// propose fits a Gaussian process to the observations y at the points x
// and returns the point of the space with the largest expected improvement
// over the best observation. The pending points, trials still running, are
// held at a value the liar gives them, with the hyperparameters fitted to
// the observations alone: the process is then sure of its value there, so
// the improvement near a pending point is small and parallel trials do not
// repeat one another.
func propose(s Space, x [][]float64, y []float64, pending [][]float64, liar Liar, rng *rand.Rand) ([]float64, error) {
	g, err := fitGP(x, y)
	if err == nil && len(pending) > 0 {
		lies := make([]float64, len(pending))
		for i, p := range pending {
			lies[i] = liar.value(g, p, y)
		}
		g, err = newScaledGP(append(slices.Clip(x), pending...), append(slices.Clip(y), lies...), g.h, g.mean, g.scale)
	}
	if err != nil {
		return nil, fmt.Errorf("proposing a trial: %w", err)
	}
	best := slices.Max(y)
	// Integer coordinates are snapped first so that the improvement is that
	// of the value a trial would actually run.
	ei := func(u []float64) float64 {
		m, sd := g.predict(s.snap(u))
		return expectedImprovement(m, sd, best)
	}
	type candidate struct {
		u  []float64
		ei float64
	}
	cands := make([]candidate, proposalCandidates)
	for i := range cands {
		u := make([]float64, len(s))
		for j := range u {
			u[j] = rng.Float64()
		}
		cands[i] = candidate{u, ei(u)}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(b.ei, a.ei) })
	lo, hi := make([]float64, len(s)), make([]float64, len(s))
	for j := range hi {
		hi[j] = 1
	}
	top := cands[0]
	for _, c := range cands[:proposalRefined] {
		if u, v := compass(ei, c.u, lo, hi, 0.05, 200); v > top.ei {
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

func (l Liar) value(g *gp, u []float64, y []float64) float64 {
	if l == KrigingBeliever {
		m, _ := g.predict(u)
		return m
	}
	return slices.Max(y)
}
