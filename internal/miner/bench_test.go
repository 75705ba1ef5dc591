package miner

import (
	"fmt"
	"testing"
)

// BenchmarkMine mines a batch of 4 images per class, as MPerClassSampler
// gives, at a small and a large batch size.
func BenchmarkMine(b *testing.B) {
	for _, name := range Miners.Names() {
		for _, n := range []int{32, 256} {
			const d = 128
			emb, labels := testBatch(n, d, 4)
			b.Run(fmt.Sprintf("%s/%dx%d", name, n, d), func(b *testing.B) {
				m := buildDefault(b, name)
				for b.Loop() {
					if _, err := m.Mine(emb, n, d, labels); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
