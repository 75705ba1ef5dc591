package search

import (
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
// trials take equal time. It returns the regret of the best trial.
func simulate(fn testFunction, q, evals int, seed uint64, liar Liar) (float64, error) {
	st := &State{expfolder.Search{Space: fn.space, Seed: seed, NumInit: 2 * len(fn.space)}}
	design := latinHypercube(st.NumInit, len(st.Space), rand.New(rand.NewPCG(seed, 0)))
	var inFlight []int
	best := math.Inf(1)
	for done := 0; done < evals; done++ {
		for len(inFlight) < q && len(st.Trials) < evals {
			i := len(st.Trials)
			u, err := st.next(i, design, liar)
			if err != nil {
				return 0, err
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
	}
	return best - fn.min, nil
}

// BenchmarkRegret measures the optimiser alone: the median regret and its
// quartiles over 20 seeds after 50 evaluations on Branin and Hartmann-6, serial (q=1) and
// with 4 trials in flight, for both liars. The regrets are the reported
// metrics; the seeds run on every CPU. Minutes: -short leaves it out.
func BenchmarkRegret(b *testing.B) {
	if testing.Short() {
		b.Skip("minutes of Gaussian process fits")
	}
	const seeds, evals = 20, 50
	for _, fn := range []testFunction{branin, hartmann6} {
		for _, liar := range []Liar{KrigingBeliever, ConstantLiar} {
			for _, q := range []int{1, 4} {
				if q == 1 && liar != KrigingBeliever {
					continue // no trial is pending: the liar plays no part
				}
				b.Run(fmt.Sprintf("%s/q=%d/%s", fn.name, q, liar), func(b *testing.B) {
					var median, q1, q3 float64
					for b.Loop() {
						regrets := make([]float64, seeds)
						errs := make([]error, seeds)
						var wg sync.WaitGroup
						sem := make(chan struct{}, runtime.NumCPU())
						for s := range seeds {
							wg.Add(1)
							sem <- struct{}{}
							go func() {
								defer func() { <-sem; wg.Done() }()
								regrets[s], errs[s] = simulate(fn, q, evals, uint64(s), liar)
							}()
						}
						wg.Wait()
						for _, err := range errs {
							if err != nil {
								b.Fatal(err)
							}
						}
						slices.Sort(regrets)
						median = (regrets[seeds/2-1] + regrets[seeds/2]) / 2
						q1 = (regrets[seeds/4-1] + regrets[seeds/4]) / 2
						q3 = (regrets[3*seeds/4-1] + regrets[3*seeds/4]) / 2
					}
					b.ReportMetric(median, "median-regret")
					b.ReportMetric(q1, "q1-regret")
					b.ReportMetric(q3, "q3-regret")
					b.ReportMetric(0, "ns/op")
				})
			}
		}
	}
}
