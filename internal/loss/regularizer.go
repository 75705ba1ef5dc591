package loss

import (
	"fmt"
	"math"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// Regularizer is one of PML's regularizers: a penalty on the rows of a
// matrix (a batch's embeddings, or a loss's class weights with a row per
// class), reduced to a scalar by its own reducer.
type Regularizer interface {
	// regularize returns the 1 x 1 penalty of x, or nil for zero.
	regularize(t *ad.Tape, x *ad.Node) (*ad.Node, error)
}

// RegularizerFunc is a regularizer written outside this package: the 1 x 1
// penalty of the rows of x, or nil for none.
type RegularizerFunc func(t *ad.Tape, x *ad.Node) (*ad.Node, error)

func (f RegularizerFunc) regularize(t *ad.Tape, x *ad.Node) (*ad.Node, error) { return f(t, x) }

// regularization is a loss's embedding_regularizer or weight_regularizer
// with its weight (embedding_reg_weight, weight_reg_weight): PML adds
// weight x penalty to the loss as an already-reduced sub-loss, which the
// loss's reducer passes through.
type regularization struct {
	name   string // the sub-loss: "embedding_reg_loss", "weight_reg_loss"
	r      Regularizer
	weight float64
}

// readRegularization reads <kind>_regularizer and <kind>_reg_weight; nil
// without a regularizer (absent or null, PML's default), when PML ignores
// the weight.
func readRegularization(p *config.Params, kind string) *regularization {
	key, weightKey := kind+"_regularizer", kind+"_reg_weight"
	p.Known(key, weightKey)
	if p.Written(key) == nil {
		if p.Has(key) {
			p.Null(key, "")
		}
		if p.Has(weightKey) {
			p.Float(weightKey, 1)
		}
		return nil
	}
	return &regularization{
		name:   kind + "_reg_loss",
		r:      config.BuildNested(p, Regularizers, key, config.Component{}),
		weight: p.Float(weightKey, 1),
	}
}

// subLoss is the weighted penalty of x.
func (r *regularization) subLoss(t *ad.Tape, x *ad.Node) (subLoss, error) {
	v, err := r.r.regularize(t, x)
	if err != nil {
		return subLoss{}, fmt.Errorf("%s: %w", r.name, err)
	}
	if v != nil {
		v = t.Scale(v, r.weight)
	}
	return subLoss{name: r.name, losses: v, reduced: true, divisor: noDivisor}, nil
}

// reduceRows reduces per-row penalties (rows x 1) with reducer.
func reduceRows(t *ad.Tape, reducer Reducer, losses *ad.Node) (*ad.Node, error) {
	return reducer.reduce(t, elementLoss("loss", losses))
}

// LpRegularizer is PML's LpRegularizer: the p-norm of each row raised to
// power, reduced (MeanReducer by default).
type LpRegularizer struct {
	p, power float64
	reducer  Reducer
}

func newLpRegularizer(p *config.Params) Regularizer {
	return &LpRegularizer{
		p:       p.Float("p", 2, config.Above(0)),
		power:   p.Float("power", 1),
		reducer: config.BuildNested(p, Reducers, "reducer", config.C("MeanReducer", nil)),
	}
}

func (r *LpRegularizer) regularize(t *ad.Tape, x *ad.Node) (*ad.Node, error) {
	norms := t.RowNorms(x, r.p)
	if r.power != 1 {
		norms = t.Pow(norms, r.power)
	}
	return reduceRows(t, r.reducer, norms)
}

// ZeroMeanRegularizer is PML's ZeroMeanRegularizer: |sum of each row|,
// reduced (MeanReducer by default).
type ZeroMeanRegularizer struct{ reducer Reducer }

func newZeroMeanRegularizer(p *config.Params) Regularizer {
	return &ZeroMeanRegularizer{config.BuildNested(p, Reducers, "reducer", config.C("MeanReducer", nil))}
}

func (r *ZeroMeanRegularizer) regularize(t *ad.Tape, x *ad.Node) (*ad.Node, error) {
	return reduceRows(t, r.reducer, t.Abs(t.RowSums(x)))
}

// CenterInvariantRegularizer is PML's CenterInvariantRegularizer (Wu et
// al. 2017): (|w_c|^2 - mean_c |w_c|^2)^2 / 4 per row, reduced (MeanReducer
// by default), the norms those of its LpDistance, which PML requires
// unnormalised with power 1.
type CenterInvariantRegularizer struct {
	p       float64
	reducer Reducer
}

func newCenterInvariantRegularizer(p *config.Params) Regularizer {
	dist := config.BuildNested(p, Distances, "distance", config.C("LpDistance", map[string]any{"power": 1, "normalize_embeddings": false}))
	r := &CenterInvariantRegularizer{reducer: config.BuildNested(p, Reducers, "reducer", config.C("MeanReducer", nil))}
	if lp, ok := dist.(*LpDistance); ok && lp.power == 1 && !lp.normalize {
		r.p = lp.p
	} else if dist != nil {
		p.Fail("distance", "must be LpDistance with power 1 and normalize_embeddings false")
	}
	return r
}

func (r *CenterInvariantRegularizer) regularize(t *ad.Tape, x *ad.Node) (*ad.Node, error) {
	sq := t.Square(t.RowNorms(x, r.p))
	dev := t.Sub(sq, t.Mean(sq))
	return reduceRows(t, r.reducer, t.Scale(t.Square(dev), 0.25))
}

// RegularFaceRegularizer is PML's RegularFaceRegularizer (Zhao et al.
// 2019): each row's similarity to its most similar other row, reduced
// (MeanReducer by default); the choice of that row carries no gradient.
type RegularFaceRegularizer struct {
	dist    Distance
	reducer Reducer
}

func newRegularFaceRegularizer(p *config.Params) Regularizer {
	r := &RegularFaceRegularizer{
		dist:    config.BuildNested(p, Distances, "distance", config.C("CosineSimilarity", nil)),
		reducer: config.BuildNested(p, Reducers, "reducer", config.C("MeanReducer", nil)),
	}
	if r.dist != nil && !r.dist.Inverted() {
		p.Fail("distance", "must be a similarity (CosineSimilarity or DotProductSimilarity)")
	}
	return r
}

func (r *RegularFaceRegularizer) regularize(t *ad.Tape, x *ad.Node) (*ad.Node, error) {
	if x.Rows < 2 {
		return nil, fmt.Errorf("RegularFaceRegularizer needs at least 2 classes, got %d", x.Rows)
	}
	sim := r.dist.Node(t, x, x)
	nearest := make([]int, x.Rows)
	for i := range x.Rows {
		best := -1
		for j := range x.Rows {
			if j != i && (best < 0 || sim.Value[i*x.Rows+j] > sim.Value[i*x.Rows+best]) {
				best = j
			}
		}
		nearest[i] = i*x.Rows + best
	}
	return reduceRows(t, r.reducer, t.Gather(sim, nearest))
}

// SparseCentersRegularizer is PML's SparseCentersRegularizer (SoftTriple's
// regulariser, Qian et al. 2019): sqrt(2 - 2 cos) over every pair of
// centres of one class, with centers_per_class consecutive rows per class,
// divided by twice the number of pairs (DivisorReducer by default).
type SparseCentersRegularizer struct {
	numClasses, centersPerClass int
	reducer                     Reducer
	dist                        Distance
}

func newSparseCentersRegularizer(p *config.Params) Regularizer {
	if !p.Has("centers_per_class") {
		p.Fail("centers_per_class", "required: the loss's centers_per_class")
	}
	r := &SparseCentersRegularizer{
		// 0 takes the classes from the rows, so that a SoftTripleLoss
		// sized by the dataset needs no class count written twice.
		numClasses:      p.Int("num_classes", 0, config.Min(0)),
		centersPerClass: p.Int("centers_per_class", 2, config.Min(2)),
		dist:            config.BuildNested(p, Distances, "distance", config.C("CosineSimilarity", nil)),
		reducer:         config.BuildNested(p, Reducers, "reducer", config.C("DivisorReducer", nil)),
	}
	requireDistance(p, r.dist, &CosineSimilarity{})
	return r
}

func (r *SparseCentersRegularizer) regularize(t *ad.Tape, x *ad.Node) (*ad.Node, error) {
	k := r.centersPerClass
	if x.Rows%k != 0 || r.numClasses != 0 && x.Rows != r.numClasses*k {
		return nil, fmt.Errorf("SparseCentersRegularizer: %d centres are not num_classes %d x centers_per_class %d", x.Rows, r.numClasses, k)
	}
	sim := r.dist.Node(t, x, x)
	var pairs []int
	for c := 0; c < x.Rows; c += k {
		for i := c; i < c+k; i++ {
			for j := i + 1; j < c+k; j++ {
				pairs = append(pairs, i*x.Rows+j)
			}
		}
	}
	// PML also adds float64's smallest normal under the root, which
	// rounds away next to 2.
	twice := t.Clamp(t.Scale(t.Gather(sim, pairs), 2), math.Inf(-1), 2)
	losses := t.Sqrt(t.Shift(t.Scale(twice, -1), 2))
	return r.reducer.reduce(t, subLoss{name: "loss", losses: losses, divisor: float64(2 * len(pairs))})
}
