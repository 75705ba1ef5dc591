package data

import (
	"fmt"
	"slices"

	"github.com/bench-ml/bench/internal/config"
)

// Sampler chooses the items of each training batch. Batch(step) is a pure
// function of the seed and the step (and, for an EpochSampler, of the model
// at the epoch's start), so a checkpoint needs only the step.
type Sampler interface {
	// Batch returns the dataset indices of batch number step (from 0).
	Batch(step int) []int
	// Len is the number of batches in one pass, PML's
	// len(sampler) / batch_size: an epoch when iterations_per_epoch is unset.
	Len() int
}

// SamplerFactory binds a configured sampler to a training set: the dataset
// indices to draw from, with their labels, the batch size and the run's seed.
type SamplerFactory func(ds Dataset, indices []int, batchSize int, seed uint64) (Sampler, error)

// MPerClass is PML's MPerClassSampler: every batch holds M items of each of
// batchSize/M classes, the classes drawn without replacement, and the items
// of a class without replacement unless it has fewer than M (then with
// replacement, as PML's safe_random_choice). A pass is
// length_before_new_iter items, by default the training set's size as
// powerful_benchmarker passes it ("dataset_length" in its older configs),
// rounded down to whole rounds of M items of every class as PML does when
// the sampler is not given the batch size (powerful_benchmarker does not).
type MPerClass struct {
	classes  [][]int // dataset indices of each class
	m, batch int
	batches  int
	seed     uint64
}

func newMPerClass(p *config.Params) SamplerFactory {
	m := p.Int("m", 4, config.Min(1))
	length := p.CountOr("length_before_new_iter", "dataset_length") // 0: the training set's size
	where, source := p.Where(), p.Source("m")
	fail := func(format string, args ...any) error {
		return &config.Error{Source: source, Path: where, Msg: fmt.Sprintf(format, args...)}
	}
	return func(ds Dataset, indices []int, batchSize int, seed uint64) (Sampler, error) {
		byLabel := map[int][]int{}
		for _, i := range indices {
			byLabel[ds.Label(i)] = append(byLabel[ds.Label(i)], i)
		}
		labels := make([]int, 0, len(byLabel))
		for l := range byLabel {
			labels = append(labels, l)
		}
		slices.Sort(labels)
		s := &MPerClass{m: m, batch: batchSize, seed: seed}
		for _, l := range labels {
			s.classes = append(s.classes, byLabel[l])
		}
		switch {
		case batchSize < 1 || batchSize%m != 0:
			return nil, fail("batch_size %d must be a positive multiple of m (%d)", batchSize, m)
		case m*len(labels) < batchSize:
			return nil, fail("m (%d) times the %d classes of the training set is less than batch_size %d", m, len(labels), batchSize)
		}
		n := length
		if n == 0 {
			n = len(indices)
		}
		if round := m * len(labels); round < n {
			n -= n % round
		}
		if n < batchSize {
			return nil, fail("length_before_new_iter %d (rounded to whole rounds of m items per class: %d) is less than batch_size %d", length, n, batchSize)
		}
		s.batches = n / batchSize
		return s, nil
	}
}

// Batch implements Sampler.
func (s *MPerClass) Batch(step int) []int {
	rng := newRNG(s.seed, streamSampler, uint64(step))
	batch := make([]int, 0, s.batch)
	var scratch []int
	for _, c := range rng.Perm(len(s.classes))[:s.batch/s.m] {
		items := s.classes[c]
		if len(items) < s.m {
			for range s.m {
				batch = append(batch, items[rng.IntN(len(items))])
			}
			continue
		}
		// A partial Fisher-Yates shuffle of a copy: m distinct items.
		scratch = append(scratch[:0], items...)
		for j := range s.m {
			k := j + rng.IntN(len(scratch)-j)
			scratch[j], scratch[k] = scratch[k], scratch[j]
		}
		batch = append(batch, scratch[:s.m]...)
	}
	return batch
}

// Len implements Sampler.
func (s *MPerClass) Len() int { return s.batches }
