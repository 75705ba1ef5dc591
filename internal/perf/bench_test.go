package perf

import (
	"testing"

	"github.com/bench-ml/bench/internal/nn"
)

// reference builds the reference model for batch images of side x side and
// a batch of random images.
func reference(tb testing.TB, side, batch int) (*nn.Model[float32], []float32) {
	trunk, embedder, err := ParseModels(ReferenceModels, "ReferenceModels")
	if err != nil {
		tb.Fatal(err)
	}
	m, x, err := build(Options{Trunk: trunk, Embedder: embedder, Input: []int{3, side, side}, Batch: batch})
	if err != nil {
		tb.Fatal(err)
	}
	return m, x
}

// The reference model's training step and embedding, for profiles (run
// with -cpu 1,2 for the thread counts of the targets).
func BenchmarkReference(b *testing.B) {
	for _, mode := range []string{"train", "embed"} {
		b.Run(mode, func(b *testing.B) {
			m, x := reference(b, 32, 32)
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
