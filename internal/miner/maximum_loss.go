package miner

import (
	"fmt"
	"math/rand/v2"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
)

// SubsetMiner picks the items of a batch that the training step uses, from
// their embeddings computed in eval mode without gradient: PML's
// BaseSubsetBatchMiner, the trainers' mining_funcs.subset_batch_miner.
type SubsetMiner interface {
	// Subset returns OutputBatchSize() distinct indices into the batch
	// (emb row-major n x d).
	Subset(emb []float64, n, d int, labels []int) ([]int, error)
	// OutputBatchSize is the size of the subset: the training step's batch.
	OutputBatchSize() int
}

// SubsetMiners maps PML's subset batch miners to their constructors.
var SubsetMiners = config.NewRegistry[SubsetMiner]("subset batch miner")

func init() {
	SubsetMiners.Register("MaximumLossMiner", newMaximumLossMiner)
}

// MaximumLoss is PML's MaximumLossMiner: num_trials random subsets of
// output_batch_size items, drawn without replacement, and the one whose
// loss (on the inner miner's tuples, all tuples without one) is largest.
type MaximumLoss struct {
	Loss            loss.Loss
	Miner           Miner // nil: all tuples
	NumTrials       int
	outputBatchSize int
	rng             *rand.Rand
}

func newMaximumLossMiner(p *config.Params) SubsetMiner {
	m := &MaximumLoss{NumTrials: p.Int("num_trials", 5, config.Min(1))}
	if p.Has("output_batch_size") {
		m.outputBatchSize = p.Int("output_batch_size", 0, config.Min(2))
	} else {
		p.Fail("output_batch_size", "is required: the size of the subset the training step uses")
	}
	if !p.Has("loss") {
		p.Fail("loss", "is required: the loss the subsets are compared by, e.g. {TripletMarginLoss: {margin: 0.1}}")
		return m
	}
	m.Loss = config.BuildNested(p, loss.Losses, "loss", config.Component{})
	if _, ok := m.Loss.(loss.Shaped); ok {
		p.Fail("loss", "has per-class weights, which the miner would draw at random and never train; use a loss without weights")
	}
	if p.Has("miner") {
		m.Miner = config.BuildNested(p, Miners, "miner", config.Component{})
	}
	m.SetRand(fixedRand())
	return m
}

// Fresh implements config.Stateful: the copy's loss, inner miner and
// stream are its own.
func (m MaximumLoss) Fresh() SubsetMiner {
	m.Loss, m.Miner = config.Instance(m.Loss), config.Instance(m.Miner)
	m.SetRand(fixedRand())
	return &m
}

// SetRand implements Random; the inner miner, when it samples, shares r.
func (m *MaximumLoss) SetRand(r *rand.Rand) {
	m.rng = r
	if inner, ok := m.Miner.(Random); ok {
		inner.SetRand(r)
	}
}

// OutputBatchSize implements SubsetMiner.
func (m *MaximumLoss) OutputBatchSize() int { return m.outputBatchSize }

// Subset implements SubsetMiner. The first of equal losses wins, as
// numpy's argmax.
func (m *MaximumLoss) Subset(emb []float64, n, d int, labels []int) ([]int, error) {
	if err := checkBatch(emb, n, d, labels); err != nil {
		return nil, err
	}
	k := m.outputBatchSize
	if k > n {
		return nil, fmt.Errorf("MaximumLossMiner: output_batch_size %d is larger than the batch, %d", k, n)
	}
	var best []int
	bestLoss := 0.0
	sub, subLabels := make([]float64, k*d), make([]int, k)
	for range m.NumTrials {
		idx := m.rng.Perm(n)[:k]
		for j, i := range idx {
			copy(sub[j*d:(j+1)*d], emb[i*d:(i+1)*d])
			subLabels[j] = labels[i]
		}
		var tuples *loss.Tuples
		if m.Miner != nil {
			var err error
			if tuples, err = m.Miner.Mine(sub, k, d, subLabels); err != nil {
				return nil, err
			}
		}
		v, _, err := m.Loss.Compute(sub, k, d, subLabels, tuples)
		if err != nil {
			return nil, fmt.Errorf("MaximumLossMiner: %w", err)
		}
		if best == nil || v > bestLoss {
			best, bestLoss = idx, v
		}
	}
	return best, nil
}
