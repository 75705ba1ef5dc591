package data

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/bench-ml/bench/internal/config"
)

// PML's FixedSetOfTriplets and HierarchicalSampler.

func init() {
	Samplers.Register("FixedSetOfTriplets", newFixedSetOfTriplets)
	Samplers.Register("HierarchicalSampler", newHierarchical)
}

// samplerError is a config error at the sampler's config.
func samplerError(p *config.Params, key string) func(format string, args ...any) error {
	where, source := p.Where(), p.Source(key)
	return func(format string, args ...any) error {
		return &config.Error{Source: source, Path: where, Msg: fmt.Sprintf(format, args...)}
	}
}

// byLabel groups indices by their dataset label at a level, the labels
// sorted.
func byLabel(ds Dataset, indices []int, level int) ([]int, [][]int) {
	groups := map[int][]int{}
	for _, i := range indices {
		l := ds.Label(i)
		if level > 0 {
			l = ds.(Hierarchical).LabelAt(level, i)
		}
		groups[l] = append(groups[l], i)
	}
	labels := make([]int, 0, len(groups))
	for l := range groups {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	out := make([][]int, len(labels))
	for k, l := range labels {
		out[k] = groups[l]
	}
	return labels, out
}

// safeChoice draws n of items, without replacement when there are enough,
// as PML's safe_random_choice.
func safeChoice(items []int, n int, rng *rand.Rand) []int {
	out := make([]int, n)
	if len(items) < n {
		for j := range out {
			out[j] = items[rng.IntN(len(items))]
		}
		return out
	}
	for j, k := range rng.Perm(len(items))[:n] {
		out[j] = items[k]
	}
	return out
}

// FixedSetOfTriplets is PML's FixedSetOfTriplets: num_triplets (anchor,
// positive, negative) triplets drawn once (two distinct classes; the anchor
// and positive distinct unless the class has one item), and each pass the
// triplets shuffled and flattened, cut into batches (the last partial one
// dropped, as PML's trainers do), so a batch may split a triplet, as in PML.
type FixedSetOfTriplets struct {
	flat       []int // the triplets, 3 indices each
	batch, len int
	seed       uint64
}

func newFixedSetOfTriplets(p *config.Params) SamplerFactory {
	n := p.Int("num_triplets", 0, config.Min(0))
	if n == 0 {
		p.Fail("num_triplets", "is required: the number of fixed triplets, e.g. 10000")
	}
	fail := samplerError(p, "num_triplets")
	return func(ds Dataset, indices []int, batchSize int, seed uint64) (Sampler, error) {
		_, classes := byLabel(ds, indices, 0)
		if len(classes) < 2 {
			return nil, fail("the training set has %d class, a triplet needs 2", len(classes))
		}
		if batchSize > 3*n {
			return nil, fail("%d triplets are %d items, fewer than batch_size %d", n, 3*n, batchSize)
		}
		rng := newRNG(seed, streamFixedTriplets)
		flat := make([]int, 0, 3*n)
		for range n {
			pair := rng.Perm(len(classes))[:2]
			ap := safeChoice(classes[pair[0]], 2, rng)
			neg := classes[pair[1]]
			flat = append(flat, ap[0], ap[1], neg[rng.IntN(len(neg))])
		}
		return &FixedSetOfTriplets{flat: flat, batch: batchSize, len: 3 * n / batchSize, seed: seed}, nil
	}
}

// Batch implements Sampler.
func (s *FixedSetOfTriplets) Batch(step int) []int {
	pass, k := step/s.len, step%s.len
	order := newRNG(s.seed, streamFixedTriplets, uint64(pass)+1).Perm(len(s.flat) / 3)
	batch := make([]int, s.batch)
	for j := range batch {
		at := k*s.batch + j
		batch[j] = s.flat[3*order[at/3]+at%3]
	}
	return batch
}

// Len implements Sampler.
func (s *FixedSetOfTriplets) Len() int { return s.len }

// HierarchicalSampler is PML's HierarchicalSampler, on a dataset with two levels
// of labels (SOP's classes and super-classes): each pass makes
// batches_per_super_tuple batches for every combination of
// super_classes_per_batch super-classes (outer_label); each super-class
// fills batch_size/super_classes_per_batch of the batch with
// samples_per_class items of each of its classes (inner_label) in random
// order; the batches come in random order. bench trains on batches of one
// size, so every super-class must have enough classes to fill its share.
type HierarchicalSampler struct {
	supers    [][][]int // supers[s][c]: indices of class c of super-class s
	combos    [][]int
	perCombo  int
	spc, sub  int
	batchSize int
	seed      uint64

	mu     sync.Mutex
	pass   int
	passes [][]int // the batches of pass
}

func newHierarchical(p *config.Params) SamplerFactory {
	spc := p.Int("samples_per_class", 0, config.Min(0))
	if spc == 0 {
		p.Fail("samples_per_class", "is required: the items of each class in a batch, e.g. 4 (\"all\" is not supported: it makes batches of varying size)")
	}
	perCombo := p.Int("batches_per_super_tuple", 4, config.Min(1))
	k := p.Int("super_classes_per_batch", 2, config.Min(1))
	inner := p.Int("inner_label", 0, config.Min(0))
	outer := p.Int("outer_label", 1, config.Min(0))
	var fixedBatch int
	if p.Has("batch_size") {
		fixedBatch = p.Int("batch_size", 0, config.Min(1))
	}
	fail := samplerError(p, "samples_per_class")
	return func(ds Dataset, indices []int, batchSize int, seed uint64) (Sampler, error) {
		switch {
		case fixedBatch != 0 && fixedBatch != batchSize:
			return nil, fail("batch_size %d differs from the trainer's batch_size %d", fixedBatch, batchSize)
		case batchSize%k != 0:
			return nil, fail("batch_size %d is not a multiple of super_classes_per_batch %d", batchSize, k)
		case (batchSize/k)%spc != 0:
			return nil, fail("batch_size / super_classes_per_batch = %d is not a multiple of samples_per_class %d", batchSize/k, spc)
		}
		h, ok := ds.(Hierarchical)
		if !ok || max(inner, outer) >= h.LabelLevels() {
			return nil, fail("inner_label %d and outer_label %d: the dataset has %d level(s) of labels", inner, outer, Levels(ds))
		}
		_, bySuper := byLabel(ds, indices, outer)
		s := &HierarchicalSampler{perCombo: perCombo, spc: spc, sub: batchSize / k, batchSize: batchSize, seed: seed, pass: -1}
		for _, items := range bySuper {
			groups := map[int][]int{}
			for _, i := range items {
				groups[h.LabelAt(inner, i)] = append(groups[h.LabelAt(inner, i)], i)
			}
			var classes [][]int
			for _, l := range slices.Sorted(maps.Keys(groups)) {
				classes = append(classes, groups[l])
			}
			if len(classes)*spc < s.sub {
				return nil, fail("a super-class of the training set has %d classes: %d items of each fill %d of the %d its share of a batch needs",
					len(classes), spc, len(classes)*spc, s.sub)
			}
			s.supers = append(s.supers, classes)
		}
		if len(s.supers) < k {
			return nil, fail("the training set has %d super-classes, fewer than super_classes_per_batch %d", len(s.supers), k)
		}
		s.combos = combinations(len(s.supers), k)
		return s, nil
	}
}

// combinations lists the k-subsets of 0..n-1 in itertools' order.
func combinations(n, k int) [][]int {
	var out [][]int
	c := make([]int, k)
	var rec func(start, depth int)
	rec = func(start, depth int) {
		if depth == k {
			out = append(out, slices.Clone(c))
			return
		}
		for i := start; i < n; i++ {
			c[depth] = i
			rec(i+1, depth+1)
		}
	}
	rec(0, 0)
	return out
}

// Batch implements Sampler. A pass's batches are drawn together, as PML's
// reshuffle does, and kept until a step of another pass asks.
func (s *HierarchicalSampler) Batch(step int) []int {
	pass, k := step/s.Len(), step%s.Len()
	s.mu.Lock()
	defer s.mu.Unlock()
	if pass != s.pass {
		s.pass, s.passes = pass, s.reshuffle(newRNG(s.seed, streamHierarchical, uint64(pass)))
	}
	return slices.Clone(s.passes[k])
}

func (s *HierarchicalSampler) reshuffle(rng *rand.Rand) [][]int {
	var batches [][]int
	for _, combo := range s.combos {
		for range s.perCombo {
			batch := make([]int, 0, s.batchSize)
			for _, sup := range combo {
				filled := 0
				for _, c := range rng.Perm(len(s.supers[sup])) {
					if filled == s.sub {
						break
					}
					batch = append(batch, safeChoice(s.supers[sup][c], s.spc, rng)...)
					filled += s.spc
				}
			}
			rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
			batches = append(batches, batch)
		}
	}
	rng.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
	return batches
}

// Len implements Sampler.
func (s *HierarchicalSampler) Len() int { return len(s.combos) * s.perCombo }
