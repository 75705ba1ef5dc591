// Package miner holds the tuple miners of pytorch-metric-learning (PML
// 2.8.1): each picks, per batch and without gradient, the pairs or triplets
// a loss is computed on.
package miner

import (
	"fmt"
	"math/rand/v2"

	"github.com/bench-ml/bench/internal/loss"
)

// Miner picks tuples of a batch.
type Miner interface {
	// Mine returns indices into the batch (emb row-major n x d); computed without gradient.
	Mine(emb []float64, n, d int, labels []int) (*loss.Tuples, error)
}

// Random is implemented by miners that sample. The registry gives them a
// generator with a fixed seed; a trainer hands them its own seeded one so
// that a run is reproducible from its seed and checkpointed RNG state.
type Random interface {
	SetRand(r *rand.Rand)
}

// mat is the pairwise distance matrix of a batch with itself, n x n
// row-major. inverted means larger values are more similar (a similarity),
// as PML's distance.is_inverted.
type mat struct {
	n        int
	v        []float64
	inverted bool
}

func (m mat) at(i, j int) float64 { return m.v[i*m.n+j] }

// base is PML's BaseMiner: it checks the batch before the miner mines it,
// so that no miner repeats the checks.
type base struct{ Miner }

func (b base) Mine(emb []float64, n, d int, labels []int) (*loss.Tuples, error) {
	if err := checkBatch(emb, n, d, labels); err != nil {
		return nil, err
	}
	return b.Miner.Mine(emb, n, d, labels)
}

// randomBase is base around a miner that samples.
type randomBase struct {
	base
	Random
}

// checkBatch validates the shapes Mine receives.
func checkBatch(emb []float64, n, d int, labels []int) error {
	switch {
	case n < 0 || d <= 0:
		return fmt.Errorf("miner: batch of %d x %d embeddings", n, d)
	case len(emb) != n*d:
		return fmt.Errorf("miner: %d embedding values for a %d x %d batch", len(emb), n, d)
	case len(labels) != n:
		return fmt.Errorf("miner: %d labels for %d embeddings", len(labels), n)
	}
	return nil
}

// distances computes the batch's matrix with dist.
func distances(dist loss.Distance, emb []float64, n, d int) mat {
	return mat{n: n, v: dist.Matrix(emb, n, emb, n, d), inverted: dist.Inverted()}
}

// keepTriplets lists the triplets of the batch for which keep is true, in
// PML's row-major order.
func keepTriplets(labels []int, keep func(a, p, n int) bool) *loss.Tuples {
	t := loss.AllTriplets(labels)
	kept := 0
	for i, a := range t.Anchor {
		if p, n := t.Positive[i], t.Negative[i]; keep(a, p, n) {
			t.Anchor[kept], t.Positive[kept], t.Negative[kept] = a, p, n
			kept++
		}
	}
	t.Anchor, t.Positive, t.Negative = t.Anchor[:kept], t.Positive[:kept], t.Negative[:kept]
	return t
}

// Indices returns the tuples keyed as PML's miner output and the golden
// files name them: anchor, positive, negative for triplets, a1, p, a2, n for
// pairs. Empty lists are non-nil, so that they print as [].
func Indices(t *loss.Tuples) map[string][]int {
	nonNil := func(s []int) []int {
		if s == nil {
			return []int{}
		}
		return s
	}
	if t.Triplets {
		return map[string][]int{"anchor": nonNil(t.Anchor), "positive": nonNil(t.Positive), "negative": nonNil(t.Negative)}
	}
	return map[string][]int{"a1": nonNil(t.A1), "p": nonNil(t.P), "a2": nonNil(t.A2), "n": nonNil(t.N)}
}
