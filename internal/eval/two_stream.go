package eval

import "fmt"

// twoStreams splits a set of PML's GlobalTwoStreamEmbeddingSpaceTester,
// the anchors of its items stacked over their posnegs with the labels
// twice (as its get_all_embeddings returns them), into the queries (the
// anchors) and the references (the posnegs, labelled as their anchors).
// The two come from different sources, so a query's own posneg is among
// its neighbours (embeddings_come_from_same_source is false).
func twoStreams(s Set, dim int) (queries, refs Set, err error) {
	if len(s.Labels)%2 != 0 {
		return Set{}, Set{}, fmt.Errorf("eval: %d rows, not anchors stacked over as many posnegs", len(s.Labels))
	}
	half := len(s.Labels) / 2
	split := func(from, to int) Set {
		out := Set{Emb: s.Emb[from*dim : to*dim], Labels: s.Labels[:half]}
		if s.Parents != nil {
			out.Parents = s.Parents[:half]
		}
		return out
	}
	return split(0, half), split(half, 2*half), nil
}
