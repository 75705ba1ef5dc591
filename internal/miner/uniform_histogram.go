package miner

import (
	"fmt"
	"math/rand/v2"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
)

// UniformHistogram is PML's UniformHistogramMiner: the values of the
// batch's positive pairs are cut into NumBins equal bins between their
// least and largest, and PosPerBin pairs are drawn uniformly, with
// replacement, from each bin that has any, so that the mined pairs cover
// the range of distances evenly however the pairs crowd; the negative
// pairs likewise, NegPerBin per bin. Pairs come bin by bin, in draw order.
type UniformHistogram struct {
	NumBins, PosPerBin, NegPerBin int
	Distance                      loss.Distance
	rng                           *rand.Rand
}

func newUniformHistogramMiner(p *config.Params) Miner {
	u := &UniformHistogram{
		NumBins:   p.Int("num_bins", 100, config.Min(1)),
		PosPerBin: p.Int("pos_per_bin", 10, config.Min(1)),
		NegPerBin: p.Int("neg_per_bin", 10, config.Min(1)),
		Distance:  config.BuildNested(p, loss.Distances, "distance", defaultDistance),
	}
	u.SetRand(fixedRand())
	return u
}

// Fresh implements config.Stateful.
func (u UniformHistogram) Fresh() Miner {
	u.SetRand(fixedRand())
	return &u
}

// SetRand implements Random.
func (u *UniformHistogram) SetRand(r *rand.Rand) { u.rng = r }

// Mine implements Miner.
func (u *UniformHistogram) Mine(emb []float64, n, d int, labels []int) (*loss.Tuples, error) {
	return u.mine(selfQuery(emb, n, d, labels))
}

func (u *UniformHistogram) mine(q query) (*loss.Tuples, error) {
	if u.rng == nil {
		return nil, fmt.Errorf("UniformHistogramMiner: no random generator; call SetRand")
	}
	m := distances(u.Distance, q)
	t := m.allPairs()
	t.A1, t.P = u.uniform(m, t.A1, t.P, u.PosPerBin)
	t.A2, t.N = u.uniform(m, t.A2, t.N, u.NegPerBin)
	return t, nil
}

// uniform draws perBin of the pairs (a[k], b[k]) from each non-empty bin.
func (u *UniformHistogram) uniform(m mat, a, b []int, perBin int) ([]int, []int) {
	if len(a) == 0 {
		return a, b
	}
	v := make([]float64, len(a))
	for k := range a {
		v[k] = m.at(a[k], b[k])
	}
	edges := linspace(v, u.NumBins+1)
	var ka, kb []int
	for i := range u.NumBins {
		last := i == u.NumBins-1
		var in []int
		for k, x := range v {
			// Bins are [s, e), the last [s, e], as PML's filter_by_bin.
			if edges[i] <= x && (x < edges[i+1] || last && x <= edges[i+1]) {
				in = append(in, k)
			}
		}
		if len(in) == 0 {
			continue
		}
		for range perBin {
			k := in[u.rng.IntN(len(in))]
			ka, kb = append(ka, a[k]), append(kb, b[k])
		}
	}
	return ka, kb
}

// linspace is torch.linspace(min(v), max(v), steps): from both ends
// inwards, so that the last edge is the largest value exactly and it
// falls in the last bin.
func linspace(v []float64, steps int) []float64 {
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	step := (hi - lo) / float64(steps-1)
	edges := make([]float64, steps)
	for i := range edges {
		if i < steps/2 {
			edges[i] = lo + float64(i)*step
		} else {
			edges[i] = hi - float64(steps-1-i)*step
		}
	}
	return edges
}
