// Package miner holds the tuple miners of pytorch-metric-learning (PML
// 2.8.1): each picks, per batch and without gradient, the pairs or triplets
// a loss is computed on.
package miner

import (
	"fmt"
	"math/rand/v2"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
)

// Miner picks tuples of a batch.
type Miner interface {
	// Mine returns indices into the batch (emb row-major n x d); computed without gradient.
	Mine(emb []float64, n, d int, labels []int) (*loss.Tuples, error)
}

// RefMiner is a miner that also mines anchors against the references of
// another set, as PML's miners called with ref_emb and ref_labels: the
// tuples' anchors index emb (n x d) and their positives and negatives ref
// (nRef x d). Every reference with the anchor's label is a positive, the
// anchor's own row number included (PML's ref_labels are a distinct
// tensor, so the diagonal is not masked). Every miner of the registry
// implements it.
type RefMiner interface {
	MineRef(emb []float64, n int, labels []int, ref []float64, nRef int, refLabels []int, d int) (*loss.Tuples, error)
}

// query is what a miner mines: the anchors (emb, labels) and the
// references (ref, refLabels), both d columns. self means the references
// are the anchors (PML without ref_emb): a row is not its own positive.
type query struct {
	emb, ref          []float64
	d                 int
	labels, refLabels []int
	self              bool
}

func selfQuery(emb []float64, n, d int, labels []int) query {
	return query{emb: emb, ref: emb, d: d, labels: labels, refLabels: labels, self: true}
}

// positive reports whether reference j is a positive of anchor i.
func (q query) positive(i, j int) bool {
	return q.labels[i] == q.refLabels[j] && !(q.self && i == j)
}

// negative reports whether reference j is a negative of anchor i.
func (q query) negative(i, j int) bool { return q.labels[i] != q.refLabels[j] }

// allPairs is every positive and negative pair, row-major (PML's
// get_all_pairs_indices(labels, ref_labels)).
func (q query) allPairs() *loss.Tuples {
	t := &loss.Tuples{}
	for i := range q.labels {
		for j := range q.refLabels {
			switch {
			case q.positive(i, j):
				t.A1, t.P = append(t.A1, i), append(t.P, j)
			case q.negative(i, j):
				t.A2, t.N = append(t.A2, i), append(t.N, j)
			}
		}
	}
	return t
}

// keepTriplets lists the triplets (anchor, positive, negative) for which
// keep is true, in PML's row-major order (get_all_triplets_indices).
func (q query) keepTriplets(keep func(a, p, n int) bool) *loss.Tuples {
	t := &loss.Tuples{Triplets: true}
	for a := range q.labels {
		for p := range q.refLabels {
			if !q.positive(a, p) {
				continue
			}
			for n := range q.refLabels {
				if q.negative(a, n) && keep(a, p, n) {
					t.Anchor, t.Positive, t.Negative = append(t.Anchor, a), append(t.Positive, p), append(t.Negative, n)
				}
			}
		}
	}
	return t
}

// AllRefTriplets is every triplet of an anchor, a reference of its label
// and a reference of another label, as RefMiner sees them (PML's
// get_all_triplets_indices(labels, ref_labels)).
func AllRefTriplets(labels, refLabels []int) *loss.Tuples {
	return query{labels: labels, refLabels: refLabels}.keepTriplets(func(int, int, int) bool { return true })
}

// queryMiner is a miner that mines a query: the miners that support
// references.
type queryMiner interface {
	mine(q query) (*loss.Tuples, error)
}

// Random is implemented by miners that sample. The registry gives them a
// generator with a fixed seed; a trainer hands them its own seeded one so
// that a run is reproducible from its seed and checkpointed RNG state.
type Random interface {
	SetRand(r *rand.Rand)
}

// fixedRand is the generator a sampling miner starts with.
func fixedRand() *rand.Rand { return rand.New(rand.NewPCG(0, 0)) }

// mat is the pairwise distance matrix of a query's anchors (rows) with
// its references (columns), row-major. inverted means larger values are
// more similar (a similarity), as PML's distance.is_inverted.
type mat struct {
	query
	rows, cols int
	v          []float64
	inverted   bool
}

func (m mat) at(i, j int) float64 { return m.v[i*m.cols+j] }

// base is PML's BaseMiner: it checks the batch before the miner mines it,
// so that no miner repeats the checks.
type base struct{ Miner }

func (b base) Mine(emb []float64, n, d int, labels []int) (*loss.Tuples, error) {
	if err := checkBatch(emb, n, d, labels); err != nil {
		return nil, err
	}
	return b.Miner.Mine(emb, n, d, labels)
}

// MineRef implements RefMiner.
func (b base) MineRef(emb []float64, n int, labels []int, ref []float64, nRef int, refLabels []int, d int) (*loss.Tuples, error) {
	if err := checkBatch(emb, n, d, labels); err != nil {
		return nil, err
	}
	if err := checkBatch(ref, nRef, d, refLabels); err != nil {
		return nil, fmt.Errorf("references: %w", err)
	}
	qm, ok := b.Miner.(queryMiner)
	if !ok {
		return nil, fmt.Errorf("%T does not mine against reference embeddings", b.Miner)
	}
	return qm.mine(query{emb: emb, ref: ref, d: d, labels: labels, refLabels: refLabels})
}

// Fresh implements config.Stateful for a miner that keeps state, such as
// a sampling miner's stream.
func (b base) Fresh() Miner { return wrap(config.Instance(b.Miner)) }

// randomBase is base around a miner that samples.
type randomBase struct {
	base
	Random
}

// checkBatch validates the shapes Mine receives.
func checkBatch(emb []float64, n, d int, labels []int) error {
	switch {
	case n < 0 || d <= 0:
		return fmt.Errorf("miner: batch of %d x %d embeddings", n, d)
	case len(emb) != n*d:
		return fmt.Errorf("miner: %d embedding values for a %d x %d batch", len(emb), n, d)
	case len(labels) != n:
		return fmt.Errorf("miner: %d labels for %d embeddings", len(labels), n)
	}
	return nil
}

// distances computes the query's matrix with dist.
func distances(dist loss.Distance, q query) mat {
	rows, cols := len(q.labels), len(q.refLabels)
	return mat{query: q, rows: rows, cols: cols, v: dist.Matrix(q.emb, rows, q.ref, cols, q.d), inverted: dist.Inverted()}
}

// Indices returns the tuples keyed as PML's miner output and the golden
// files name them: anchor, positive, negative for triplets, a1, p, a2, n for
// pairs. Empty lists are non-nil, so that they print as [].
func Indices(t *loss.Tuples) map[string][]int {
	nonNil := func(s []int) []int {
		if s == nil {
			return []int{}
		}
		return s
	}
	if t.Triplets {
		return map[string][]int{"anchor": nonNil(t.Anchor), "positive": nonNil(t.Positive), "negative": nonNil(t.Negative)}
	}
	return map[string][]int{"a1": nonNil(t.A1), "p": nonNil(t.P), "a2": nonNil(t.A2), "n": nonNil(t.N)}
}
