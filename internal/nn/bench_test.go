package nn

import (
	"fmt"
	"math/rand"
	"testing"
)

// benchModel is the default ConvNet [32, 64, 128] with MLP [128], batch 32.
func benchModel(b *testing.B, side int) *Model[float32] {
	m, err := New(Config{
		Trunk:      component(b, Trunks, "ConvNet", nil),
		Embedder:   component(b, Embedders, "MLP", nil),
		InputShape: []int{1, side, side},
		BatchSize:  32,
		Seed:       1,
	})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkTrainStep(b *testing.B) {
	for _, side := range []int{28, 32} {
		b.Run(fmt.Sprintf("1x%dx%d", side, side), func(b *testing.B) {
			m := benchModel(b, side)
			x := randomInput[float32](rand.New(rand.NewSource(1)), 32*m.InputSize())
			loss := func(out Outputs[float32]) (Grads[float32], error) { return Grads[float32]{Emb: out.Emb}, nil }
			b.ResetTimer()
			for range b.N {
				if err := m.TrainStep(x, loss); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(32*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

func BenchmarkEmbed(b *testing.B) {
	for _, side := range []int{28, 32} {
		b.Run(fmt.Sprintf("1x%dx%d", side, side), func(b *testing.B) {
			m := benchModel(b, side)
			const n = 256
			x := randomInput[float32](rand.New(rand.NewSource(1)), n*m.InputSize())
			b.ResetTimer()
			for range b.N {
				if _, err := m.Embed(x, n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkZoo times powerful_benchmarker's default trunk at its input
// size: the forward pass (what the feature cache costs per image) and a
// fine-tuning step (train-mode BatchNorm, 128-d embedder), batch 16 to
// keep the training graph's memory to a few GB.
// -short leaves it out: it takes minutes.
func BenchmarkZoo(b *testing.B) {
	if testing.Short() {
		b.Skip("-short: minutes per run")
	}
	const batch = 16
	m, err := New(Config{
		Trunk:      component(b, Trunks, "bninception", nil),
		Embedder:   component(b, Embedders, "MLP", nil),
		InputShape: []int{3, 227, 227},
		BatchSize:  batch,
		Seed:       1,
	})
	if err != nil {
		b.Fatal(err)
	}
	x := randomInput[float32](rand.New(rand.NewSource(1)), batch*m.InputSize())
	b.Run("bninception/embed/227", func(b *testing.B) {
		for range b.N {
			if _, err := m.EmbedTrunk(x, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
	})
	b.Run("bninception/train/227", func(b *testing.B) {
		loss := func(out Outputs[float32]) (Grads[float32], error) { return Grads[float32]{Emb: out.Emb}, nil }
		for range b.N {
			if err := m.TrainStep(x, loss); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
	})
}
