package loss

import (
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// statefulCases are the losses that keep state while training: a random
// triplet stream, learnt class weights, a learnt beta, a histogram of the
// batches seen or a memory of them.
var statefulCases = []config.Component{
	config.C("TripletMarginLoss", map[string]any{"triplets_per_anchor": 2}),
	config.C("MarginLoss", map[string]any{"learn_beta": true, "triplets_per_anchor": 2}),
	config.C("ProxyAnchorLoss", nil),
	config.C("ProxyNCALoss", nil),
	config.C("ArcFaceLoss", nil),
	config.C("CosFaceLoss", nil),
	config.C("NormalizedSoftmaxLoss", nil),
	config.C("LargeMarginSoftmaxLoss", nil),
	config.C("SphereFaceLoss", nil),
	config.C("SubCenterArcFaceLoss", map[string]any{"sub_centers": 2}),
	config.C("SoftTripleLoss", map[string]any{"centers_per_class": 2}),
	config.C("DynamicSoftMarginLoss", map[string]any{"momentum": 0.5}),
	config.C("P2SGradLoss", nil),
	config.C("CrossBatchMemory", map[string]any{"loss": map[string]any{"MultiSimilarityLoss": map[string]any{}}, "memory_size": 30}),
}

// TestInstancesShareNoState: a loss is decoded once and each fold takes
// config.Instance of it. Training one instance (its stream advanced, its
// weights moved, another batch seen) leaves another's first value as the
// first instance's was, for every registered loss; for the stateful ones,
// training does change the first instance's value, so the comparison proves
// something.
func TestInstancesShareNoState(t *testing.T) {
	cases := append([]config.Component(nil), statefulCases...)
	for _, name := range Losses.Names() {
		cases = append(cases, defaultsOf(name))
	}
	for i, c := range cases {
		t.Run(c.Type, func(t *testing.T) {
			decoded, _, err := Losses.Build(c)
			if err != nil {
				t.Fatal(err)
			}
			emb, n, d, labels := testBatchFor(c.Type)
			instance := func() Loss {
				l := config.Instance(decoded)
				shapeForTest(t, l, d)
				return l
			}
			value := func(l Loss) float64 {
				v, _, err := l.Compute(emb, n, d, labels, nil)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			a, b := instance(), instance()
			first := value(a)
			for _, w := range a.Weights() {
				for k := range w.Value {
					w.Value[k] += 0.5
				}
			}
			other, _, _, _ := testBatch(2)
			if _, _, err := a.Compute(other[:n*d], n, d, labels, nil); err != nil {
				t.Fatal(err)
			}
			trained := value(a)
			if got := value(b); got != first {
				t.Errorf("a second instance gives %v after the first was trained; want %v as the first gave", got, first)
			}
			if got := value(instance()); got != first {
				t.Errorf("an instance taken after training gives %v; want %v", got, first)
			}
			if i < len(statefulCases) && trained == first {
				t.Errorf("training the instance left its value %v: the case keeps no state", first)
			}
		})
	}
}
