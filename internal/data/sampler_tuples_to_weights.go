package data

import (
	"fmt"
	"math"
	"sort"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/miner"
)

// EpochSampler is a sampler that the training loop prepares at the start
// of every epoch, before any of its batches, with the model being trained.
type EpochSampler interface {
	Sampler
	// StartEpoch prepares the batches of epoch (from 1). embed returns the
	// embeddings (len(items) x d, row-major) of dataset items by the
	// current model.
	StartEpoch(epoch int, embed func(items []int) (emb []float64, d int, err error)) error
}

// TuplesToWeights is PML's TuplesToWeightsSampler: at the start of each
// epoch it embeds the training set (or subset_size items of it drawn
// without replacement) with the model being trained, L2-normalised as
// PML's tester does, mines the embeddings with miner, and weighs each item
// by how often it appears in the tuples, relative to the most frequent
// (PML's convert_to_weights; every item 1 when there are no tuples, 0 for
// items outside the subset). Each batch is then batch_size items drawn
// with replacement in proportion to the weights, and a pass is subset_size
// (default: the training set's size) items, whole batches.
//
// PML re-mines when its pass runs out, which is each epoch when
// iterations_per_epoch is null; here it is each epoch always. PML embeds
// through the training dataset's transforms; here through the eval
// transforms, so that the weights depend on the model alone. The draws are
// a pure function of (seed, epoch, step) and the model.
type TuplesToWeights struct {
	miner   miner.Miner
	ds      Dataset
	indices []int // the training set
	subset  int   // 0: the whole training set
	batch   int
	seed    uint64
	items   []int     // the epoch's weighted items
	cum     []float64 // their cumulative weights
}

func newTuplesToWeights(p *config.Params) SamplerFactory {
	if !p.Has("miner") {
		p.Fail("miner", "is required: the miner whose tuples weigh the training items")
		return nil
	}
	decoded := config.BuildNested(p, miner.Miners, "miner", config.Component{})
	subset := 0
	if v := p.NullableInt("subset_size", 0, config.Min(0)); v != nil {
		subset = *v
	}
	fail := samplerError(p, "subset_size")
	return func(ds Dataset, indices []int, batchSize int, seed uint64) (Sampler, error) {
		m := config.Instance(decoded)
		n := len(indices)
		if subset > 0 {
			if subset > n {
				return nil, fail("subset_size %d is more than the %d items of the training set", subset, n)
			}
			n = subset
		}
		if batchSize < 1 || batchSize > n {
			return nil, fail("batch_size %d: a pass has %d items", batchSize, n)
		}
		return &TuplesToWeights{miner: m, ds: ds, indices: indices, subset: subset, batch: batchSize, seed: seed}, nil
	}
}

// StartEpoch implements EpochSampler.
func (s *TuplesToWeights) StartEpoch(epoch int, embed func([]int) ([]float64, int, error)) error {
	items := s.indices
	if s.subset > 0 {
		items = safeChoice(s.indices, s.subset, newRNG(s.seed, streamTuplesToWeights, uint64(epoch), 0))
	}
	emb, d, err := embed(items)
	if err != nil {
		return err
	}
	normalizeRows(emb, d)
	if r, ok := s.miner.(miner.Random); ok {
		r.SetRand(newRNG(s.seed, streamTuplesToWeights, uint64(epoch), 1))
	}
	labels := make([]int, len(items))
	for k, i := range items {
		labels[k] = s.ds.Label(i)
	}
	tuples, err := s.miner.Mine(emb, len(items), d, labels)
	if err != nil {
		return fmt.Errorf("TuplesToWeightsSampler: %w", err)
	}
	s.items = items
	s.cum = make([]float64, len(items))
	total := 0.0
	for k, w := range tupleWeights(tuples, len(items)) {
		total += w
		s.cum[k] = total
	}
	return nil
}

// tupleWeights is PML's convert_to_weights: each of n items weighed by
// its count in the tuples over the largest count; all 1 without tuples.
func tupleWeights(t *loss.Tuples, n int) []float64 {
	w := make([]float64, n)
	most := 0.0
	for _, idx := range [][]int{t.A1, t.P, t.A2, t.N, t.Anchor, t.Positive, t.Negative} {
		for _, i := range idx {
			w[i]++
			most = max(most, w[i])
		}
	}
	for i := range w {
		if most == 0 {
			w[i] = 1
		} else {
			w[i] /= most
		}
	}
	return w
}

// normalizeRows scales each d-wide row of x to unit L2 norm (rows of 0
// stay 0), as PML's tester normalises embeddings.
func normalizeRows(x []float64, d int) {
	for r := 0; r+d <= len(x); r += d {
		s := 0.0
		for _, v := range x[r : r+d] {
			s += v * v
		}
		if s == 0 {
			continue
		}
		inv := 1 / math.Sqrt(s)
		for k := r; k < r+d; k++ {
			x[k] *= inv
		}
	}
}

// Batch implements Sampler: batch_size draws with replacement, in
// proportion to the epoch's weights.
func (s *TuplesToWeights) Batch(step int) []int {
	rng := newRNG(s.seed, streamTuplesToWeights, uint64(step), 2)
	total := s.cum[len(s.cum)-1]
	batch := make([]int, s.batch)
	for j := range batch {
		u := rng.Float64() * total
		k := sort.Search(len(s.cum), func(k int) bool { return s.cum[k] > u })
		if k == len(s.cum) { // u rounded up to total: the last item of positive weight
			k = sort.Search(len(s.cum), func(k int) bool { return s.cum[k] >= total })
		}
		batch[j] = s.items[k]
	}
	return batch
}

// Len implements Sampler: whole batches of a pass.
func (s *TuplesToWeights) Len() int {
	if s.subset > 0 {
		return s.subset / s.batch
	}
	return len(s.indices) / s.batch
}
