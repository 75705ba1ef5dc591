package search

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/bench-ml/bench/internal/config"

	"github.com/bench-ml/bench/internal/expfolder"
)

// testFunction is a standard benchmark of global optimisation, minimised.
type testFunction struct {
	name  string
	space Space
	min   float64
	f     func(x []float64) float64
}

var branin = testFunction{
	name:  "Branin",
	space: Space{{Path: "x1", Kind: "BAYESIAN", Low: -5, High: 10}, {Path: "x2", Kind: "BAYESIAN", Low: 0, High: 15}},
	min:   0.397887357729738,
	f: func(x []float64) float64 {
		b, c, t := 5.1/(4*math.Pi*math.Pi), 5/math.Pi, 1/(8*math.Pi)
		return math.Pow(x[1]-b*x[0]*x[0]+c*x[0]-6, 2) + 10*(1-t)*math.Cos(x[0]) + 10
	},
}

var hartmann6 = func() testFunction {
	alpha := []float64{1.0, 1.2, 3.0, 3.2}
	a := [4][6]float64{{10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14}, {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}}
	p := [4][6]float64{{1312, 1696, 5569, 124, 8283, 5886}, {2329, 4135, 8307, 3736, 1004, 9991},
		{2348, 1451, 3522, 2883, 3047, 6650}, {4047, 8828, 8732, 5743, 1091, 381}}
	var s Space
	for j := range 6 {
		s = append(s, config.Search{Path: fmt.Sprintf("x%d", j+1), Kind: "BAYESIAN", Low: 0, High: 1})
	}
	return testFunction{name: "Hartmann6", space: s, min: -3.32236801141551, f: func(x []float64) float64 {
		sum := 0.0
		for i := range 4 {
			e := 0.0
			for j := range 6 {
				e += a[i][j] * math.Pow(x[j]-p[i][j]*1e-4, 2)
			}
			sum += alpha[i] * math.Exp(-e)
		}
		return -sum
	}}
}()

// simulate runs a search of evals trials of fn, q in flight at once: the
// oldest trial in flight finishes first, then the next is proposed with
// the others still pending, as an asynchronous parallel search does when
// trials take equal time. It returns the regret of the best trial after
// each evaluation.
func simulate(fn testFunction, q, evals int, seed uint64, liar Liar) ([]float64, error) {
	st := &State{expfolder.Search{Space: fn.space, Seed: seed, NumInit: 2 * len(fn.space)}}
	design := latinHypercube(st.NumInit, len(st.Space), rand.New(rand.NewPCG(seed, 0)))
	var inFlight []int
	best := math.Inf(1)
	regrets := make([]float64, 0, evals)
	for range evals {
		for len(inFlight) < q && len(st.Trials) < evals {
			i := len(st.Trials)
			u, err := st.next(i, design, liar)
			if err != nil {
				return nil, err
			}
			st.Trials = append(st.Trials, Trial{Name: fmt.Sprint(i), Values: st.space().values(u), Status: Running})
			inFlight = append(inFlight, i)
		}
		t := &st.Trials[inFlight[0]]
		inFlight = inFlight[1:]
		x := make([]float64, len(fn.space))
		for j, d := range fn.space {
			x[j] = t.Values[d.Path]
		}
		v := fn.f(x)
		best = math.Min(best, v)
		obj := -v
		t.Status, t.Objective = Done, &obj
		regrets = append(regrets, best-fn.min)
	}
	return regrets, nil
}

// regretSeeds is the number of seeds of BenchmarkRegret: the quality
// targets are stated for 20, but on Hartmann-6 about a third of the runs
// stall at a local optimum (regret 0.12) and the median of 20 can fall
// between a stalled and an escaped run; more seeds give a steadier picture
// (go test -run '^$' -bench Regret ./internal/search -args -regret.seeds 80).
var regretSeeds = flag.Int("regret.seeds", 20, "seeds of BenchmarkRegret")

// medianRegrets runs seeds 0 to seeds-1 on every CPU and returns the median
// regret after each evaluation, and the first and third quartiles after
// the last.
func medianRegrets(fn testFunction, q, evals, seeds int, liar Liar) (median []float64, q1, q3 float64, err error) {
	runs := make([][]float64, seeds)
	errs := make([]error, seeds)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for s := range seeds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			runs[s], errs[s] = simulate(fn, q, evals, uint64(s), liar)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, 0, 0, err
	}
	quantile := func(r []float64, k int) float64 { // the k-th quartile of sorted r
		i := k * len(r) / 4
		if len(r)*k%4 != 0 {
			return r[i]
		}
		return (r[i-1] + r[i]) / 2
	}
	at := make([]float64, seeds)
	for e := range evals {
		for s, r := range runs {
			at[s] = r[e]
		}
		slices.Sort(at)
		median = append(median, quantile(at, 2))
	}
	return median, quantile(at, 1), quantile(at, 3), nil
}

// BenchmarkRegret measures the optimiser alone: the median regret and its
// quartiles over 20 seeds (-regret.seeds) after 50 evaluations on Branin
// and Hartmann-6, serial (q=1) and with 4 trials in flight, for both
// liars. With trials in flight, after the serial sub-benchmark of the same
// function, it also reports serial-evals, the number of evaluations after
// which the serial search's median regret is as low as this one's after 50
// (50 if not sooner): what the parallel search's budget is worth, steadier
// than a ratio of regrets where they fall tenfold in five evaluations. The
// seeds run on every CPU. Minutes: -short leaves it out.
func BenchmarkRegret(b *testing.B) {
	if testing.Short() {
		b.Skip("minutes of Gaussian process fits")
	}
	if *regretSeeds < 1 {
		b.Fatalf("-regret.seeds %d: want at least 1", *regretSeeds)
	}
	const evals = 50
	for _, fn := range []testFunction{branin, hartmann6} {
		var serial []float64 // median regret after each evaluation
		for _, liar := range []Liar{KrigingBeliever, ConstantLiar} {
			for _, q := range []int{1, 4} {
				if q == 1 && liar != KrigingBeliever {
					continue // no trial is pending: the liar plays no part
				}
				b.Run(fmt.Sprintf("%s/q=%d/%s", fn.name, q, liar), func(b *testing.B) {
					var median []float64
					var q1, q3 float64
					for b.Loop() {
						var err error
						if median, q1, q3, err = medianRegrets(fn, q, evals, *regretSeeds, liar); err != nil {
							b.Fatal(err)
						}
					}
					if q == 1 {
						serial = median
					}
					b.ReportMetric(median[evals-1], "median-regret")
					b.ReportMetric(q1, "q1-regret")
					b.ReportMetric(q3, "q3-regret")
					if q > 1 && serial != nil {
						worth := evals // or more: the serial search did not get there sooner
						if i := slices.IndexFunc(serial, func(r float64) bool { return r <= median[evals-1] }); i >= 0 {
							worth = i + 1
						}
						b.ReportMetric(float64(worth), "serial-evals")
					}
					b.ReportMetric(0, "ns/op")
				})
			}
		}
	}
}
