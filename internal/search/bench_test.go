package search

import (
	"math/rand/v2"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// BenchmarkPropose times one Bayesian proposal late in a search: 50
// finished trials over 4 ranges. It should stay far below a trial's time.
func BenchmarkPropose(b *testing.B) {
	other := config.Search{Path: "loss_funcs.metric_loss.ContrastiveLoss.neg_margin", Kind: "BAYESIAN", Low: 0.5, High: 1.5}
	s := Space{lrRange, marginRange, mRange, other}
	rng := rand.New(rand.NewPCG(1, 2))
	var x [][]float64
	var y []float64
	for range 50 {
		u := s.snap([]float64{rng.Float64(), rng.Float64(), rng.Float64(), rng.Float64()})
		v, _ := peak("", s.values(u))
		x, y = append(x, u), append(y, v+0.01*rng.NormFloat64())
	}
	for b.Loop() {
		if _, err := propose(s, x, y, nil, ConstantLiar, rand.New(rand.NewPCG(1, 1))); err != nil {
			b.Fatal(err)
		}
	}
}
