package loss

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// fixedMemory is the loss of emb, as it is when f is called, in a fresh
// copy of the CrossBatchMemory l that saw what seeFirst shows it and then
// the batch as emb is now: the inner loss against that memory, on those
// tuples. PML detaches the memory (and mines without gradient), so the
// gradient of Compute is the gradient of f.
func fixedMemory(t *testing.T, l Loss, seeFirst func(Loss), emb []float64, n, d int, labels []int) func() float64 {
	t.Helper()
	x, tuples, ref := memoryAfter(t, l, seeFirst, emb, n, d, labels)
	return func() float64 {
		v, _, err := x.inner.computeRef(emb, n, d, labels, tuples, ref)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// memoryAfter is the fresh copy of fixedMemory, with the tuples and the
// references its inner loss gets for emb.
func memoryAfter(t *testing.T, l Loss, seeFirst func(Loss), emb []float64, n, d int, labels []int) (*crossBatchMemory, *Tuples, *reference) {
	t.Helper()
	x := config.Instance(l).(*crossBatchMemory)
	seeFirst(x)
	tuples, ref, err := x.enqueueAndPair(slices.Clone(emb), n, d, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	return x, tuples, ref
}

// xbm is a CrossBatchMemory config around inner, with more parameters.
func xbm(inner string, innerParams map[string]any, more map[string]any) config.Component {
	params := map[string]any{"loss": map[string]any{inner: innerParams}}
	for k, v := range more {
		params[k] = v
	}
	return config.C("CrossBatchMemory", params)
}

// TestCrossBatchMemoryGradients checks the gradient of every supported
// inner loss against finite differences on the second batch of 12: with a
// memory of 20 the queue wraps inside it (slots 12-19, then 0-3), with one
// of 40 it is not full yet; and with a miner of pairs and of triplets.
func TestCrossBatchMemoryGradients(t *testing.T) {
	var cases []config.Component
	for _, inner := range xbmLosses {
		for _, size := range []int{20, 40} {
			cases = append(cases, xbm(inner, map[string]any{}, map[string]any{"memory_size": size}))
		}
	}
	cases = append(cases,
		xbm("ContrastiveLoss", map[string]any{}, map[string]any{"memory_size": 20, "miner": map[string]any{"PairMarginMiner": map[string]any{"pos_margin": 0.5, "neg_margin": 1.2}}}),
		xbm("TripletMarginLoss", map[string]any{"margin": 0.2}, map[string]any{"memory_size": 20, "miner": map[string]any{"TripletMarginMiner": map[string]any{"margin": 0.3}}}),
		xbm("MultiSimilarityLoss", map[string]any{}, map[string]any{"memory_size": 20, "miner": map[string]any{"MultiSimilarityMiner": map[string]any{}}}),
		xbm("SupConLoss", map[string]any{"distance": map[string]any{"LpDistance": map[string]any{}}}, map[string]any{"memory_size": 20}),
		xbm("MarginLoss", map[string]any{"learn_beta": true, "nu": 0.1}, map[string]any{"memory_size": 20}),
		xbm("MarginLoss", map[string]any{"learn_beta": true, "num_classes": 3, "nu": 0.1}, map[string]any{"memory_size": 40}),
		xbm("MarginLoss", map[string]any{}, map[string]any{"memory_size": 20, "miner": map[string]any{"TripletMarginMiner": map[string]any{"margin": 0.3}}}),
		xbm("NCALoss", map[string]any{}, map[string]any{"memory_size": 20, "miner": map[string]any{"MultiSimilarityMiner": map[string]any{}}}),
		xbm("AngularLoss", map[string]any{}, map[string]any{"memory_size": 20, "miner": map[string]any{"PairMarginMiner": map[string]any{"pos_margin": 0.5, "neg_margin": 1.2}}}),
		xbm("CircleLoss", map[string]any{}, map[string]any{"memory_size": 20, "miner": map[string]any{"MultiSimilarityMiner": map[string]any{}}}),
		xbm("LiftedStructureLoss", map[string]any{}, map[string]any{"memory_size": 20, "miner": map[string]any{"PairMarginMiner": map[string]any{"pos_margin": 0.5, "neg_margin": 1.2}}}),
	)
	for _, c := range cases {
		name := c.Type
		for k, v := range c.Params["loss"].(map[string]any) {
			name = k
			if len(v.(map[string]any)) > 0 {
				name += "+params"
			}
		}
		if m, ok := c.Params["miner"].(map[string]any); ok {
			for k := range m {
				name += "/" + k
			}
		}
		t.Run(name+"/"+strings.Repeat("m", c.Params["memory_size"].(int)/20), func(t *testing.T) {
			l, emb, n, d, labels := buildForTest(t, c)
			first, _, _, firstLabels := testBatch(2)
			seeFirst := func(l Loss) {
				if _, _, err := l.Compute(first, n, d, firstLabels, nil); err != nil {
					t.Fatal(err)
				}
			}
			seeFirst(l)
			value, grad, err := l.Compute(emb, n, d, labels, nil)
			if err != nil {
				t.Fatal(err)
			}
			if value == 0 {
				t.Fatal("the loss is 0 on the test batch: the check would prove nothing")
			}
			f := fixedMemory(t, l, seeFirst, emb, n, d, labels)
			if v := f(); v != value {
				t.Fatalf("a fresh copy with the same memory gives %v, Compute %v", v, value)
			}
			if _, ok := metricOf(l.(*crossBatchMemory).inner).f.(*circle); ok {
				// CircleLoss's gradient treats its weights as constants.
				_, tuples, ref := memoryAfter(t, l, seeFirst, emb, n, d, labels)
				frozen := (&CosineSimilarity{baseDistance{normalize: true, p: 2, power: 1}}).Matrix(emb, n, ref.emb, ref.m, d)
				circle := circleFrozenRef(emb, n, ref.emb, ref.m, d, tuples.A1, tuples.P, tuples.A2, tuples.N)
				if v := circle(frozen); math.Abs(v-value) > 1e-12*math.Abs(value) {
					t.Fatalf("CircleLoss written out gives %v, Compute %v", v, value)
				}
				f = func() float64 { return circle(frozen) }
			}
			checkFiniteDifference(t, "embeddings", emb, grad, f)
			// MarginLoss's learnt beta, reached through the wrapper: the
			// fresh copy has its own (equal) beta, which f reads.
			ws := l.Weights()
			margin, _ := c.Params["loss"].(map[string]any)["MarginLoss"].(map[string]any)
			if learn, _ := margin["learn_beta"].(bool); learn != (len(ws) == 1) {
				t.Fatalf("weights %v with learn_beta %v", describeWeights(ws), learn)
			}
			if len(ws) > 0 {
				x, tuples, ref := memoryAfter(t, l, seeFirst, emb, n, d, labels)
				g := func() float64 {
					v, _, err := x.inner.computeRef(emb, n, d, labels, tuples, ref)
					if err != nil {
						t.Fatal(err)
					}
					return v
				}
				if !slices.ContainsFunc(ws[0].Grad, func(v float64) bool { return v != 0 }) {
					t.Fatalf("%s has a zero gradient: the check would prove nothing", ws[0].Name)
				}
				checkFiniteDifference(t, ws[0].Name, x.Weights()[0].Value, slices.Clone(ws[0].Grad), g)
			}
		})
	}
}

// TestCrossBatchMemoryQueue follows the queue (PML's add_to_memory) and
// the self comparisons it removes.
func TestCrossBatchMemoryQueue(t *testing.T) {
	l, emb, n, d, labels := buildForTest(t, xbm("ContrastiveLoss", map[string]any{}, map[string]any{"memory_size": 20}))
	x := l.(*crossBatchMemory)
	state := func() (idx, filled float64) { return x.queueIdx.Value[0], x.filled.Value[0] }

	tuples, ref, err := x.enqueueAndPair(emb, n, d, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	if idx, filled := state(); idx != 12 || filled != 0 || ref.m != 12 {
		t.Fatalf("after 12 of 20: queue_idx %v, filled %v, %d references; want 12, 0, 12", idx, filled, ref.m)
	}
	// The memory is the batch: all pairs but (i, i), as the batch alone.
	all := AllPairs(labels)
	if !slices.Equal(tuples.A1, all.A1) || !slices.Equal(tuples.P, all.P) || !slices.Equal(tuples.A2, all.A2) || !slices.Equal(tuples.N, all.N) {
		t.Fatalf("first batch: pairs %v, want the batch's own %v", tuples, all)
	}

	tuples, ref, err = x.enqueueAndPair(emb, n, d, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	if idx, filled := state(); idx != 4 || filled != 1 || ref.m != 20 {
		t.Fatalf("after 24 of 20: queue_idx %v, filled %v, %d references; want 4, 1, 20", idx, filled, ref.m)
	}
	// Element i is in slot (12+i) % 20 now; elements 8-11 overwrote the
	// first batch's 0-3 and no longer pair with those rows.
	for k, a := range tuples.A1 {
		if tuples.P[k] == (12+a)%20 {
			t.Fatalf("positive pair (%d, %d) of an element with its own slot", a, tuples.P[k])
		}
	}
	for i := range n {
		slot := (12 + i) % 20
		if !slices.Equal(x.memory.Value[slot*d:(slot+1)*d], emb[i*d:(i+1)*d]) || x.labels.Value[slot] != float64(labels[i]) {
			t.Fatalf("slot %d does not hold element %d", slot, i)
		}
	}
	positives := 0
	for _, a := range labels {
		for _, r := range ref.labels {
			if a == r {
				positives++
			}
		}
	}
	if len(tuples.A1) != positives-n || len(tuples.A2) != n*ref.m-positives {
		t.Fatalf("%d positive and %d negative pairs, want %d and %d", len(tuples.A1), len(tuples.A2), positives-n, n*ref.m-positives)
	}
	if got := Buffers(l); len(got) != 4 || got[0].Name != "embedding_memory" || !slices.Equal(got[0].Shape, []int{20, d}) {
		t.Fatalf("buffers %v, want the queue", describeWeights(got))
	}
	if TakesTuples(l) {
		t.Fatal("CrossBatchMemory takes a trainer's tuples; want them refused")
	}
}

// TestCrossBatchMemoryConfig: the config errors name the key.
func TestCrossBatchMemoryConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		c    config.Component
		want []string
	}{
		{"no inner loss", config.C("CrossBatchMemory", map[string]any{}), []string{"CrossBatchMemory.loss", "is required", "ContrastiveLoss"}},
		{"unsupported inner loss", xbm("NPairsLoss", map[string]any{}, nil),
			[]string{"CrossBatchMemory.loss", "NPairsLoss is not supported", strings.Join(xbmLosses, ", ")}},
		{"unknown inner loss", xbm("Nope", map[string]any{}, nil), []string{"CrossBatchMemory.loss", "unknown loss"}},
		{"bad memory_size", xbm("ContrastiveLoss", map[string]any{}, map[string]any{"memory_size": 0}), []string{"CrossBatchMemory.memory_size"}},
		{"negative embedding_size", xbm("ContrastiveLoss", map[string]any{}, map[string]any{"embedding_size": -1}), []string{"CrossBatchMemory.embedding_size"}},
		{"swap", xbm("TripletMarginLoss", map[string]any{"swap": true}, nil), []string{"CrossBatchMemory.loss", "swap"}},
		{"sampling miner", xbm("ContrastiveLoss", map[string]any{}, map[string]any{"miner": map[string]any{"DistanceWeightedMiner": map[string]any{}}}),
			[]string{"CrossBatchMemory.miner", "DistanceWeightedMiner", "samples at random"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Losses.Build(c.c)
			if err == nil {
				t.Fatal("built; want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}

	l, _, err := Losses.Build(xbm("ContrastiveLoss", map[string]any{}, map[string]any{"embedding_size": 8, "memory_size": 16}))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.(Shaped).SetShape(3, 6); err == nil || !strings.Contains(err.Error(), "embedding_size is 8 but the model gives 6") {
		t.Errorf("embedding_size 8 for a model of 6: error %v", err)
	}
	emb, n, d, labels := testBatch(1)
	if _, _, err := l.Compute(make([]float64, n*8), n, 8, labels, AllPairs(labels)); err == nil || !strings.Contains(err.Error(), "takes no miner tuples") {
		t.Errorf("with a trainer's tuples: error %v", err)
	}
	if _, _, err := l.Compute(emb, n, d, labels, nil); err == nil || !strings.Contains(err.Error(), "embedding_size is 8") {
		t.Errorf("embeddings of size %d: error %v", d, err)
	}
	big := make([]float64, 24*8)
	if _, _, err := l.Compute(big, 24, 8, make([]int, 24), nil); err == nil || !strings.Contains(err.Error(), "does not fit memory_size 16") {
		t.Errorf("a batch of 24 in a memory of 16: error %v", err)
	}
	unshaped, _, err := Losses.Build(xbm("ContrastiveLoss", map[string]any{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := unshaped.Compute(emb, n, d, labels, nil); err == nil || !strings.Contains(err.Error(), "embedding_size is unknown") {
		t.Errorf("before SetShape: error %v", err)
	}
}
