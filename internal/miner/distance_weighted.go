package miner

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
)

// DistanceWeighted is PML's DistanceWeightedMiner (Wu et al., "Sampling
// matters in deep embedding learning", 2017): negatives are sampled with
// probability proportional to the inverse of the density of distances
// between points on the unit sphere, q(d) ∝ d^(D-2) (1 - d²/4)^((D-3)/2),
// with d clamped below at Cutoff and pairs at d >= NonzeroLossCutoff never
// chosen.
//
// Triplets are drawn as PML's get_random_triplet_indices: for each label in
// ascending order with at least two members and a negative in the batch,
// each member in index order is the anchor of as many triplets as the label
// has members, each with a uniformly drawn positive and a weighted negative;
// an anchor whose weights are all zero gives none.
type DistanceWeighted struct {
	Cutoff, NonzeroLossCutoff float64
	Distance                  loss.Distance
	rng                       *rand.Rand
}

func newDistanceWeightedMiner(p *config.Params) Miner {
	dw := &DistanceWeighted{
		Cutoff:            p.Float("cutoff", 0.5),
		NonzeroLossCutoff: p.Float("nonzero_loss_cutoff", 1.4),
	}
	dw.Distance = requireUnitL2(p)
	dw.SetRand(fixedRand())
	return dw
}

// Fresh implements config.Stateful.
func (dw DistanceWeighted) Fresh() Miner {
	dw.SetRand(fixedRand())
	return &dw
}

// SetRand implements Random.
func (dw *DistanceWeighted) SetRand(r *rand.Rand) { dw.rng = r }

// Mine implements Miner.
func (dw *DistanceWeighted) Mine(emb []float64, n, d int, labels []int) (*loss.Tuples, error) {
	return dw.mine(selfQuery(emb, n, d, labels))
}

func (dw *DistanceWeighted) mine(q query) (*loss.Tuples, error) {
	if dw.rng == nil {
		return nil, fmt.Errorf("DistanceWeightedMiner: no random generator; call SetRand")
	}
	m := distances(dw.Distance, q)
	return sampleTriplets(m, dw.weights(m), dw.rng), nil
}

// weights returns the unnormalised sampling weight of every pair (i, j),
// zero for same-label pairs; the sampler normalises each row.
func (dw *DistanceWeighted) weights(m mat) []float64 {
	dim := float64(m.d)
	logW := make([]float64, len(m.v))
	maxLog := math.Inf(-1)
	for i := range m.rows {
		for j := range m.cols {
			k := i*m.cols + j
			x := max(m.v[k], dw.Cutoff)
			lw := (2-dim)*math.Log(x) - (dim-3)/2*math.Log(1-0.25*x*x)
			if math.IsInf(lw, 0) || math.IsNaN(lw) {
				logW[k] = math.Inf(-1)
				continue
			}
			same := m.labels[i] == m.refLabels[j]
			if same {
				// PML zeroes same-label log weights before taking the
				// maximum it subtracts, so they take part in it as 0.
				lw = 0
			}
			maxLog = max(maxLog, lw)
			if same || x >= dw.NonzeroLossCutoff {
				lw = math.Inf(-1)
			}
			logW[k] = lw
		}
	}
	for k, lw := range logW {
		logW[k] = 0
		if !math.IsInf(lw, -1) {
			logW[k] = math.Exp(lw - maxLog)
		}
	}
	return logW
}

// sampleTriplets draws triplets as PML's get_random_triplet_indices with
// negative weights w (rows x cols of m): see DistanceWeighted. Against
// references, each anchor draws as many triplets as its label has
// references, the positive among all of them (its own row included).
func sampleTriplets(m mat, w []float64, rng *rand.Rand) *loss.Tuples {
	t := &loss.Tuples{Triplets: true}
	cum := make([]float64, 0, m.cols)
	minPositives := 1
	if m.self {
		minPositives = 2 // a member other than the anchor
	}
	for _, c := range slices.Compact(slices.Sorted(slices.Values(m.labels))) {
		var anchors, positives, negatives []int
		for i, l := range m.labels {
			if l == c {
				anchors = append(anchors, i)
			}
		}
		for j, l := range m.refLabels {
			if l == c {
				positives = append(positives, j)
			} else {
				negatives = append(negatives, j)
			}
		}
		if len(positives) < minPositives || len(negatives) == 0 {
			continue
		}
		for ia, a := range anchors {
			cum = cum[:0]
			total := 0.0
			for _, j := range negatives {
				total += w[a*m.cols+j]
				cum = append(cum, total)
			}
			if total == 0 {
				continue
			}
			for range len(positives) {
				var q int
				if m.self { // anchors are the positives: skip the anchor's own
					if q = rng.IntN(len(positives) - 1); q >= ia {
						q++
					}
				} else {
					q = rng.IntN(len(positives))
				}
				t.Anchor = append(t.Anchor, a)
				t.Positive = append(t.Positive, positives[q])
				t.Negative = append(t.Negative, negatives[weightedIndex(cum, rng)])
			}
		}
	}
	return t
}

// weightedIndex draws i with probability proportional to the weight whose
// cumulative sums are cum (cum[len-1] > 0).
func weightedIndex(cum []float64, rng *rand.Rand) int {
	total := cum[len(cum)-1]
	u := rng.Float64() * total
	if i := sort.Search(len(cum), func(i int) bool { return cum[i] > u }); i < len(cum) {
		return i
	}
	// u rounded up to total: the last index with a positive weight.
	return sort.Search(len(cum), func(i int) bool { return cum[i] >= total })
}
