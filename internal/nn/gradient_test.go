package nn

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/optim"
)

// quadraticLoss is a known loss of the outputs,
// L = sum(a*emb + emb^2/2) + sum(c*logits + logits^2/4), with its gradient.
type quadraticLoss struct{ a, c []float64 }

func newQuadraticLoss(rng *rand.Rand, embs, logits int) quadraticLoss {
	return quadraticLoss{a: randomInput[float64](rng, embs), c: randomInput[float64](rng, logits)}
}

func (q quadraticLoss) eval(out Outputs[float64]) (float64, Grads[float64]) {
	var l float64
	g := Grads[float64]{Emb: make([]float64, len(out.Emb))}
	for i, e := range out.Emb {
		l += q.a[i]*e + e*e/2
		g.Emb[i] = q.a[i] + e
	}
	if out.Logits != nil {
		g.Logits = make([]float64, len(out.Logits))
		for i, z := range out.Logits {
			l += q.c[i]*z + z*z/4
			g.Logits[i] = q.c[i] + z/2
		}
	}
	return l, g
}

// step runs one training step and returns the loss.
func (q quadraticLoss) step(t *testing.T, m *Model[float64], x []float64) float64 {
	t.Helper()
	var l float64
	err := m.TrainStep(x, func(out Outputs[float64]) (Grads[float64], error) {
		var g Grads[float64]
		l, g = q.eval(out)
		return g, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestGradientFiniteDifferences checks every parameter's gradient against
// central differences of a known loss, in float64, for each trunk kind and
// for BatchNorm with batch statistics and frozen (running statistics).
func TestGradientFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		name   string
		trunk  string
		params map[string]any
		frozen bool
		heads  bool // CascadedEmbeddings' classifier heads on slices of the embedding
		// parts: the trunk output's columns count as extracted layers of
		// these sizes, embedded by a ListOfModels of the MLP.
		parts []int
	}{
		{"ConvNet max pool", "ConvNet", map[string]any{"channels": []any{4, 6}}, false, false, nil},
		{"ConvNet avg pool", "ConvNet", map[string]any{"channels": []any{4, 6}, "pool": "avg"}, false, false, nil},
		{"ConvNet kernel 1 (direct convolution)", "ConvNet", map[string]any{"channels": []any{4, 6}, "kernel_size": 1}, false, false, nil},
		{"ConvNet no batchnorm, kernel 5", "ConvNet", map[string]any{"channels": []any{3, 4}, "batchnorm": false, "kernel_size": 5}, false, false, nil},
		{"ConvNet frozen batchnorm", "ConvNet", map[string]any{"channels": []any{4, 6}}, true, false, nil},
		{"ResNet", "ResNet", map[string]any{"channels": []any{3, 4}}, false, false, nil},
		{"ResNet frozen batchnorm", "ResNet", map[string]any{"channels": []any{3, 4}}, true, false, nil},
		{"Identity", "Identity", nil, false, false, nil},
		{"ConvNet, classifier heads on slices", "ConvNet", map[string]any{"channels": []any{4, 6}}, false, true, nil},
		{"extracted layers, ListOfModels embedder", "Identity", nil, false, false, []int{48, 80}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smallConfig(t, nil)
			cfg.Trunk = component(t, Trunks, tc.trunk, tc.params)
			groups := []string{"trunk", "embedder", "classifier"}
			if tc.parts != nil {
				cfg.Trunk = extractingIdentity{cfg.Trunk.(*Identity), tc.parts}
				cfg.Embedder = component(t, Embedders, "ListOfModels", map[string]any{"model": map[string]any{"MLP": map[string]any{"layer_sizes": []any{7, 5}}}})
			}
			if tc.heads {
				// Slices [0, 2) and [2, 5) of the 5-wide embedding.
				head := component(t, Classifiers, "MLP", map[string]any{"layer_sizes": []any{3}})
				cfg.Classifier, cfg.Heads = nil, []Head{{"classifier_0", head, 0, 2}, {"classifier_1", head, 2, 3}}
				groups = []string{"trunk", "embedder", "classifier_0", "classifier_1"}
			}
			m := newTestModel[float64](t, cfg)
			for i, in := range tc.parts {
				// One MLP per part, on its part's size, named as powerful_benchmarker's state dict.
				name := fmt.Sprintf("embedder.list_of_models.%d.net.1.weight", i)
				if p := m.byName[name]; p == nil || !slices.Equal(p.Shape, []int{7, in}) {
					t.Fatalf("%s: %v; want shape [7 %d]", name, p, in)
				}
			}
			if tc.parts != nil && m.EmbeddingSize() != 5*len(tc.parts) {
				t.Fatalf("embedding size %d; want %d", m.EmbeddingSize(), 5*len(tc.parts))
			}
			rng := rand.New(rand.NewSource(3))
			x := randomInput[float64](rng, cfg.BatchSize*m.InputSize())
			q := newQuadraticLoss(rng, cfg.BatchSize*m.EmbeddingSize(), cfg.BatchSize*m.NumClasses()*max(1, len(cfg.Heads)))
			if tc.frozen {
				// Move the running statistics away from (0, 1) first.
				for range 3 {
					q.step(t, m, randomInput[float64](rng, len(x)))
				}
				m.SetFreezeTrunkBatchNorm(true)
			}
			q.step(t, m, x)
			var params []*optim.Param[float64]
			for _, group := range groups {
				if tc.heads && len(m.Groups()[group]) == 0 {
					t.Fatalf("no %s parameters", group)
				}
				params = append(params, m.Groups()[group]...)
			}
			grads := make([][]float64, len(params)) // before the steps below overwrite them
			for i, p := range params {
				grads[i] = append([]float64(nil), p.Grad...)
			}
			checked := 0
			for k, p := range params {
				for i, v := range p.Value {
					const h = 1e-6
					p.Value[i] = v + h
					lp := q.step(t, m, x)
					p.Value[i] = v - h
					lm := q.step(t, m, x)
					p.Value[i] = v
					fd := (lp - lm) / (2 * h)
					if got := grads[k][i]; math.Abs(got-fd) > 1e-7+1e-6*math.Abs(fd) {
						t.Errorf("%s[%d]: gradient %.10g, finite difference %.10g", p.Name, i, got, fd)
					}
					checked++
				}
			}
			if checked == 0 {
				t.Fatal("no parameters checked")
			}
		})
	}
}

// TestGeneratorGradientFiniteDifferences checks the gradients of the
// generator branch (DAML): the gather of triplet rows, the generator, the
// embedder applied a second time with shared parameters, and loss gradients
// taken directly with respect to the trunk output and the synthetic
// negatives. A parameter used twice must get the sum of both uses.
func TestGeneratorGradientFiniteDifferences(t *testing.T) {
	cfg := smallConfig(t, map[string]any{"channels": []any{3, 4}})
	cfg.Generator = component(t, Generators, "MLP", map[string]any{"layer_sizes": []any{1.5, 1}})
	cfg.NumTriplets = 5
	m := newTestModel[float64](t, cfg)
	// Repeated rows, as in random triplets: their gradients add up.
	if err := m.SetTriplets(Triplets{A: []int{0, 0, 1, 2, 3}, P: []int{1, 1, 0, 3, 2}, N: []int{2, 3, 3, 0, 0}}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(5))
	x := randomInput[float64](rng, cfg.BatchSize*m.InputSize())
	b, n := cfg.BatchSize, cfg.NumTriplets
	coef := map[string][]float64{
		"emb": randomInput[float64](rng, b*m.EmbeddingSize()), "logits": randomInput[float64](rng, b*m.NumClasses()),
		"trunk": randomInput[float64](rng, b*m.TrunkSize()), "synth": randomInput[float64](rng, n*m.TrunkSize()),
		"synth_emb": randomInput[float64](rng, n*m.EmbeddingSize()),
	}
	// L = sum over outputs of sum(c*o + o^2/2).
	step := func() float64 {
		var l float64
		err := m.TrainStep(x, func(out Outputs[float64]) (Grads[float64], error) {
			quad := func(name string, o []float64) []float64 {
				g := make([]float64, len(o))
				for i, v := range o {
					l += coef[name][i]*v + v*v/2
					g[i] = coef[name][i] + v
				}
				return g
			}
			return Grads[float64]{Emb: quad("emb", out.Emb), Logits: quad("logits", out.Logits), Trunk: quad("trunk", out.Trunk),
				Synth: quad("synth", out.Synth), SynthEmb: quad("synth_emb", out.SynthEmb)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	step()
	groups := m.Groups()
	if len(groups["generator"]) != 4 {
		t.Fatalf("generator has %d parameters; want 4 (two Linear layers)", len(groups["generator"]))
	}
	var params []*optim.Param[float64]
	for _, group := range []string{"trunk", "embedder", "classifier", "generator"} {
		params = append(params, groups[group]...)
	}
	grads := make([][]float64, len(params))
	for i, p := range params {
		grads[i] = append([]float64(nil), p.Grad...)
	}
	for k, p := range params {
		for i, v := range p.Value {
			const h = 1e-6
			p.Value[i] = v + h
			lp := step()
			p.Value[i] = v - h
			lm := step()
			p.Value[i] = v
			fd := (lp - lm) / (2 * h)
			if got := grads[k][i]; math.Abs(got-fd) > 1e-7+1e-6*math.Abs(fd) {
				t.Errorf("%s[%d]: gradient %.10g, finite difference %.10g", p.Name, i, got, fd)
			}
		}
	}
}

// TestGeneratorIsTrainingOnly: the eval graph has no generator, and a
// checkpoint holds the generator's weights.
func TestGeneratorIsTrainingOnly(t *testing.T) {
	cfg := smallConfig(t, nil)
	cfg.Generator = component(t, Generators, "MLP", nil)
	cfg.NumTriplets = 2
	m := newTestModel[float32](t, cfg)
	if err := m.TrainStep(make([]float32, cfg.BatchSize*m.InputSize()), nil); err == nil {
		t.Error("TrainStep without SetTriplets: no error")
	}
	if err := m.SetTriplets(Triplets{A: []int{0, 1}, P: []int{1, 0}, N: []int{4, 2}}); err == nil {
		t.Error("triplet index 4 in a batch of 4: no error")
	}
	path := t.TempDir() + "/m.safetensors"
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	plain := newTestModel[float32](t, smallConfig(t, nil))
	if err := plain.Load(path); err == nil || !strings.Contains(err.Error(), "generator.net") {
		t.Errorf("loading a checkpoint with a generator into a model without: got %v, want an unexpected generator tensor", err)
	}
}

// extractingIdentity is the Identity trunk whose output's columns count as
// the outputs of extracted layers of the sizes given: ListOfModels on an
// input small enough for finite differences.
type extractingIdentity struct {
	*Identity
	sizes []int
}

func (e extractingIdentity) parts() []int { return e.sizes }
