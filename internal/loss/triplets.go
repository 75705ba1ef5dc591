package loss

import (
	"math/rand/v2"
	"sort"

	"github.com/bench-ml/bench/internal/config"
)

// tripletSampler picks the triplets of a triplet loss without a miner:
// every triplet, or PML's triplets_per_anchor random ones per anchor.
type tripletSampler struct {
	perAnchor int // 0: all
	rng       *rand.Rand
}

// readTripletSampler reads triplets_per_anchor: "all" (PML's default) or a
// count.
func readTripletSampler(p *config.Params) tripletSampler {
	k := p.CountOr("triplets_per_anchor", "all")
	if k == 0 {
		return tripletSampler{}
	}
	return tripletSampler{perAnchor: k, rng: samplerRand()}
}

// samplerRand is a sampler's stream until a trainer hands it the fold's
// (Randomized): a fixed seed keeps other uses reproducible; the sequence
// advances per batch.
func samplerRand() *rand.Rand { return rand.New(rand.NewPCG(0, 0)) }

// fresh returns the sampler with a stream of its own, from the start.
func (s tripletSampler) fresh() tripletSampler {
	if s.rng != nil {
		s.rng = samplerRand()
	}
	return s
}

// triplets returns the triplet form of the batch's tuples.
func (s tripletSampler) triplets(b *batch) (a, p, n []int) {
	if b.tuples != nil || s.perAnchor == 0 {
		return b.tuples.AsTriplets(b.labels)
	}
	return randomTriplets(b.labels, s.perAnchor, s.rng)
}

// randomTriplets is PML's get_random_triplet_indices: for each label with at
// least two elements and some other label, k triplets per anchor with a
// positive drawn among the anchor's other same-label elements and a negative
// among the other labels, uniformly.
func randomTriplets(labels []int, k int, rng *rand.Rand) (a, p, n []int) {
	byLabel := map[int][]int{}
	for i, l := range labels {
		byLabel[l] = append(byLabel[l], i)
	}
	unique := make([]int, 0, len(byLabel))
	for l := range byLabel {
		unique = append(unique, l)
	}
	sort.Ints(unique)
	for _, l := range unique {
		same := byLabel[l]
		var others []int
		for i, m := range labels {
			if m != l {
				others = append(others, i)
			}
		}
		if len(same) < 2 || len(others) == 0 {
			continue
		}
		for ai, anchor := range same {
			for range k {
				pi := rng.IntN(len(same) - 1)
				if pi >= ai {
					pi++ // skip the anchor itself
				}
				a, p, n = append(a, anchor), append(p, same[pi]), append(n, others[rng.IntN(len(others))])
			}
		}
	}
	return a, p, n
}
