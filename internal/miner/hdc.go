package miner

import (
	"cmp"
	"math"
	"slices"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
)

// HDC is PML's HDCMiner, the mining of Hard-Aware Deeply Cascaded
// Embeddings: of the batch's positive pairs it keeps the
// ceil(FilterPercentage * count) farthest, of its negative pairs as many
// of the closest (for a similarity: the least and the most similar), each
// kind hardest first, as torch.topk lists them.
type HDC struct {
	FilterPercentage float64
	Distance         loss.Distance
}

func newHDCMiner(p *config.Params) Miner {
	return &HDC{
		// Beyond [0, 1] PML's topk is asked for a negative count or more
		// pairs than there are, and raises.
		FilterPercentage: p.Float("filter_percentage", 0.5, config.Min(0), config.Max(1)),
		Distance:         config.BuildNested(p, loss.Distances, "distance", defaultDistance),
	}
}

// Mine implements Miner.
func (h *HDC) Mine(emb []float64, n, d int, labels []int) (*loss.Tuples, error) {
	return h.mine(selfQuery(emb, n, d, labels))
}

func (h *HDC) mine(q query) (*loss.Tuples, error) {
	return h.tuples(distances(h.Distance, q)), nil
}

func (h *HDC) tuples(m mat) *loss.Tuples {
	t := m.allPairs()
	// The hardest positives are far (dissimilar), the hardest negatives near.
	t.A1, t.P = h.hardest(m, t.A1, t.P, !m.inverted)
	t.A2, t.N = h.hardest(m, t.A2, t.N, m.inverted)
	return t
}

// hardest keeps the pairs (a[i], b[i]) with the ceil(FilterPercentage *
// len(a)) largest (or smallest) matrix values, in that order. Equal values
// keep the pairs' row-major order: torch.topk leaves their order open, and
// a symmetric matrix has every value twice.
func (h *HDC) hardest(m mat, a, b []int, largest bool) ([]int, []int) {
	if len(a) == 0 {
		return a, b
	}
	k := int(math.Ceil(h.FilterPercentage * float64(len(a))))
	order := make([]int, len(a))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		c := cmp.Compare(m.at(a[i], b[i]), m.at(a[j], b[j]))
		if largest {
			return -c
		}
		return c
	})
	ka, kb := make([]int, k), make([]int, k)
	for r, i := range order[:k] {
		ka[r], kb[r] = a[i], b[i]
	}
	return ka, kb
}
