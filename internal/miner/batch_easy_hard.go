package miner

import (
	"fmt"
	"math"
	"slices"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
)

// Mining strategies of BatchEasyHardMiner.
const (
	Hard     = "hard"
	Semihard = "semihard"
	Easy     = "easy"
	All      = "all"
)

// BatchEasyHard is PML's BatchEasyHardMiner: per anchor one positive and one
// negative chosen by strategy, returned as pairs (a, p, a, n).
//
// Positive: easy = most similar, hard = least similar, semihard = least
// similar of those more similar than the chosen negative. Negative: hard =
// most similar, easy = least similar, semihard = most similar of those less
// similar than the chosen positive. "all" keeps every pair of that kind. An
// anchor is kept only when both sides found one (a side with "all" keeps
// its pairs regardless). A range, when set, restricts the candidates to
// low <= distance <= high.
type BatchEasyHard struct {
	PosStrategy, NegStrategy         string
	AllowedPosRange, AllowedNegRange []float64 // nil, or [low, high]
	Distance                         loss.Distance
}

var strategies = []string{Hard, Semihard, Easy, All}

// newBatchEasyHard reads the parameters BatchEasyHardMiner and
// BatchHardMiner share; BatchHardMiner fixes both strategies to hard.
func newBatchEasyHard(p *config.Params, pos, neg string) *BatchEasyHard {
	b := &BatchEasyHard{PosStrategy: pos, NegStrategy: neg}
	b.AllowedPosRange = allowedRange(p, "allowed_pos_range")
	b.AllowedNegRange = allowedRange(p, "allowed_neg_range")
	b.Distance = config.BuildNested(p, loss.Distances, "distance", defaultDistance)
	return b
}

func newBatchEasyHardMiner(p *config.Params) Miner {
	pos := p.String("pos_strategy", Easy, strategies...)
	neg := p.String("neg_strategy", Semihard, strategies...)
	if msg := badStrategies(pos, neg); msg != "" {
		p.Fail("neg_strategy", "%s", msg)
	}
	return newBatchEasyHard(p, pos, neg)
}

// badStrategies reports the combinations PML rejects, or "".
func badStrategies(pos, neg string) string {
	switch {
	case !slices.Contains(strategies, pos) || !slices.Contains(strategies, neg):
		return fmt.Sprintf("strategies must be one of %v, got %q and %q", strategies, pos, neg)
	case pos == Semihard && neg == Semihard:
		return `pos_strategy and neg_strategy cannot both be "semihard"`
	case pos == Semihard && neg == All || pos == All && neg == Semihard:
		return `"semihard" cannot be used in combination with "all"`
	}
	return ""
}

// allowedRange reads an optional [low, high]; an empty list, like an absent
// one, means no restriction.
func allowedRange(p *config.Params, key string) []float64 {
	r := p.Floats(key, nil)
	switch {
	case len(r) == 0:
		return nil
	case len(r) != 2:
		p.Fail(key, "want [low, high], got %d numbers", len(r))
	case r[0] > r[1]:
		p.Fail(key, "low %v is above high %v", r[0], r[1])
	}
	return r
}

// Mine implements Miner.
func (b *BatchEasyHard) Mine(emb []float64, n, d int, labels []int) (*loss.Tuples, error) {
	return b.mine(selfQuery(emb, n, d, labels))
}

func (b *BatchEasyHard) mine(q query) (*loss.Tuples, error) {
	if msg := badStrategies(b.PosStrategy, b.NegStrategy); msg != "" {
		return nil, fmt.Errorf("BatchEasyHardMiner: %s", msg)
	}
	return b.tuples(distances(b.Distance, q)), nil
}

func (b *BatchEasyHard) tuples(m mat) *loss.Tuples {
	// A semihard side is bounded by the other side's choice, so that side
	// is chosen first.
	var pos, neg picks
	switch {
	case b.PosStrategy == Semihard:
		neg = b.negatives(m, nil)
		pos = b.positives(m, neg.val)
	case b.NegStrategy == Semihard:
		pos = b.positives(m, nil)
		neg = b.negatives(m, pos.val)
	default:
		if b.PosStrategy != All {
			pos = b.positives(m, nil)
		}
		if b.NegStrategy != All {
			neg = b.negatives(m, nil)
		}
	}

	if b.PosStrategy != All && b.NegStrategy != All {
		t := &loss.Tuples{}
		for i := range m.rows {
			if pos.ok[i] && neg.ok[i] {
				t.A1, t.P, t.N = append(t.A1, i), append(t.P, pos.idx[i]), append(t.N, neg.idx[i])
			}
		}
		t.A2 = slices.Clone(t.A1)
		return t
	}
	t := m.allPairs()
	if b.PosStrategy != All {
		t.A1, t.P = pos.kept()
	}
	if b.NegStrategy != All {
		t.A2, t.N = neg.kept()
	}
	return t
}

// positives: hard and semihard take the least similar positive, easy the most similar.
func (b *BatchEasyHard) positives(m mat, thresholds []float64) picks {
	leastSimilar := b.PosStrategy != Easy
	return pick(m, true, leastSimilar != m.inverted, b.AllowedPosRange, thresholds)
}

// negatives: hard and semihard take the most similar negative, easy the least similar.
func (b *BatchEasyHard) negatives(m mat, thresholds []float64) picks {
	leastSimilar := b.NegStrategy == Easy
	return pick(m, false, leastSimilar != m.inverted, b.AllowedNegRange, thresholds)
}

// picks holds one chosen column per anchor row: ok[i] reports whether row i
// had a candidate, idx[i] and val[i] are the choice.
type picks struct {
	idx []int
	val []float64
	ok  []bool
}

// kept lists the rows that found a candidate, with their choices.
func (pk picks) kept() (rows, cols []int) {
	for i, ok := range pk.ok {
		if ok {
			rows, cols = append(rows, i), append(cols, pk.idx[i])
		}
	}
	return rows, cols
}

// pick chooses in every row i, among the positives (positive=true) or the
// negatives of i whose value lies in rng (when set), the largest value
// (largest=true) or the smallest one, the first such column on ties as
// torch.max/min do. With thresholds (semihard), candidates must lie
// strictly below thresholds[i] when taking the largest and strictly above
// it when taking the smallest.
//
// PML's get_max_per_row maximises over the row with the non-candidates set
// to 0, so for a similarity whose candidates are all negative it returns a
// non-candidate column (possibly the anchor itself, or a positive as a
// negative). Here the maximum is over the candidates only: identical
// whenever PML's choice is a candidate.
func pick(m mat, positive, largest bool, rng, thresholds []float64) picks {
	pk := picks{idx: make([]int, m.rows), val: make([]float64, m.rows), ok: make([]bool, m.rows)}
	for i := range m.rows {
		best, bestJ := 0.0, -1
		for j := range m.cols {
			if positive && !m.positive(i, j) || !positive && !m.negative(i, j) {
				continue
			}
			v := m.at(i, j)
			if rng != nil && (v < rng[0] || v > rng[1]) {
				continue
			}
			if thresholds != nil && (largest && v >= thresholds[i] || !largest && v <= thresholds[i]) {
				continue
			}
			if bestJ < 0 || largest && v > best || !largest && v < best {
				best, bestJ = v, j
			}
		}
		if bestJ >= 0 {
			pk.idx[i], pk.val[i], pk.ok[i] = bestJ, best, true
		} else if !largest {
			// PML's value for a row without candidates; it matters only as a
			// semihard threshold, for a row that is dropped anyway.
			pk.val[i] = math.Inf(1)
		}
	}
	return pk
}
