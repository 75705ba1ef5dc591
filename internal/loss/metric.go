package loss

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// lossFunc computes the sub-losses of a batch on a tape: PML's compute_loss.
type lossFunc interface {
	subLosses(b *batch) ([]subLoss, error)
}

// batch is the input of one Compute, on its tape.
type batch struct {
	t      *ad.Tape
	emb    *ad.Node // n x d, the variable
	labels []int
	tuples *Tuples
	// ref and refLabels are PML's ref_emb and ref_labels: a constant set
	// the anchors (emb) are compared with instead of the batch itself
	// (CrossBatchMemory's memory). The tuples' anchors then index emb and
	// their positives and negatives ref; ref is nil without one.
	ref       *ad.Node
	refLabels []int
}

// refs is what the anchors are compared with: the reference set, or the
// batch itself.
func (b *batch) refs() *ad.Node {
	if b.ref != nil {
		return b.ref
	}
	return b.emb
}

// reference is a constant reference set of m rows (PML's ref_emb), with
// its labels.
type reference struct {
	emb    []float64
	m      int
	labels []int
}

// metricLoss is a Loss made of a lossFunc, the reducer of its sub-losses
// and PML's optional regularizers of the embeddings and of the class
// weights (nil when not configured).
type metricLoss struct {
	where                   string // config key path, for messages
	f                       lossFunc
	reducer                 Reducer
	embeddingReg, weightReg *regularization
}

// newMetric reads the reducer (defaultReducer when not configured) and the
// embedding regularizer, and wraps f.
func newMetric(p *config.Params, f lossFunc, defaultReducer string) *metricLoss {
	r := config.BuildNested(p, Reducers, "reducer", config.C(defaultReducer, nil))
	return &metricLoss{where: p.Where(), f: f, reducer: r, embeddingReg: readRegularization(p, "embedding")}
}

func (m *metricLoss) Compute(emb []float64, n, d int, labels []int, tuples *Tuples) (float64, []float64, error) {
	return m.computeRef(emb, n, d, labels, tuples, nil)
}

// computeRef is Compute against a reference set (nil: the batch itself).
func (m *metricLoss) computeRef(emb []float64, n, d int, labels []int, tuples *Tuples, ref *reference) (float64, []float64, error) {
	b, subs, err := m.run(emb, n, d, labels, tuples, ref)
	if err != nil {
		return 0, nil, err
	}
	var total *ad.Node
	for _, s := range subs {
		v, err := m.reducer.reduce(b.t, s)
		if err != nil {
			return 0, nil, fmt.Errorf("%s: %w", m.where, err)
		}
		if v == nil {
			continue
		}
		if total == nil {
			total = v
		} else {
			total = b.t.Add(total, v)
		}
	}
	if total == nil {
		return 0, make([]float64, n*d), nil
	}
	b.t.Backward(total)
	grad := b.emb.Grad
	if grad == nil { // the loss does not depend on the embeddings
		grad = make([]float64, n*d)
	}
	return total.Value[0], grad, nil
}

// run checks the batch and computes its sub-losses, against ref when it
// is not nil.
func (m *metricLoss) run(emb []float64, n, d int, labels []int, tuples *Tuples, ref *reference) (*batch, []subLoss, error) {
	err := checkBatch(emb, n, d, labels, tuples, ref)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", m.where, err)
	}
	if tuples != nil && !m.takesTuples() {
		return nil, nil, fmt.Errorf("%s: %w", m.where, errNoTuples)
	}
	for _, w := range m.Weights() {
		clear(w.Grad)
	}
	t := &ad.Tape{}
	b := &batch{t: t, emb: t.Var(emb, n, d), labels: labels, tuples: tuples}
	if ref != nil {
		b.ref, b.refLabels = t.Const(ref.emb, ref.m, d), ref.labels
	}
	subs, err := m.f.subLosses(b)
	if err == nil && m.embeddingReg != nil {
		var s subLoss
		s, err = m.embeddingReg.subLoss(t, b.emb)
		subs = append(subs, s)
	}
	if err == nil && m.weightReg != nil {
		var s subLoss
		s, err = m.weightReg.subLoss(t, m.f.(classLoss).classRows(t))
		subs = append(subs, s)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", m.where, err)
	}
	return b, subs, nil
}

// freshFunc is a lossFunc that keeps state (a random stream, learnt
// weights): fresh returns an independent copy as its constructor left it.
type freshFunc interface {
	lossFunc
	fresh() lossFunc
}

// Fresh implements config.Stateful: each fold's loss has its own state; a
// loss without any is shared.
func (m *metricLoss) Fresh() Loss {
	s, ok := m.f.(freshFunc)
	if !ok {
		return m
	}
	c := *m
	c.f = s.fresh()
	return &c
}

func (m *metricLoss) Weights() []*Weight {
	if w, ok := m.f.(interface{ weights() []*Weight }); ok {
		return w.weights()
	}
	return nil
}

// checkBatch checks a batch, and its reference set when ref is not nil.
func checkBatch(emb []float64, n, d int, labels []int, tuples *Tuples, ref *reference) error {
	switch {
	case n < 0 || d <= 0 || len(emb) != n*d:
		return fmt.Errorf("%d values for a batch of %d x %d", len(emb), n, d)
	case len(labels) != n:
		return fmt.Errorf("%d labels for a batch of %d", len(labels), n)
	}
	for _, l := range labels {
		if l < 0 {
			return fmt.Errorf("negative label %d", l)
		}
	}
	if ref == nil {
		return tuples.check(n, n)
	}
	if len(ref.emb) != ref.m*d || len(ref.labels) != ref.m {
		return fmt.Errorf("%d values and %d labels for %d references of size %d", len(ref.emb), len(ref.labels), ref.m, d)
	}
	return tuples.check(n, ref.m)
}

// metricOf is the metricLoss of a built-in loss, nil for another one.
func metricOf(l Loss) *metricLoss {
	switch x := l.(type) {
	case *metricLoss:
		return x
	case *shapedLoss:
		return x.metricLoss
	}
	return nil
}

// Randomized returns how to give l its random generator when l samples
// (triplets_per_anchor a count). The registry gives it one with a fixed
// seed; a trainer hands it the fold's seeded one, which its checkpoints
// keep, so that a run is reproducible from its seed and a resumed run
// draws on.
func Randomized(l Loss) (set func(*rand.Rand), ok bool) {
	m := metricOf(l)
	if m == nil {
		return nil, false
	}
	s, ok := m.f.(interface{ samplerOf() *tripletSampler })
	if !ok || s.samplerOf().rng == nil {
		return nil, false
	}
	return func(r *rand.Rand) { s.samplerOf().rng = r }, true
}

// Buffers are a loss's state that is not learnt but that a checkpoint
// keeps, as PyTorch's buffers: DynamicSoftMarginLoss's histogram,
// CrossBatchMemory's queue.
func Buffers(l Loss) []*Weight {
	if x, ok := l.(*crossBatchMemory); ok {
		return x.buffers()
	}
	if m := metricOf(l); m != nil {
		if b, ok := m.f.(interface{ buffers() []*Weight }); ok {
			return b.buffers()
		}
	}
	return nil
}

// Unreduced returns the sub-losses of a batch before reduction, by PML's
// sub-loss name ("loss", "pos_loss", ...): what PML returns with
// DoNothingReducer. A zero sub-loss gives an empty list.
func Unreduced(l Loss, emb []float64, n, d int, labels []int, tuples *Tuples) (map[string][]float64, error) {
	m := metricOf(l)
	if m == nil {
		return nil, fmt.Errorf("loss %T has no sub-losses", l)
	}
	_, subs, err := m.run(emb, n, d, labels, tuples, nil)
	if err != nil {
		return nil, err
	}
	out := map[string][]float64{}
	for _, s := range subs {
		out[s.name] = nil
		if s.losses != nil {
			out[s.name] = s.losses.Value
		}
	}
	return out, nil
}

// elementLoss is a sub-loss of per-element (per-row) losses.
func elementLoss(name string, losses *ad.Node) subLoss {
	return subLoss{name: name, losses: rowVector(losses), divisor: noDivisor}
}

// rowVector views a vector node as a 1 x k row.
func rowVector(v *ad.Node) *ad.Node {
	if v == nil || v.Rows == 1 {
		return v
	}
	return &ad.Node{Rows: 1, Cols: v.Len(), Value: v.Value, Grad: v.Grad}
}

// pairValues gathers mat[rows[k], cols[k]] as a 1 x k row.
func pairValues(t *ad.Tape, mat *ad.Node, rows, cols []int) *ad.Node {
	idx := make([]int, len(rows))
	for k, r := range rows {
		idx[k] = r*mat.Cols + cols[k]
	}
	return t.Gather(mat, idx)
}

// marginAbove is PML's distance.margin(x, k) for a constant k: how far x is
// beyond k in the "farther" direction, x - k (k - x for similarities).
func marginAbove(t *ad.Tape, dist Distance, x *ad.Node, k float64) *ad.Node {
	if dist.Inverted() {
		return t.Shift(t.Scale(x, -1), k)
	}
	return t.Shift(x, -k)
}

// marginBelow is PML's distance.margin(k, x): k - x (x - k for similarities).
func marginBelow(t *ad.Tape, dist Distance, k float64, x *ad.Node) *ad.Node {
	if dist.Inverted() {
		return t.Shift(x, -k)
	}
	return t.Shift(t.Scale(x, -1), k)
}

// atMostOne reports whether every list has at most one index, when PML's
// pair losses return zero.
func atMostOne(lists ...[]int) bool {
	for _, l := range lists {
		if len(l) > 1 {
			return false
		}
	}
	return true
}

// marginOf is PML's distance.margin(x, y): x - y (y - x for similarities).
func marginOf(t *ad.Tape, dist Distance, x, y *ad.Node) *ad.Node {
	if dist.Inverted() {
		return t.Sub(y, x)
	}
	return t.Sub(x, y)
}

// smallest is PML's distance.smallest_dist(x, y) element-wise: the closer
// of the two (min of distances, max of similarities).
func smallest(t *ad.Tape, dist Distance, x, y *ad.Node) *ad.Node {
	closer := make([]bool, x.Len())
	for i, v := range x.Value {
		if dist.Inverted() {
			closer[i] = v > y.Value[i]
		} else {
			closer[i] = v < y.Value[i]
		}
	}
	return t.Where(closer, x, y)
}

// pairs opens every pair loss as PML's BaseMetricLossFunction does: the
// batch's pairs (the miner's when it mined) and the distance matrix of the
// embeddings.
type pairs struct {
	a1, p, a2, n []int // positive pairs (a1, p), negative pairs (a2, n)
	mat          *ad.Node
}

// pairsOf returns the batch's pairs; ok is false where PML's loss is zero:
// at most one pair of each kind, or, for a loss that needs both kinds, no
// pair of one of them.
func pairsOf(b *batch, dist Distance, needBoth bool) (pr pairs, ok bool) {
	a1, p, a2, n := b.tuples.AsPairs(b.labels)
	if atMostOne(a1, p, a2, n) || needBoth && (len(a1) == 0 || len(a2) == 0) {
		return pairs{}, false
	}
	return pairs{a1, p, a2, n, dist.Node(b.t, b.emb, b.refs())}, true
}

// maskedPairs is the distance matrix of the batch with masks of its
// positive and negative pairs, for the losses that work on whole rows
// (MultiSimilarity, GeneralizedLiftedStructure, Circle, SupCon); ok as
// pairsOf's.
func maskedPairs(b *batch, dist Distance, needBoth bool) (mat *ad.Node, pos, neg []bool, ok bool) {
	pr, ok := pairsOf(b, dist, needBoth)
	if !ok {
		return nil, nil, nil, false
	}
	pos, neg = refPairMasks(pr.mat.Rows, pr.mat.Cols, pr.a1, pr.p, pr.a2, pr.n)
	return pr.mat, pos, neg, true
}

// pairMasks are PML's mat_based_loss masks: n x n, true at the listed
// positive (a1, p) and negative (a2, n) pairs (repeats collapse).
func pairMasks(size int, a1, p, a2, n []int) (pos, neg []bool) {
	return refPairMasks(size, size, a1, p, a2, n)
}

// refPairMasks are pairMasks of n anchors against m references: n x m.
func refPairMasks(n, m int, a1, p, a2, neg []int) (posMask, negMask []bool) {
	posMask, negMask = make([]bool, n*m), make([]bool, n*m)
	for k, i := range a1 {
		posMask[i*m+p[k]] = true
	}
	for k, i := range a2 {
		negMask[i*m+neg[k]] = true
	}
	return posMask, negMask
}

// rowCounts counts the true entries of each row of an n x n mask, and lists
// the rows with any.
func rowCounts(mask []bool, n int) (counts []float64, rows []int) {
	counts = make([]float64, n)
	for i := range n {
		for _, m := range mask[i*n : (i+1)*n] {
			if m {
				counts[i]++
			}
		}
		if counts[i] > 0 {
			rows = append(rows, i)
		}
	}
	return counts, rows
}

// floats turns a mask into 0/1 values, to multiply with.
func floats(mask []bool) []float64 {
	out := make([]float64, len(mask))
	for i, m := range mask {
		if m {
			out[i] = 1
		}
	}
	return out
}

// negativesOf groups the negative pairs by anchor: anchor -> indices k of
// the pairs (a2[k], n[k]) with a2[k] == anchor.
func negativesOf(a2 []int) map[int][]int {
	groups := map[int][]int{}
	for k, a := range a2 {
		groups[a] = append(groups[a], k)
	}
	return groups
}

// requireDistance fails unless the distance is one of the allowed types, as
// PML's assert_distance_type.
func requireDistance(p *config.Params, dist Distance, allowed ...Distance) {
	if dist == nil {
		return // its own error is already recorded
	}
	var names []string
	for _, a := range allowed {
		if reflect.TypeOf(a) == reflect.TypeOf(dist) {
			return
		}
		names = append(names, reflect.TypeOf(a).Elem().Name())
	}
	p.Fail("distance", "must be %s", strings.Join(names, " or "))
}

// rowLoss is a lossFunc over whole rows of the batch (RankedListLoss,
// PNPLoss, InstanceLoss): PML's indices_tuple_not_supported raises when a
// miner gives it tuples, rather than quietly using only part of the rows.
type rowLoss interface{ refusesTuples() }

// TakesTuples reports whether l accepts a miner's tuples; a trainer checks
// it against its config, before anything runs.
func TakesTuples(l Loss) bool {
	m, ok := l.(interface{ takesTuples() bool })
	return !ok || m.takesTuples()
}

func (m *metricLoss) takesTuples() bool {
	_, rows := m.f.(rowLoss)
	return !rows
}

// errNoTuples is what a rowLoss given tuples says.
var errNoTuples = errors.New("takes no miner tuples (PML raises \"indices_tuple is not supported for this loss function\"): remove its mining_funcs entry")

// requiredFloat reads a parameter PML's constructor has no default for.
func requiredFloat(p *config.Params, key, why string, checks ...config.Check) float64 {
	if p.Written(key) == nil {
		p.Fail(key, "is required: %s", why)
	}
	return p.Float(key, 0, checks...)
}
