package loss

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// classWeights is the learnable tensor of a loss with per-class weights,
// sized by num_classes and embedding_size.
type classWeights struct {
	name                      string // PML's attribute: "proxies", "W", "fc"
	numClasses, embeddingSize int    // 0 until known
	sizeKey                   string // the config key of embeddingSize
	// shape is PML's layout for the sizes.
	shape func(numClasses, embeddingSize int) []int
	// init draws the values as PML's constructor.
	init func(w *Weight, rng *rand.Rand)
	w    *Weight // nil until the sizes are known
}

// readClassWeights reads num_classes and embedding_size; 0 (the default)
// means the trainer fills them in with SetShape.
func readClassWeights(p *config.Params, name string, shape func(c, e int) []int, init func(*Weight, *rand.Rand)) *classWeights {
	return readClassWeightsSized(p, "embedding_size", name, shape, init)
}

// readClassWeightsSized is readClassWeights for a loss whose PML name of
// the embedding size is sizeKey (P2SGradLoss's descriptors_dim).
func readClassWeightsSized(p *config.Params, sizeKey, name string, shape func(c, e int) []int, init func(*Weight, *rand.Rand)) *classWeights {
	cw := &classWeights{
		name:          name,
		sizeKey:       sizeKey,
		numClasses:    p.Int("num_classes", 0, config.Min(0)),
		embeddingSize: p.Int(sizeKey, 0, config.Min(0)),
		shape:         shape,
		init:          init,
	}
	cw.allocate()
	return cw
}

// fresh copies cw as readClassWeights left it: the configured sizes, and
// weights of its own.
func (cw *classWeights) fresh() *classWeights {
	c := *cw
	c.w = nil
	c.allocate()
	return &c
}

func (cw *classWeights) allocate() {
	if cw.w != nil || cw.numClasses == 0 || cw.embeddingSize == 0 {
		return
	}
	shape := cw.shape(cw.numClasses, cw.embeddingSize)
	size := shape[0] * shape[1]
	cw.w = &Weight{Name: cw.name, Shape: shape, Value: make([]float64, size), Grad: make([]float64, size)}
}

func (cw *classWeights) setShape(numClasses, embeddingSize int) error {
	switch {
	case cw.numClasses == 0:
		cw.numClasses = numClasses
	case cw.numClasses < numClasses:
		return fmt.Errorf("num_classes is %d but the data has %d classes", cw.numClasses, numClasses)
	}
	switch {
	case cw.embeddingSize == 0:
		cw.embeddingSize = embeddingSize
	case cw.embeddingSize != embeddingSize:
		return fmt.Errorf("%s is %d but the model gives %d", cw.sizeKey, cw.embeddingSize, embeddingSize)
	}
	cw.allocate()
	return nil
}

func (cw *classWeights) weights() []*Weight {
	if cw.w == nil {
		return nil
	}
	return []*Weight{cw.w}
}

// node puts the weights on the batch's tape, after checking that they fit
// the batch.
func (cw *classWeights) node(b *batch) (*ad.Node, error) {
	if cw.w == nil {
		return nil, fmt.Errorf("num_classes and %s are unknown: give them in the config or call SetShape", cw.sizeKey)
	}
	if b.emb.Cols != cw.embeddingSize {
		return nil, fmt.Errorf("embeddings of size %d, but %s is %d", b.emb.Cols, cw.sizeKey, cw.embeddingSize)
	}
	for _, l := range b.labels {
		if l >= cw.numClasses {
			return nil, fmt.Errorf("label %d is not below num_classes %d", l, cw.numClasses)
		}
	}
	return weightNode(cw.w), nil
}

// clone copies w with values and gradient of its own.
func (w *Weight) clone() *Weight {
	return &Weight{Name: w.Name, Shape: w.Shape, Value: slices.Clone(w.Value), Grad: make([]float64, len(w.Grad))}
}

// classRows is the weights with a row per class (or per centre), the form
// PML's weight regularizers take: proxies as they are, W and fc transposed.
// The layout's embedding dimension is the one a zero embedding size
// empties.
func (cw *classWeights) classRows(t *ad.Tape) *ad.Node {
	w := weightNode(cw.w)
	if cw.shape(1, 0)[0] != 0 {
		return w
	}
	return t.T(w)
}

// weightNode is a learnable weight on a tape: its gradient accumulates into
// w.Grad.
func weightNode(w *Weight) *ad.Node {
	rows, cols := 1, w.Shape[0]
	if len(w.Shape) == 2 {
		rows, cols = w.Shape[0], w.Shape[1]
	}
	return &ad.Node{Rows: rows, Cols: cols, Value: w.Value, Grad: w.Grad}
}

// shapedLoss is a metricLoss with class weights.
type shapedLoss struct {
	*metricLoss
	cw *classWeights
}

// classLoss is the lossFunc of a shapedLoss.
type classLoss interface {
	lossFunc
	// with returns a copy of the lossFunc on other class weights.
	with(cw *classWeights) lossFunc
	// classRows is what a weight regularizer takes.
	classRows(t *ad.Tape) *ad.Node
}

// newShaped wraps f, whose class weights are cw, with its reducer and
// regularizers.
func newShaped(p *config.Params, f classLoss, cw *classWeights, defaultReducer string) Loss {
	m := newMetric(p, f, defaultReducer)
	m.weightReg = readRegularization(p, "weight")
	return &shapedLoss{m, cw}
}

// Fresh implements config.Stateful: each fold sizes and draws its own class
// weights.
func (s *shapedLoss) Fresh() Loss {
	cw := s.cw.fresh()
	m := *s.metricLoss
	m.f = m.f.(classLoss).with(cw) // newShaped's f
	return &shapedLoss{&m, cw}
}

func (s *shapedLoss) SetShape(numClasses, embeddingSize int) error {
	if err := s.cw.setShape(numClasses, embeddingSize); err != nil {
		return fmt.Errorf("%s: %w", s.where, err)
	}
	return nil
}

func (s *shapedLoss) InitWeights(rng *rand.Rand) {
	if s.cw.w != nil {
		s.cw.init(s.cw.w, rng)
	}
}

// initNormal is torch.nn.init.normal_ (PML's default weight_init_func).
func initNormal(w *Weight, rng *rand.Rand) {
	for i := range w.Value {
		w.Value[i] = rng.NormFloat64()
	}
}

// initKaimingNormalFanOut is torch.nn.init.kaiming_normal_(mode="fan_out"):
// std sqrt(2 / fan_out), fan_out being the number of rows.
func initKaimingNormalFanOut(w *Weight, rng *rand.Rand) {
	std := math.Sqrt(2 / float64(w.Shape[0]))
	for i := range w.Value {
		w.Value[i] = std * rng.NormFloat64()
	}
}

// initKaimingUniformSqrt5 is torch.nn.init.kaiming_uniform_(a=sqrt(5)):
// uniform in ±1/sqrt(fan_in), fan_in being the number of columns.
func initKaimingUniformSqrt5(w *Weight, rng *rand.Rand) {
	bound := 1 / math.Sqrt(float64(w.Shape[1]))
	for i := range w.Value {
		w.Value[i] = bound * (2*rng.Float64() - 1)
	}
}
