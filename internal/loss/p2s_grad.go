package loss

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bench-ml/bench/internal/config"
)

// p2sGrad is PML's P2SGradLoss: the mean squared error between the cosines
// of the embeddings with the columns of weight (descriptors_dim x
// num_classes, kept at unit length) and the one-hot labels. Its gradient is
// the one the P2SGrad paper prescribes. PML renormalises the weights in
// place before every batch, outside the graph, so the gradient of the
// weights is that of the renormalised ones taken as they are, not the
// derivative of the value through the renormalisation.
type p2sGrad struct {
	*classWeights
}

func newP2SGrad(p *config.Params) Loss {
	l := &p2sGrad{readClassWeightsSized(p, "descriptors_dim", "weight", embeddingByClass, initP2SGrad)}
	// PML's P2SGradLoss has no weight_regularizer: newShaped would read one.
	return &shapedLoss{newMetric(p, l, "MeanReducer"), l.classWeights}
}

func (l p2sGrad) with(cw *classWeights) lossFunc { l.classWeights = cw; return &l }

func (*p2sGrad) refusesTuples() {}

func (l *p2sGrad) subLosses(b *batch) ([]subLoss, error) {
	w, err := l.node(b)
	if err != nil {
		return nil, err
	}
	if err := renormColumns(l.w); err != nil {
		return nil, err
	}
	n, c := len(b.labels), l.numClasses
	if n == 0 {
		return nil, nil
	}
	t := b.t
	norms := t.Sqrt(t.RowSums(t.Square(b.emb)))
	cos := t.Clamp(t.Div(t.MatMul(b.emb, w), norms), -1, 1)
	oneHot := make([]float64, n*c)
	for i, y := range b.labels {
		oneHot[i*c+y] = 1
	}
	loss := t.Mean(t.Square(t.Sub(cos, t.Const(oneHot, n, c))))
	return []subLoss{{name: "loss", losses: loss, reduced: true, divisor: noDivisor}}, nil
}

// renormColumns is PML's weight.renorm(2, 1, 1e-5).mul(1e5): each column of
// norm above 1e-5 scaled by 1e-5/(norm + 1e-7) (torch.renorm's epsilon),
// then every column by 1e5; as PML, it fails unless the columns then have
// unit length (within 1e-5), which only a column of norm at most 1e-5
// misses.
func renormColumns(w *Weight) error {
	rows, cols := w.Shape[0], w.Shape[1]
	for j := range cols {
		norm := 0.0
		for i := range rows {
			norm += w.Value[i*cols+j] * w.Value[i*cols+j]
		}
		norm = math.Sqrt(norm)
		factor := 1.0
		if norm > 1e-5 {
			factor = 1e-5 / (norm + 1e-7)
		}
		after := 0.0
		for i := range rows {
			v := w.Value[i*cols+j] * factor * 1e5
			w.Value[i*cols+j] = v
			after += v * v
		}
		if math.Abs(math.Sqrt(after)-1) >= 1e-5 {
			return fmt.Errorf("column %d of weight has norm %g: it cannot be renormalised to 1", j, norm)
		}
	}
	return nil
}

// initP2SGrad is PML's uniform_(-1, 1).renorm_(2, 1, 1e-5).mul_(1e5):
// uniform values, each column then scaled to unit length.
func initP2SGrad(w *Weight, rng *rand.Rand) {
	for i := range w.Value {
		w.Value[i] = 2*rng.Float64() - 1
	}
	_ = renormColumns(w) // a column of norm 1e-5 or less: the next batch fails, as in PML
}
