package trainer

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/nn"
)

// TestCascadedSlices checks that each slice's loss is computed on its
// columns alone and that its weighted gradient lands in those columns; a
// slice without a loss (or with weight 0) gets none.
func TestCascadedSlices(t *testing.T) {
	const n, d = 8, 6
	sizes := []int{2, 3, 1}
	m, err := nn.New(nn.Config{Trunk: must(nn.Trunks.Build(config.C("Identity", nil))), InputShape: []int{d}, BatchSize: n})
	if err != nil {
		t.Fatal(err)
	}
	build := func(typ string) loss.Loss { return must(loss.Losses.Build(config.C(typ, nil))) }
	f := &Fold{Model: m,
		Losses:  map[string]loss.Loss{"metric_loss_0": build("ContrastiveLoss"), "metric_loss_1": build("TripletMarginLoss"), "metric_loss_2": build("ContrastiveLoss")},
		Weights: map[string]float64{"metric_loss_0": 0.5, "metric_loss_1": 2, "metric_loss_2": 0}}
	rng := rand.New(rand.NewPCG(1, 2))
	emb := make([]float32, n*d)
	for i := range emb {
		emb[i] = float32(rng.NormFloat64())
	}
	labels := []int{0, 0, 1, 1, 2, 2, 3, 3}
	c := CascadedEmbeddings{EmbeddingSizes: sizes}
	l := NewStep(f, c, nn.Outputs[float32]{Emb: emb}, labels)
	if err := c.Losses(l); err != nil {
		t.Fatal(err)
	}
	var wantTotal float64
	start := 0
	for i, size := range sizes {
		slice := make([]float64, n*size)
		for r := range n {
			for c := range size {
				slice[r*size+c] = float64(emb[r*d+start+c])
			}
		}
		w := []float64{0.5, 2, 0}[i]
		v, g, err := f.Losses[[]string{"metric_loss_0", "metric_loss_1", "metric_loss_2"}[i]].Compute(slice, n, size, labels, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantTotal += w * v
		// Each loss records its unweighted value; one left out by a zero
		// weight is not computed, so not recorded.
		if got, ok := l.Parts[[]string{"metric_loss_0", "metric_loss_1", "metric_loss_2"}[i]]; ok != (w != 0) || ok && math.Abs(got-v) > 1e-12 {
			t.Errorf("slice %d: recorded loss %v (%v); want %v (%v)", i, got, ok, v, w != 0)
		}
		for r := range n {
			for c := range size {
				if got, want := l.DEmb[r*d+start+c], w*g[r*size+c]; math.Abs(got-want) > 1e-12 {
					t.Errorf("slice %d, row %d, column %d: gradient %v; want %v", i, r, c, got, want)
				}
			}
		}
		start += size
	}
	if math.Abs(l.Total-wantTotal) > 1e-12 || wantTotal == 0 {
		t.Errorf("total %v; want %v (non-zero)", l.Total, wantTotal)
	}
}

// TestCascadedHeads checks that classifier_loss_<i> is computed on the
// logits of head classifier_<i> alone (the model puts the heads' logits
// side by side) and that its weighted gradient lands in those logits.
func TestCascadedHeads(t *testing.T) {
	const n, d, k = 4, 6, 3
	head := must(nn.Classifiers.Build(config.C("MLP", nil)))
	m, err := nn.New(nn.Config{Trunk: must(nn.Trunks.Build(config.C("Identity", nil))), InputShape: []int{d}, BatchSize: n,
		NumClasses: k, Heads: []nn.Head{{Name: "classifier_0", MLP: head, Start: 0, Size: 2}, {Name: "classifier_2", MLP: head, Start: 5, Size: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	ce := func() loss.Loss { return must(loss.Losses.Build(config.C("CrossEntropyLoss", nil))) }
	f := &Fold{Model: m, Losses: map[string]loss.Loss{"classifier_loss_0": ce(), "classifier_loss_2": ce()},
		Weights: map[string]float64{"classifier_loss_0": 1, "classifier_loss_2": 0.5}}
	b, err := CascadedEmbeddings{EmbeddingSizes: []int{2, 3, 1}}.Start(f)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	logits := make([]float32, n*2*k)
	for i := range logits {
		logits[i] = float32(rng.NormFloat64())
	}
	labels := []int{0, 1, 2, 1}
	s := NewStep(f, b, nn.Outputs[float32]{Emb: make([]float32, n*d), Logits: logits}, labels)
	if err := b.Losses(s); err != nil {
		t.Fatal(err)
	}
	var wantTotal float64
	for h, name := range []string{"classifier_loss_0", "classifier_loss_2"} {
		own := make([]float64, n*k)
		for r := range n {
			for c := range k {
				own[r*k+c] = float64(logits[(r*2+h)*k+c])
			}
		}
		v, g, err := f.Losses[name].Compute(own, n, k, labels, nil)
		if err != nil {
			t.Fatal(err)
		}
		w := f.Weights[name]
		wantTotal += w * v
		for r := range n {
			for c := range k {
				if got, want := s.DLogits[(r*2+h)*k+c], w*g[r*k+c]; math.Abs(got-want) > 1e-12 {
					t.Errorf("%s, row %d, class %d: gradient %v; want %v", name, r, c, got, want)
				}
			}
		}
	}
	if math.Abs(s.Total-wantTotal) > 1e-9 || wantTotal == 0 {
		t.Errorf("total %v; want %v (non-zero)", s.Total, wantTotal)
	}
}
