package search

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestExpectedImprovement(t *testing.T) {
	phi1 := math.Exp(-0.5) / math.Sqrt(2*math.Pi)
	cdf1 := 0.8413447460685429 // P(Z <= 1)
	for _, c := range []struct{ mean, sd, best, want float64 }{
		{2, 0, 1, 1},                            // certain improvement
		{0.5, 0, 1, 0},                          // certainly none
		{1, 0.3, 1, 0.3 / math.Sqrt(2*math.Pi)}, // at the best: sd * pdf(0)
		{1, 1, 0, cdf1 + phi1},                  // z = 1
		{-1, 1, 0, -(1 - cdf1) + phi1},          // z = -1
		{3, 2, 1, 2 * (2*cdf1/2 + phi1)},        // z = 1, scaled by sd = 2
	} {
		if got := expectedImprovement(c.mean, c.sd, c.best); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("EI(mean %v, sd %v, best %v) = %v, want %v", c.mean, c.sd, c.best, got, c.want)
		}
	}
}

// EI is positive under uncertainty and grows with the mean and with the
// uncertainty: the trade-off between exploiting and exploring.
func TestExpectedImprovementMonotone(t *testing.T) {
	prev := 0.0
	for mean := -3.0; mean <= 3; mean += 0.25 {
		ei := expectedImprovement(mean, 0.5, 0)
		if ei <= 0 || ei <= prev {
			t.Errorf("EI(mean %v) = %v after %v: want positive and increasing", mean, ei, prev)
		}
		prev = ei
	}
	prev = 0
	for sd := 0.1; sd <= 3; sd += 0.1 {
		ei := expectedImprovement(-1, sd, 0)
		if ei <= prev {
			t.Errorf("EI(sd %v) = %v after %v: want increasing", sd, ei, prev)
		}
		prev = ei
	}
}

// Between two good observations and far from a bad one, the proposal goes
// where the process expects the most.
func TestPropose(t *testing.T) {
	s := Space{marginRange}
	x := [][]float64{{0.05}, {0.35}, {0.45}, {0.95}}
	y := []float64{0, 0.8, 0.85, 0.1}
	u, err := propose(s, x, y, nil, ConstantLiar, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if u[0] < 0.3 || u[0] > 0.6 {
		t.Errorf("proposed %v, want near the good observations at 0.35-0.45", u)
	}
	again, _ := propose(s, x, y, nil, ConstantLiar, rand.New(rand.NewPCG(1, 1)))
	if again[0] != u[0] {
		t.Errorf("the same seed proposed %v, then %v", u, again)
	}
}

// An integer range is proposed at the middle of an integer's slice.
func TestProposeInteger(t *testing.T) {
	s := Space{mRange}
	x := [][]float64{{unit(mRange, 2)}, {unit(mRange, 5)}, {unit(mRange, 8)}}
	u, err := propose(s, x, []float64{0.1, 0.5, 0.2}, nil, ConstantLiar, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if v := value(mRange, u[0]); u[0] != unit(mRange, v) {
		t.Errorf("proposed %v, not the middle of m=%v", u, v)
	}
}

// log EI is log(EI) where EI is representable, and keeps ordering points
// far below the best, where EI underflows to 0.
func TestLogExpectedImprovement(t *testing.T) {
	for _, c := range []struct{ mean, sd, best float64 }{
		{2, 1, 1}, {1, 0.3, 1}, {-1, 1, 0}, {-5, 1, 0}, {-9.9, 1, 0}, {-10.1, 1, 0}, {-20, 1, 0}, {0.5, 0, 0.2},
	} {
		want := math.Log(expectedImprovement(c.mean, c.sd, c.best))
		if got := logExpectedImprovement(c.mean, c.sd, c.best); math.Abs(got-want) > 1e-6*math.Abs(want) {
			t.Errorf("log EI(mean %v, sd %v, best %v) = %v, want %v", c.mean, c.sd, c.best, got, want)
		}
	}
	prev := math.Inf(-1)
	for mean := -60.0; mean <= 0; mean += 0.5 {
		v := logExpectedImprovement(mean, 1, 0)
		if math.IsInf(v, 0) || math.IsNaN(v) || v <= prev {
			t.Errorf("log EI(mean %v) = %v after %v: want finite and increasing", mean, v, prev)
		}
		prev = v
	}
}

// The averaged expected improvement of one process is its expected
// improvement, and of several the log of the mean of theirs, also where
// each underflows.
func TestLogMeanExp(t *testing.T) {
	one := logExpectedImprovement(0.2, 0.4, 0.5)
	if got := logMeanExp([]float64{one}); got != one {
		t.Errorf("one sample: %v, want its log EI %v", got, one)
	}
	a, b := expectedImprovement(0.2, 0.4, 0.5), expectedImprovement(0.9, 0.1, 0.5)
	got := logMeanExp([]float64{logExpectedImprovement(0.2, 0.4, 0.5), logExpectedImprovement(0.9, 0.1, 0.5)})
	if want := math.Log((a + b) / 2); math.Abs(got-want) > 1e-12 {
		t.Errorf("two samples: %v, want %v", got, want)
	}
	if got := logMeanExp([]float64{-2000, -2000 + math.Log(3)}); math.Abs(got-(-2000+math.Log(2))) > 1e-9 {
		t.Errorf("underflowing: %v, want %v", got, -2000+math.Log(2))
	}
	if got := logMeanExp([]float64{math.Inf(-1), math.Inf(-1)}); !math.IsInf(got, -1) {
		t.Errorf("no improvement anywhere: %v, want -Inf", got)
	}
}

// A pending point the process believes better than every observation
// raises the bar of the improvement, so the next proposal does not repeat
// it. On a bump observed all around its top, measured against the best
// observation alone the next proposal fell 1e-5 from the pending one (the
// believed improvement there is certain); with the bar raised it is 1e-2
// away.
func TestProposeBesideBelievedBest(t *testing.T) {
	s := Space{marginRange}
	var x [][]float64
	var y []float64
	for _, u := range []float64{0, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 1} {
		x = append(x, []float64{u})
		y = append(y, math.Exp(-math.Pow((u-0.5)/0.15, 2)))
	}
	first, err := propose(s, x, y, nil, KrigingBeliever, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	next, err := propose(s, x, y, [][]float64{first}, KrigingBeliever, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(next[0]-first[0]) < 1e-3 {
		t.Errorf("proposed %v beside the pending %v", next, first)
	}
}
