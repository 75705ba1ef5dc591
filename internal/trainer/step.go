package trainer

import (
	"fmt"

	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/miner"
	"github.com/bench-ml/bench/internal/nn"
)

// Step adds up one training step's weighted losses, and their gradients
// with respect to the model's outputs, in float64.
type Step struct {
	Fold      *Fold
	behaviour Behaviour
	Out       nn.Outputs[float32]
	Labels    []int
	Emb       []float64 // the embeddings, batch x EmbeddingSize()
	Total     float64
	// Parts are what the step records besides the total: each loss's
	// unweighted value and each miner's tuple counts.
	Parts map[string]float64
	// The gradients, nil until a loss uses that output.
	DEmb, DLogits, DTrunk, DSynth, DSynthEmb []float64
}

// NewStep starts a step of behaviour b on the model's outputs.
func NewStep(f *Fold, b Behaviour, out nn.Outputs[float32], labels []int) *Step {
	return &Step{Fold: f, behaviour: b, Out: out, Labels: labels, Emb: eval.Convert[float64](out.Emb), Parts: map[string]float64{}}
}

// Grads are the gradients the model backpropagates.
func (s *Step) Grads() nn.Grads[float32] {
	return nn.Grads[float32]{Emb: eval.Convert[float32](s.DEmb), Logits: eval.Convert[float32](s.DLogits),
		Trunk: eval.Convert[float32](s.DTrunk), Synth: eval.Convert[float32](s.DSynth), SynthEmb: eval.Convert[float32](s.DSynthEmb)}
}

// Weight is a loss's weight in this step: its loss_weights entry, or 0
// when the behaviour leaves the loss out.
func (s *Step) Weight(name string) float64 {
	if !s.behaviour.Uses(name) {
		return 0
	}
	return s.Fold.Weights[name]
}

// Mine returns the tuples of the named miner on x (n x d), nil (all
// tuples) without one, and records their counts.
func (s *Step) Mine(name string, x []float64, n, d int) (*loss.Tuples, error) {
	m, ok := s.Fold.Miners[name]
	if !ok {
		return nil, nil
	}
	t, err := m.Mine(x, n, d, s.Labels)
	return s.mined(name, t, err)
}

// MineRef returns the tuples of the named miner, which must be configured,
// with the anchors x (n x d) of labels against the references ref (nRef
// x d) of refLabels, and records their counts.
func (s *Step) MineRef(name string, x []float64, n int, labels []int, ref []float64, nRef int, refLabels []int, d int) (*loss.Tuples, error) {
	m, ok := s.Fold.Miners[name].(miner.RefMiner)
	if !ok {
		return nil, fmt.Errorf("%s: %T does not mine against reference embeddings", name, s.Fold.Miners[name])
	}
	t, err := m.MineRef(x, n, labels, ref, nRef, refLabels, d)
	return s.mined(name, t, err)
}

// mined records the counts of a miner's tuples.
func (s *Step) mined(name string, t *loss.Tuples, err error) (*loss.Tuples, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if t.Triplets {
		s.Parts[name+"_triplets"] = float64(len(t.Anchor))
	} else {
		s.Parts[name+"_pos_pairs"] = float64(len(t.A1))
		s.Parts[name+"_neg_pairs"] = float64(len(t.A2))
	}
	return t, nil
}

// Add computes the named loss on x (n x d) unless its weight is 0, as PML
// skips it, and adds weight*sign times its value to the total and its
// gradient to *dx; sign -1 is DAML's g_adv_loss (PML's maybe_modify_loss).
// The gradients of the loss's own weights are scaled alike.
func (s *Step) Add(name string, x []float64, n, d int, labels []int, tuples *loss.Tuples, dx *[]float64, sign float64) error {
	w := s.Weight(name) * sign
	if w == 0 {
		return nil
	}
	l := s.Fold.Losses[name]
	v, g, err := l.Compute(x, n, d, labels, tuples)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	s.Total += w * v
	s.Parts[name] = v
	Accumulate(dx, g, w)
	if w != 1 {
		for _, wt := range l.Weights() {
			for i := range wt.Grad {
				wt.Grad[i] *= w
			}
		}
	}
	return nil
}

// Accumulate adds w*g to *dst, allocating it on first use.
func Accumulate(dst *[]float64, g []float64, w float64) {
	if *dst == nil {
		*dst = make([]float64, len(g))
	}
	for i, v := range g {
		(*dst)[i] += w * v
	}
}
