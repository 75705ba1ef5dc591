package miner

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
)

// BatchHard is PML's BatchHardMiner: BatchEasyHardMiner with hard positives
// and hard negatives, returned as triplets. Every anchor with a positive and
// a negative gives one triplet (its least similar positive, its most similar
// negative), anchors in ascending order; the others are dropped.
type BatchHard struct{ BatchEasyHard }

func newBatchHardMiner(p *config.Params) Miner {
	return &BatchHard{*newBatchEasyHard(p, Hard, Hard)}
}

// Mine implements Miner.
func (b *BatchHard) Mine(emb []float64, n, d int, labels []int) (*loss.Tuples, error) {
	return b.mine(selfQuery(emb, n, d, labels))
}

func (b *BatchHard) mine(q query) (*loss.Tuples, error) {
	pairs, err := b.BatchEasyHard.mine(q)
	if err != nil {
		return nil, err
	}
	return &loss.Tuples{Triplets: true, Anchor: pairs.A1, Positive: pairs.P, Negative: pairs.N}, nil
}
