package loss

import "fmt"

// Tuples are indices into a batch chosen by a miner, in PML's two forms.
// A loss that needs the other form converts them as PML's
// lmu.convert_to_pairs / convert_to_triplets do. A nil *Tuples means "every
// valid pair or triplet of the batch" (no miner).
type Tuples struct {
	// Triplets reports which form the miner produced.
	Triplets bool
	// Pair form: positive pairs (A1[i], P[i]) and negative pairs (A2[i], N[i]).
	A1, P, A2, N []int
	// Triplet form: (Anchor[i], Positive[i], Negative[i]).
	Anchor, Positive, Negative []int
}

// AllPairs is every ordered pair of the batch (PML's get_all_pairs_indices):
// positive pairs (i, j), i != j, of one label and negative pairs of
// different labels, each in row-major order.
func AllPairs(labels []int) *Tuples { return allPairs(labels, labels, true) }

// allPairs is every (anchor, reference) pair, row-major, a reference of the
// anchor's label a positive; self leaves out a row's pair with itself (the
// batch as its own references).
func allPairs(labels, refLabels []int, self bool) *Tuples {
	t := &Tuples{}
	for i, li := range labels {
		for j, lj := range refLabels {
			switch {
			case li == lj && !(self && i == j):
				t.A1, t.P = append(t.A1, i), append(t.P, j)
			case li != lj:
				t.A2, t.N = append(t.A2, i), append(t.N, j)
			}
		}
	}
	return t
}

// AllTriplets is every (anchor, positive, negative) of the batch in
// row-major order (PML's get_all_triplets_indices).
func AllTriplets(labels []int) *Tuples {
	count := map[int]int{}
	for _, l := range labels {
		count[l]++
	}
	size := 0
	for _, l := range labels {
		size += (count[l] - 1) * (len(labels) - count[l])
	}
	t := &Tuples{Triplets: true, Anchor: make([]int, 0, size), Positive: make([]int, 0, size), Negative: make([]int, 0, size)}
	for a, la := range labels {
		for p, lp := range labels {
			if lp != la || p == a {
				continue
			}
			for n, ln := range labels {
				if ln != la {
					t.Anchor, t.Positive, t.Negative = append(t.Anchor, a), append(t.Positive, p), append(t.Negative, n)
				}
			}
		}
	}
	return t
}

// AsPairs returns the pair form (PML's convert_to_pairs): all pairs when t
// is nil, (a, p, a, n) for triplets.
func (t *Tuples) AsPairs(labels []int) (a1, p, a2, n []int) {
	switch {
	case t == nil:
		all := AllPairs(labels)
		return all.A1, all.P, all.A2, all.N
	case t.Triplets:
		return t.Anchor, t.Positive, t.Anchor, t.Negative
	}
	return t.A1, t.P, t.A2, t.N
}

// AsTriplets returns the triplet form (PML's convert_to_triplets with
// t_per_anchor "all"): all triplets when t is nil; from pairs, every
// (a1[i], p[i], n[j]) with a1[i] == a2[j], in row-major (i, j) order.
func (t *Tuples) AsTriplets(labels []int) (a, p, n []int) {
	switch {
	case t == nil:
		all := AllTriplets(labels)
		return all.Anchor, all.Positive, all.Negative
	case t.Triplets:
		return t.Anchor, t.Positive, t.Negative
	}
	negatives := map[int][]int{} // anchor -> its negatives, in a2 order
	for j, anchor := range t.A2 {
		negatives[anchor] = append(negatives[anchor], t.N[j])
	}
	for i, anchor := range t.A1 {
		for _, neg := range negatives[anchor] {
			a, p, n = append(a, anchor), append(p, t.P[i]), append(n, neg)
		}
	}
	return a, p, n
}

// indices lists every index in the tuples, in order, repeats kept.
func (t *Tuples) indices() []int {
	if t.Triplets {
		return concat(t.Anchor, t.Positive, t.Negative)
	}
	return concat(t.A1, t.P, t.A2, t.N)
}

// empty reports whether a miner gave tuples with no index at all.
func (t *Tuples) empty() bool { return len(t.indices()) == 0 }

// anchors lists the anchor indices (PML's get_anchors): a of triplets,
// a1 then a2 of pairs.
func (t *Tuples) anchors() []int {
	if t.Triplets {
		return t.Anchor
	}
	return concat(t.A1, t.A2)
}

// minerWeights is PML's convert_to_weights: 1 for every element without a
// miner (or with an empty one), else each element's count in the tuples
// divided by the largest count (0 for elements never mined); anchorsOnly
// counts only anchors, as PML does when the reference set is not the batch
// (ProxyNCALoss). Classification-style losses weight their per-element
// losses with it.
func minerWeights(t *Tuples, n int, anchorsOnly bool) []float64 {
	w := make([]float64, n)
	if t == nil || t.empty() {
		for i := range w {
			w[i] = 1
		}
		return w
	}
	idx := t.indices()
	if anchorsOnly {
		idx = t.anchors()
	}
	largest := 0.0
	for _, i := range idx {
		w[i]++
		largest = max(largest, w[i])
	}
	for i := range w {
		w[i] /= largest
	}
	return w
}

// check reports an anchor outside a batch of n, another index outside its
// m references (m = n when the batch is its own reference set), or tuple
// lists of unequal lengths.
func (t *Tuples) check(n, m int) error {
	if t == nil {
		return nil
	}
	if t.Triplets {
		if len(t.Anchor) != len(t.Positive) || len(t.Anchor) != len(t.Negative) {
			return fmt.Errorf("triplets of unequal lengths %d, %d, %d", len(t.Anchor), len(t.Positive), len(t.Negative))
		}
	} else if len(t.A1) != len(t.P) || len(t.A2) != len(t.N) {
		return fmt.Errorf("pairs of unequal lengths (%d, %d), (%d, %d)", len(t.A1), len(t.P), len(t.A2), len(t.N))
	}
	for _, i := range t.anchors() {
		if i < 0 || i >= n {
			return fmt.Errorf("tuple index %d outside a batch of %d", i, n)
		}
	}
	others := concat(t.Positive, t.Negative)
	if !t.Triplets {
		others = concat(t.P, t.N)
	}
	for _, i := range others {
		if i < 0 || i >= m {
			if m == n {
				return fmt.Errorf("tuple index %d outside a batch of %d", i, n)
			}
			return fmt.Errorf("tuple index %d outside %d references", i, m)
		}
	}
	return nil
}

func concat(lists ...[]int) []int {
	var out []int
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
