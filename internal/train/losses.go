package train

import (
	"fmt"
	"github.com/bench-ml/bench/internal/eval"

	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/nn"
)

// stepLosses adds up one step's weighted losses, and their gradients with
// respect to the model's outputs, in float64.
type stepLosses struct {
	f      *fold
	out    nn.Outputs[float32]
	labels []int
	emb    []float64 // the embeddings, batch x EmbeddingSize()
	total  float64
	// parts are what the losses record of the step besides the total:
	// each loss's unweighted value and each miner's tuple counts.
	parts map[string]float64
	// The gradients, nil until a loss uses that output.
	dEmb, dLogits, dTrunk, dSynth, dSynthEmb []float64
}

func newStepLosses(f *fold, out nn.Outputs[float32], labels []int) *stepLosses {
	return &stepLosses{f: f, out: out, labels: labels, emb: eval.Convert[float64](out.Emb), parts: map[string]float64{}}
}

// grads are the gradients the model backpropagates.
func (l *stepLosses) grads() nn.Grads[float32] {
	return nn.Grads[float32]{Emb: eval.Convert[float32](l.dEmb), Logits: eval.Convert[float32](l.dLogits),
		Trunk: eval.Convert[float32](l.dTrunk), Synth: eval.Convert[float32](l.dSynth), SynthEmb: eval.Convert[float32](l.dSynthEmb)}
}

// mine returns the tuples of the named miner, nil (all tuples) without one.
func (l *stepLosses) mine(name string, x []float64, n, d int) (*loss.Tuples, error) {
	m, ok := l.f.miners[name]
	if !ok {
		return nil, nil
	}
	t, err := m.Mine(x, n, d, l.labels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if t.Triplets {
		l.parts[name+"_triplets"] = float64(len(t.Anchor))
	} else {
		l.parts[name+"_pos_pairs"] = float64(len(t.A1))
		l.parts[name+"_neg_pairs"] = float64(len(t.A2))
	}
	return t, nil
}

// add computes the named loss on x (n x d) unless its weight is 0, as PML
// skips it, and adds weight*sign times its value to the total and its
// gradient to *dx; sign -1 is DAML's g_adv_loss (PML's maybe_modify_loss).
// The gradients of the loss's own weights are scaled alike.
func (l *stepLosses) add(name string, x []float64, n, d int, labels []int, tuples *loss.Tuples, dx *[]float64, sign float64) error {
	w := l.f.weight(name) * sign
	if w == 0 {
		return nil
	}
	v, g, err := l.f.losses[name].Compute(x, n, d, labels, tuples)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	l.total += w * v
	l.parts[name] = v
	accumulate(dx, g, w)
	if w != 1 {
		for _, wt := range l.f.losses[name].Weights() {
			for i := range wt.Grad {
				wt.Grad[i] *= w
			}
		}
	}
	return nil
}

// metricAndClassifier are MetricLossOnly's and TrainWithClassifier's losses:
// metric_loss on the embeddings with tuple_miner's tuples, and
// classifier_loss on the logits when there is a classifier.
func (l *stepLosses) metricAndClassifier() error {
	n, d := len(l.labels), l.f.model.EmbeddingSize()
	tuples, err := l.mine("tuple_miner", l.emb, n, d)
	if err != nil {
		return err
	}
	if err := l.add("metric_loss", l.emb, n, d, l.labels, tuples, &l.dEmb, 1); err != nil {
		return err
	}
	if _, ok := l.f.losses["classifier_loss"]; ok {
		return l.add("classifier_loss", eval.Convert[float64](l.out.Logits), n, l.f.model.NumClasses(), l.labels, nil, &l.dLogits, 1)
	}
	return nil
}

// cascaded is CascadedEmbeddings' loss: the embedding split into
// consecutive slices of the given sizes, slice i mined by tuple_miner_i
// and scored by metric_loss_i, each when configured; a slice's gradient
// goes into its columns.
func (l *stepLosses) cascaded(sizes []int) error {
	n, d := len(l.labels), l.f.model.EmbeddingSize()
	start := 0
	for i, size := range sizes {
		slice := make([]float64, n*size)
		for r := range n {
			copy(slice[r*size:(r+1)*size], l.emb[r*d+start:r*d+start+size])
		}
		tuples, err := l.mine(fmt.Sprintf("tuple_miner_%d", i), slice, n, size)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("metric_loss_%d", i)
		var g []float64
		if _, ok := l.f.losses[name]; ok {
			if err := l.add(name, slice, n, size, l.labels, tuples, &g, 1); err != nil {
				return err
			}
		}
		if g != nil {
			if l.dEmb == nil {
				l.dEmb = make([]float64, n*d)
			}
			for r := range n {
				copy(l.dEmb[r*d+start:r*d+start+size], g[r*size:(r+1)*size])
			}
		}
		start += size
	}
	return nil
}

// accumulate adds w*g to *dst, allocating it on first use.
func accumulate(dst *[]float64, g []float64, w float64) {
	if *dst == nil {
		*dst = make([]float64, len(g))
	}
	for i, v := range g {
		(*dst)[i] += w * v
	}
}
