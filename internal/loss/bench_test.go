package loss

import (
	"math/rand/v2"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// BenchmarkCompute times one Compute on the batch the trainer uses most:
// 32 embeddings of 128 dimensions, 8 classes of 4.
func BenchmarkCompute(b *testing.B) {
	const n, d, classes = 32, 128, 8
	rng := rand.New(rand.NewPCG(1, 2))
	emb := make([]float64, n*d)
	for i := range emb {
		emb[i] = rng.NormFloat64()
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % classes
	}
	for _, name := range []string{"ContrastiveLoss", "TripletMarginLoss", "MultiSimilarityLoss", "NTXentLoss",
		"SupConLoss", "CircleLoss", "FastAPLoss", "ProxyAnchorLoss", "ArcFaceLoss", "SoftTripleLoss"} {
		l, _, err := Losses.Build(config.C(name, map[string]any{}))
		if err != nil {
			b.Fatal(err)
		}
		if s, ok := l.(Shaped); ok {
			if err := s.SetShape(classes, d); err != nil {
				b.Fatal(err)
			}
			s.InitWeights(rng)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := l.Compute(emb, n, d, labels, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
