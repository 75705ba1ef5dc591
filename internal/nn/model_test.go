package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
)

// embLoss is a loss callback that pulls the embeddings towards zero.
func embLoss[T Float](out Outputs[T]) (Grads[T], error) { return Grads[T]{Emb: out.Emb}, nil }

// sgd takes one plain gradient step on every parameter; tests that compare
// results after it must not compare NaNs.
func sgd[T Float](t *testing.T, m *Model[T], lr T) {
	t.Helper()
	for _, ps := range m.Groups() {
		for _, p := range ps {
			for i := range p.Value {
				p.Value[i] -= lr * p.Grad[i]
				if v := float64(p.Value[i]); math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("%s diverged", p.Name)
				}
			}
		}
	}
}

func mustStep[T Float](t *testing.T, m *Model[T], x []T) {
	t.Helper()
	if err := m.TrainStep(x, embLoss[T]); err != nil {
		t.Fatal(err)
	}
}

func mustEmbed[T Float](t *testing.T, m *Model[T], x []T, n int) []T {
	t.Helper()
	e, err := m.Embed(x, n)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestOutputShapes(t *testing.T) {
	cases := []struct {
		trunk      string
		params     map[string]any
		input      []int
		embedder   []any // nil: no embedder
		classes    int
		trunkSize  int
		embSize    int
		wantGroups []string
	}{
		{"ConvNet", nil, []int{1, 28, 28}, []any{128}, 0, 128, 128, []string{"embedder", "trunk"}},
		{"ConvNet", map[string]any{"channels": []any{4, 6}, "pool": "avg"}, []int{3, 16, 12}, []any{16, 8}, 5, 6, 8, []string{"classifier", "embedder", "trunk"}},
		{"ConvNet", map[string]any{"channels": []any{5}, "batchnorm": false}, []int{1, 3, 3}, nil, 0, 5, 5, []string{"trunk"}},
		{"ResNet", map[string]any{"channels": []any{4, 8}, "blocks": 2}, []int{1, 12, 12}, []any{}, 3, 8, 8, []string{"classifier", "trunk"}},
		{"Identity", nil, []int{2, 3, 4}, []any{6}, 4, 24, 6, []string{"classifier", "embedder"}},
		{"Identity", nil, []int{10}, nil, 0, 10, 10, nil},
		{"resnet18", nil, []int{3, 32, 40}, []any{8}, 0, 512, 8, []string{"embedder", "trunk"}},
		{"resnet34", map[string]any{"layers_to_extract": []any{"layer3", "layer4"}}, []int{3, 32, 32}, nil, 0, 768, 768, []string{"trunk"}},
		{"resnet50", nil, []int{3, 33, 32}, nil, 0, 2048, 2048, []string{"trunk"}},
		{"resnet101", map[string]any{"layers_to_extract": []any{"layer1"}}, []int{3, 32, 32}, nil, 0, 256, 256, []string{"trunk"}},
		{"googlenet", nil, []int{3, 32, 32}, nil, 0, 1024, 1024, []string{"trunk"}},
		{"inception_v3", map[string]any{"layers_to_extract": []any{"Mixed_6e", "fc"}}, []int{3, 75, 80}, []any{8}, 0, 768 + 2048, 8, []string{"embedder", "trunk"}},
		{"bninception", map[string]any{"layers_to_extract": []any{"inception_4e", "inception_5b"}}, []int{3, 64, 68}, []any{4}, 2, 2080, 4, []string{"classifier", "embedder", "trunk"}},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.trunk] = true
		t.Run(fmt.Sprint(tc.trunk, tc.params, tc.input, tc.embedder, tc.classes), func(t *testing.T) {
			const batch = 3
			cfg := Config{Trunk: component(t, Trunks, tc.trunk, tc.params), InputShape: tc.input, BatchSize: batch, EvalBatchSize: 2, Seed: 1}
			if tc.embedder != nil {
				cfg.Embedder = component(t, Embedders, "MLP", map[string]any{"layer_sizes": tc.embedder})
			}
			if tc.classes > 0 {
				cfg.Classifier, cfg.NumClasses = component(t, Classifiers, "MLP", nil), tc.classes
			}
			m := newTestModel[float32](t, cfg)
			if m.TrunkSize() != tc.trunkSize || m.EmbeddingSize() != tc.embSize || m.NumClasses() != tc.classes {
				t.Fatalf("sizes trunk %d, embedding %d, classes %d; want %d, %d, %d",
					m.TrunkSize(), m.EmbeddingSize(), m.NumClasses(), tc.trunkSize, tc.embSize, tc.classes)
			}
			if m.InputSize() != product(tc.input) || m.BatchSize() != batch {
				t.Fatalf("input size %d, batch %d", m.InputSize(), m.BatchSize())
			}
			var groups []string
			for g := range m.Groups() {
				groups = append(groups, g)
			}
			slices.Sort(groups)
			if !slices.Equal(groups, tc.wantGroups) {
				t.Errorf("groups %v, want %v", groups, tc.wantGroups)
			}
			x := randomInput[float32](rand.New(rand.NewSource(1)), batch*m.InputSize())
			err := m.TrainStep(x, func(out Outputs[float32]) (Grads[float32], error) {
				if len(out.Trunk) != batch*tc.trunkSize || len(out.Emb) != batch*tc.embSize || len(out.Logits) != batch*tc.classes {
					t.Errorf("outputs of %d, %d, %d values", len(out.Trunk), len(out.Emb), len(out.Logits))
				}
				return Grads[float32]{}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if e := mustEmbed(t, m, x, batch); len(e) != batch*tc.embSize {
				t.Errorf("Embed: %d values, want %d", len(e), batch*tc.embSize)
			}
			if e, err := m.EmbedTrunk(x, batch); err != nil || len(e) != batch*tc.trunkSize {
				t.Errorf("EmbedTrunk: %d values, %v; want %d", len(e), err, batch*tc.trunkSize)
			}
		})
	}
	for _, name := range Trunks.Names() {
		if !covered[name] {
			t.Errorf("trunk %s has no shape test", name)
		}
	}
}

// TestTrainStepRunsForwardOnce shows that the loss callback is called once
// per step: the forward pass, loss and backward pass are one graph run.
func TestTrainStepRunsForwardOnce(t *testing.T) {
	m := newTestModel[float32](t, smallConfig(t, nil))
	x := randomInput[float32](rand.New(rand.NewSource(1)), m.BatchSize()*m.InputSize())
	calls := 0
	for step := 1; step <= 3; step++ {
		err := m.TrainStep(x, func(out Outputs[float32]) (Grads[float32], error) {
			calls++
			return Grads[float32]{Emb: out.Emb, Logits: out.Logits}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if calls != step {
			t.Fatalf("after %d steps the loss was called %d times", step, calls)
		}
	}
}

func TestTrainStepErrors(t *testing.T) {
	m := newTestModel[float32](t, smallConfig(t, nil))
	x := randomInput[float32](rand.New(rand.NewSource(1)), m.BatchSize()*m.InputSize())
	errLoss := errors.New("loss failed")
	for _, tc := range []struct {
		name string
		x    []float32
		loss func(Outputs[float32]) (Grads[float32], error)
		want string
	}{
		{"loss error", x, func(Outputs[float32]) (Grads[float32], error) { return Grads[float32]{}, errLoss }, "loss failed"},
		{"embedding gradient size", x, func(Outputs[float32]) (Grads[float32], error) {
			return Grads[float32]{Emb: make([]float32, 3)}, nil
		}, "embeddings has 3 values; want 20"},
		{"logits gradient size", x, func(Outputs[float32]) (Grads[float32], error) {
			return Grads[float32]{Logits: make([]float32, 13)}, nil
		}, "logits has 13 values; want 12"},
		{"input size", x[1:], embLoss[float32], "got 511 input values; want 512"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := m.TrainStep(tc.x, tc.loss)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if err := m.TrainStep(x, func(Outputs[float32]) (Grads[float32], error) { return Grads[float32]{}, errLoss }); !errors.Is(err, errLoss) {
		t.Errorf("the loss's error is returned as %v", err)
	}
	mustStep(t, m, x) // the model still works after failed steps
}

// TestStepsUpdate guards against Gorgonia's RunAll doing nothing without a
// Reset: every step must run the graph on the current parameters.
func TestStepsUpdate(t *testing.T) {
	m := newTestModel[float32](t, smallConfig(t, nil))
	x := randomInput[float32](rand.New(rand.NewSource(1)), m.BatchSize()*m.InputSize())
	var embs [][]float32
	var grads [][]float32
	for range 2 {
		err := m.TrainStep(x, func(out Outputs[float32]) (Grads[float32], error) {
			embs = append(embs, slices.Clone(out.Emb))
			return Grads[float32]{Emb: out.Emb}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		grads = append(grads, slices.Clone(m.Groups()["trunk"][0].Grad))
		sgd(t, m, 0.1)
	}
	if slices.Equal(embs[0], embs[1]) || slices.Equal(grads[0], grads[1]) {
		t.Fatal("the second step after an update gave the same embeddings or gradients")
	}
	e1 := mustEmbed(t, m, x, m.BatchSize())
	sgd(t, m, 0.1)
	if e2 := mustEmbed(t, m, x, m.BatchSize()); slices.Equal(e1, e2) {
		t.Fatal("Embed after an update gave the same embeddings")
	}
}

// TestGraphsDoNotWriteParameters checks that no op of either graph writes
// into a shared parameter (Gorgonia reshapes or overwrites inputs in place
// when it thinks they are dead).
func TestGraphsDoNotWriteParameters(t *testing.T) {
	cfg := smallConfig(t, nil)
	cfg.Trunk = component(t, Trunks, "ResNet", map[string]any{"channels": []any{3, 4}})
	m := newTestModel[float32](t, cfg)
	before := map[string][]float32{}
	for _, p := range m.params {
		before[p.Name] = slices.Clone(p.Value)
	}
	x := randomInput[float32](rand.New(rand.NewSource(1)), m.BatchSize()*m.InputSize())
	for range 2 {
		mustStep(t, m, x)
		mustEmbed(t, m, x, m.BatchSize())
	}
	for _, p := range m.params {
		if !slices.Equal(before[p.Name], p.Value) {
			t.Errorf("%s changed", p.Name)
		}
		if &p.value.Data().([]float32)[0] != &p.Value[0] || p.value.Shape().TotalSize() != len(p.Value) {
			t.Errorf("%s: the graph tensor no longer aliases the parameter", p.Name)
		}
	}
}

// trainedModel is smallConfig after a few SGD steps, so that its running
// statistics are away from their initial values.
func trainedModel[T Float](t *testing.T, cfg Config) (*Model[T], *rand.Rand) {
	m := newTestModel[T](t, cfg)
	rng := rand.New(rand.NewSource(5))
	for range 3 {
		mustStep(t, m, randomInput[T](rng, m.BatchSize()*m.InputSize()))
		sgd(t, m, 0.05)
	}
	for _, bn := range m.bns {
		if bn.runMean[0] == 0 || bn.runVar[0] == 1 {
			t.Fatal("the running statistics did not move")
		}
	}
	return m, rng
}

// TestEmbedUsesRunningStatistics: in eval mode each example's embedding is
// independent of the rest of its batch, and of the padding of the last chunk.
func TestEmbedUsesRunningStatistics(t *testing.T) {
	m, rng := trainedModel[float32](t, smallConfig(t, nil))
	const n = 7 // one full chunk of 4 and a padded one of 3
	x := randomInput[float32](rng, n*m.InputSize())
	all := mustEmbed(t, m, x, n)
	d, in := m.EmbeddingSize(), m.InputSize()
	for i := range n {
		one := mustEmbed(t, m, x[i*in:(i+1)*in], 1)
		if !slices.Equal(one, all[i*d:(i+1)*d]) {
			t.Fatalf("example %d: alone %v, in a batch %v", i, one, all[i*d:(i+1)*d])
		}
	}
	// The training graph normalises with the batch's statistics instead.
	err := m.TrainStep(x[:4*in], func(out Outputs[float32]) (Grads[float32], error) {
		if slices.Equal(out.Emb, all[:4*d]) {
			t.Error("training and eval embeddings are equal")
		}
		return Grads[float32]{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRunningStatisticsUpdate checks PyTorch's update on a one-block
// ConvNet: running = 0.9*running + 0.1*batch, the variance unbiased.
func TestRunningStatisticsUpdate(t *testing.T) {
	cfg := smallConfig(t, map[string]any{"channels": []any{3}})
	m := newTestModel[float64](t, cfg)
	x := randomInput[float64](rand.New(rand.NewSource(6)), m.BatchSize()*m.InputSize())
	conv := paramsOf(m).conv(ref{4, 2, 8, 8, x}, "trunk.blocks.0.conv", 3, 3, 1, false)
	mustStep(t, m, x)
	bn := m.bnByName["trunk.blocks.0.bn"]
	n := float64(4 * 8 * 8)
	for c := range 3 {
		var mean, ss float64
		for i, v := range conv.v {
			if (i/64)%3 == c {
				mean += v / n
			}
		}
		for i, v := range conv.v {
			if (i/64)%3 == c {
				ss += (v - mean) * (v - mean)
			}
		}
		wantMean, wantVar := 0.1*mean, 0.9+0.1*ss/(n-1)
		if math.Abs(bn.runMean[c]-wantMean) > 1e-12 || math.Abs(bn.runVar[c]-wantVar) > 1e-12 {
			t.Errorf("channel %d: running mean %g, var %g; want %g, %g", c, bn.runMean[c], bn.runVar[c], wantMean, wantVar)
		}
	}
}

// TestRunningStatisticsSurviveNewMachines: Gorgonia's own BatchNorm resets
// its statistics when a TapeMachine is made (which calls SetTraining) on its
// graph; bench's do not.
func TestRunningStatisticsSurviveNewMachines(t *testing.T) {
	m, rng := trainedModel[float32](t, smallConfig(t, nil))
	x := randomInput[float32](rng, m.BatchSize()*m.InputSize())
	stats := func() (s [][]float32) {
		for _, bn := range m.bns {
			s = append(s, slices.Clone(bn.runMean), slices.Clone(bn.runVar))
		}
		return s
	}
	before, emb := stats(), mustEmbed(t, m, x, m.BatchSize())
	for _, g := range []*G.ExprGraph{m.train.g, m.eval.g} {
		vm := G.NewTapeMachine(g)
		vm.Close()
	}
	if !slices.EqualFunc(before, stats(), slices.Equal) {
		t.Fatal("new machines changed the running statistics")
	}
	if !slices.Equal(emb, mustEmbed(t, m, x, m.BatchSize())) {
		t.Fatal("new machines changed the embeddings")
	}
}

// TestFreezeTrunkBatchNorm: frozen statistics stay put, and the training
// graph then normalises as the eval graph does.
func TestFreezeTrunkBatchNorm(t *testing.T) {
	m, rng := trainedModel[float64](t, smallConfig(t, nil))
	m.SetFreezeTrunkBatchNorm(true)
	x := randomInput[float64](rng, m.BatchSize()*m.InputSize())
	want := mustEmbed(t, m, x, m.BatchSize())
	var before []float64
	for _, bn := range m.bns {
		before = append(append(before, bn.runMean...), bn.runVar...)
	}
	err := m.TrainStep(x, func(out Outputs[float64]) (Grads[float64], error) {
		assertClose(t, "frozen training embeddings", out.Emb, want, 1e-12)
		return Grads[float64]{Emb: out.Emb}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var after []float64
	for _, bn := range m.bns {
		after = append(append(after, bn.runMean...), bn.runVar...)
	}
	if !slices.Equal(before, after) {
		t.Fatal("frozen running statistics changed")
	}
	m.SetFreezeTrunkBatchNorm(false)
	mustStep(t, m, x)
	if m.bns[0].runMean[0] == before[0] {
		t.Fatal("unfrozen running statistics did not change")
	}
}

// TestDeterminism: the same seed gives the same weights and the same
// training, bit for bit, on one thread or two; another seed gives other
// weights.
func TestDeterminism(t *testing.T) {
	run := func(seed int64) (init, emb []float32) {
		// Big enough for gonum to split the matrix products between threads.
		m := newTestModel[float32](t, Config{
			Trunk:      component(t, Trunks, "ConvNet", nil),
			Embedder:   component(t, Embedders, "MLP", nil),
			InputShape: []int{1, 16, 16}, BatchSize: 8, Seed: seed,
		})
		for _, p := range m.params {
			init = append(init, p.Value...)
		}
		rng := rand.New(rand.NewSource(7))
		for range 3 {
			mustStep(t, m, randomInput[float32](rng, m.BatchSize()*m.InputSize()))
			sgd(t, m, 0.001)
		}
		return init, mustEmbed(t, m, randomInput[float32](rng, 5*m.InputSize()), 5)
	}
	init1, emb1 := run(1)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	init2, emb2 := run(1)
	if !slices.Equal(init1, init2) || !slices.Equal(emb1, emb2) {
		t.Fatal("the same seed gave different weights or embeddings")
	}
	if init3, _ := run(2); slices.Equal(init1, init3) {
		t.Fatal("another seed gave the same weights")
	}
}

// TestInitialisation checks PyTorch's defaults: conv and linear weights and
// biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)), BatchNorm weight 1, bias 0,
// running mean 0, running variance 1.
func TestInitialisation(t *testing.T) {
	m := newTestModel[float32](t, Config{
		Trunk:      component(t, Trunks, "ConvNet", nil),
		Embedder:   component(t, Embedders, "MLP", nil),
		InputShape: []int{1, 28, 28}, BatchSize: 2, Seed: 1,
	})
	for _, tc := range []struct {
		name  string
		fanIn int
	}{
		{"trunk.blocks.0.conv.weight", 1 * 9},
		{"trunk.blocks.1.conv.weight", 32 * 9},
		{"trunk.blocks.2.conv.weight", 64 * 9},
		{"embedder.net.0.weight", 128},
		{"embedder.net.0.bias", 128},
	} {
		v := m.byName[tc.name].Value
		bound := 1 / math.Sqrt(float64(tc.fanIn))
		var mean, sq float64
		for _, x := range v {
			if math.Abs(float64(x)) > bound {
				t.Fatalf("%s: %g outside ±%g", tc.name, x, bound)
			}
			mean += float64(x) / float64(len(v))
			sq += float64(x) * float64(x) / float64(len(v))
		}
		// The uniform distribution's mean 0 and variance bound²/3, within
		// four standard errors.
		n := float64(len(v))
		if wantVar := bound * bound / 3; math.Abs(mean) > 4*math.Sqrt(wantVar/n) || math.Abs(sq-wantVar) > 4*wantVar*math.Sqrt(0.8/n) {
			t.Errorf("%s: mean %g, mean square %g; want 0, %g", tc.name, mean, sq, wantVar)
		}
	}
	for _, bn := range m.bns {
		if slices.ContainsFunc(bn.runMean, func(v float32) bool { return v != 0 }) ||
			slices.ContainsFunc(bn.runVar, func(v float32) bool { return v != 1 }) {
			t.Fatal("running statistics do not start at mean 0, variance 1")
		}
	}
	for _, p := range m.params {
		if strings.HasSuffix(p.Name, ".bn.weight") && slices.ContainsFunc(p.Value, func(v float32) bool { return v != 1 }) ||
			strings.HasSuffix(p.Name, ".bn.bias") && slices.ContainsFunc(p.Value, func(v float32) bool { return v != 0 }) {
			t.Fatalf("%s does not start at PyTorch's default", p.Name)
		}
	}
}

// TestFloat32MatchesFloat64: the float32 model computes what the float64
// one (whose gradients are checked against finite differences) does.
func TestFloat32MatchesFloat64(t *testing.T) {
	cfg := smallConfig(t, nil)
	m32, m64 := newTestModel[float32](t, cfg), newTestModel[float64](t, cfg)
	x := randomInput[float64](rand.New(rand.NewSource(8)), m64.BatchSize()*m64.InputSize())
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
	}
	mustStep(t, m64, x)
	mustStep(t, m32, x32)
	for i, p := range m64.params {
		got := make([]float64, len(p.Grad))
		for j, v := range m32.params[i].Grad {
			got[j] = float64(v)
		}
		var diff, norm float64
		for j := range got {
			diff += (got[j] - p.Grad[j]) * (got[j] - p.Grad[j])
			norm += p.Grad[j] * p.Grad[j]
		}
		if math.Sqrt(diff) > 1e-4*math.Sqrt(norm)+1e-6 {
			t.Errorf("%s: float32 gradient differs by %g (norm %g)", p.Name, math.Sqrt(diff), math.Sqrt(norm))
		}
	}
}

// TestIdentityEmbedder: `embedder: {Identity: {}}`, as powerful_benchmarker
// users write PML's Identity, makes the embeddings the trunk outputs.
func TestIdentityEmbedder(t *testing.T) {
	cfg := Config{Trunk: component(t, Trunks, "ConvNet", map[string]any{"channels": []any{3}}),
		Embedder: component(t, Embedders, "Identity", nil), InputShape: []int{2, 8, 8}, BatchSize: 2, Seed: 1}
	m := newTestModel[float64](t, cfg)
	x := randomInput[float64](rand.New(rand.NewSource(1)), 2*m.InputSize())
	emb, err := m.Embed(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	trunk, err := m.EmbedTrunk(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	if m.EmbeddingSize() != 3 || !slices.Equal(emb, trunk) {
		t.Errorf("embeddings %v (size %d); want the trunk outputs %v", emb, m.EmbeddingSize(), trunk)
	}
	if len(m.Groups()["embedder"]) != 0 {
		t.Errorf("the identity has parameters: %v", m.Groups()["embedder"])
	}
}
