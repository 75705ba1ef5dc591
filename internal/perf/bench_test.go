package perf

import (
	"math/rand"
	"testing"

	"github.com/bench-ml/bench/internal/nn"
)

// The reference model's training step and embedding, for profiles (run
// with -cpu 1,2 for the thread counts of the targets).
func BenchmarkReference(b *testing.B) {
	trunk, embedder, err := ParseModels(ReferenceModels, "ReferenceModels")
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"train", "embed"} {
		b.Run(mode, func(b *testing.B) {
			m, err := nn.New(nn.Config{Trunk: trunk, Embedder: embedder, InputShape: []int{3, 32, 32}, BatchSize: 32, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewSource(1))
			x := make([]float32, 32*m.InputSize())
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			step, err := stepper(m, x, mode == "train")
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := step(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(32*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
