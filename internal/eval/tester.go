package eval

import (
	"fmt"
	"maps"
	"slices"
)

// The reference sets of PML 0.9.92's testers: what each split's queries
// are compared with.
const (
	ComparedToSelf         = "compared_to_self"
	ComparedToSetsCombined = "compared_to_sets_combined"
	ComparedToTrainingSet  = "compared_to_training_set"
)

// ReferenceSets lists the reference sets, for validation.
var ReferenceSets = []string{ComparedToSelf, ComparedToSetsCombined, ComparedToTrainingSet}

// Set is the embeddings (n x dim, row-major) of one split with their labels
// and, for a tester within parent labels, their parent labels.
type Set struct {
	Emb     []float32
	Labels  []int
	Parents []int
}

// Tester evaluates the splits of an evaluation as PML 0.9.92's testers do.
type Tester struct {
	// Reference is one of ReferenceSets: each split compared with itself;
	// with every split evaluated, concatenated (its own rows excluded); or
	// with the training set. As in PML, the training set compared with
	// the training set does not exclude a query's own row.
	Reference string
	// SameParent is WithSameParentLabelTester: the queries of each parent
	// label are compared with the references of that parent label only,
	// and each metric is the mean over the parent labels.
	SameParent bool
	// TwoStream is GlobalTwoStreamEmbeddingSpaceTester (two_stream.go):
	// each set holds the anchors of its items, then their posnegs.
	TwoStream bool
	Options   Options
}

// Needs lists the splits whose embeddings Test needs to evaluate toEval.
func (t Tester) Needs(toEval []string) []string {
	if t.Reference == ComparedToTrainingSet && !slices.Contains(toEval, "train") {
		return append(slices.Clip(toEval), "train")
	}
	return toEval
}

// Test computes the metrics of each split of toEval, sets holding those
// Needs names.
func (t Tester) Test(sets map[string]Set, toEval []string, dim int) (map[string]map[string]float64, error) {
	out := map[string]map[string]float64{}
	for _, name := range toEval {
		q := sets[name]
		var ref Set
		opt := t.Options
		switch {
		case t.TwoStream:
			if t.Reference != ComparedToSelf {
				return nil, fmt.Errorf("eval: GlobalTwoStreamEmbeddingSpaceTester compares the anchors with the posnegs of the same split only (reference_set %s), not %s", ComparedToSelf, t.Reference)
			}
			var err error
			if q, ref, err = twoStreams(q, dim); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		case t.Reference == ComparedToSelf:
		case t.Reference == ComparedToSetsCombined:
			// The query's rows first, as RefIncludesQuery wants them.
			ref = q
			for _, other := range toEval {
				if other != name {
					ref = concat(ref, sets[other])
				}
			}
			opt.RefIncludesQuery = len(toEval) > 1
			if !opt.RefIncludesQuery {
				ref = Set{}
			}
		case t.Reference == ComparedToTrainingSet:
			// A copy, so that Evaluate does not take train against train
			// for the same source (PML does not).
			ref = concat(Set{}, sets["train"])
		default:
			return nil, fmt.Errorf("eval: reference set %q; want one of %v", t.Reference, ReferenceSets)
		}
		m, err := t.evaluate(q, ref, dim, opt)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = m
	}
	return out, nil
}

func concat(a, b Set) Set {
	return Set{Emb: slices.Concat(a.Emb, b.Emb), Labels: slices.Concat(a.Labels, b.Labels), Parents: slices.Concat(a.Parents, b.Parents)}
}

// evaluate compares q with ref (empty: with itself), within each parent
// label when SameParent is set.
func (t Tester) evaluate(q, ref Set, dim int, opt Options) (map[string]float64, error) {
	if !t.SameParent {
		res, err := Evaluate(q.Emb, q.Labels, ref.Emb, ref.Labels, dim, opt)
		return res.Metrics, err
	}
	sums := map[string]float64{}
	parents := slices.Sorted(maps.Keys(set(q.Parents)))
	for _, p := range parents {
		qp := q.withParent(p, dim)
		var rp Set
		switch {
		case opt.RefIncludesQuery: // the group's queries first, then the other splits' rows of p
			n := len(q.Labels)
			rest := Set{Emb: ref.Emb[n*dim:], Labels: ref.Labels[n:], Parents: ref.Parents[n:]}
			rp = concat(qp, rest.withParent(p, dim))
		case ref.Emb != nil:
			if rp = ref.withParent(p, dim); rp.Emb == nil {
				return nil, fmt.Errorf("parent label %d: no reference item has it", p)
			}
		}
		res, err := Evaluate(qp.Emb, qp.Labels, rp.Emb, rp.Labels, dim, opt)
		if err != nil {
			return nil, fmt.Errorf("parent label %d: %w", p, err)
		}
		for k, v := range res.Metrics {
			sums[k] += v
		}
	}
	for k := range sums {
		sums[k] /= float64(len(parents))
	}
	return sums, nil
}

func set(x []int) map[int]bool {
	s := map[int]bool{}
	for _, v := range x {
		s[v] = true
	}
	return s
}

// withParent is the rows of s whose parent label is p.
func (s Set) withParent(p, dim int) Set {
	var out Set
	for i, q := range s.Parents {
		if q == p {
			out.Emb = append(out.Emb, s.Emb[i*dim:(i+1)*dim]...)
			out.Labels = append(out.Labels, s.Labels[i])
			out.Parents = append(out.Parents, q)
		}
	}
	return out
}
