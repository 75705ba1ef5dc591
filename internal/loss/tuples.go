package loss

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
