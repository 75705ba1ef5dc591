package loss

import (
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// reg is {name: params}, a nested component as a config writes it.
func reg(name string, params map[string]any) map[string]any { return map[string]any{name: params} }

// TestRegularizerGradients checks every regularizer, with options PML's
// reference cases (testdata/pml) leave at their defaults, on the embeddings
// and on each layout of class weights, against central finite differences.
func TestRegularizerGradients(t *testing.T) {
	lp15 := reg("LpDistance", map[string]any{"p": 1.5, "power": 1, "normalize_embeddings": false})
	for _, c := range []config.Component{
		config.C("ContrastiveLoss", map[string]any{"embedding_regularizer": reg("LpRegularizer", map[string]any{"p": 3, "power": 1.5}), "embedding_reg_weight": 0.7}),
		config.C("TripletMarginLoss", map[string]any{"embedding_regularizer": reg("ZeroMeanRegularizer", nil)}),
		config.C("ProxyAnchorLoss", map[string]any{"weight_regularizer": reg("RegularFaceRegularizer", map[string]any{"distance": reg("DotProductSimilarity", map[string]any{"normalize_embeddings": false})})}),
		config.C("NormalizedSoftmaxLoss", map[string]any{"weight_regularizer": reg("CenterInvariantRegularizer", map[string]any{"distance": lp15}),
			"embedding_regularizer": reg("LpRegularizer", nil), "embedding_reg_weight": 0.2}),
		config.C("SoftTripleLoss", map[string]any{"centers_per_class": 2, "weight_regularizer": reg("SparseCentersRegularizer", map[string]any{"centers_per_class": 2})}),
		config.C("ArcFaceLoss", map[string]any{"weight_regularizer": reg("LpRegularizer", map[string]any{"reducer": reg("SumReducer", nil)}), "weight_reg_weight": 0.01}),
		config.C("ProxyNCALoss", map[string]any{"weight_regularizer": reg("ZeroMeanRegularizer", nil), "weight_reg_weight": 3}),
		config.C("SubCenterArcFaceLoss", map[string]any{"sub_centers": 2, "weight_regularizer": reg("SparseCentersRegularizer", map[string]any{"centers_per_class": 2})}),
		config.C("SphereFaceLoss", map[string]any{"weight_regularizer": reg("RegularFaceRegularizer", nil)}),
	} {
		t.Run(c.Type, func(t *testing.T) {
			l, emb, n, d, labels := buildForTest(t, c)
			params := map[string]any{}
			if k, ok := c.Params["centers_per_class"]; ok {
				params["centers_per_class"] = k
			}
			plain, _, _, _, _ := buildForTest(t, config.C(c.Type, params))
			for i, w := range plain.Weights() {
				copy(w.Value, l.Weights()[i].Value)
			}
			value, grad, err := l.Compute(emb, n, d, labels, nil)
			if err != nil {
				t.Fatal(err)
			}
			without, _, err := plain.Compute(emb, n, d, labels, nil)
			if err != nil {
				t.Fatal(err)
			}
			if value == without {
				t.Fatalf("the regularizer adds nothing (%g): the check would prove nothing", value)
			}
			f := func() float64 {
				v, _, err := l.Compute(emb, n, d, labels, nil)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			checkFiniteDifference(t, "embeddings", emb, grad, f)
			for _, w := range l.Weights() {
				checkFiniteDifference(t, w.Name, w.Value, append([]float64(nil), w.Grad...), f)
			}
		})
	}
}

func TestRegularizerConfigErrors(t *testing.T) {
	for _, c := range []struct {
		comp config.Component
		want string
	}{
		{config.C("ContrastiveLoss", map[string]any{"weight_regularizer": reg("LpRegularizer", nil)}), "weight_regularizer: unknown parameter"},
		{config.C("ContrastiveLoss", map[string]any{"embedding_regularizer": reg("LpRegularzer", nil)}), `did you mean "LpRegularizer"`},
		{config.C("ContrastiveLoss", map[string]any{"embeding_regularizer": reg("LpRegularizer", nil)}), `did you mean "embedding_regularizer"`},
		{config.C("ContrastiveLoss", map[string]any{"embedding_regularizer": reg("LpRegularizer", map[string]any{"p": 0})}), "embedding_regularizer.LpRegularizer.p"},
		{config.C("SoftTripleLoss", map[string]any{"weight_regularizer": reg("SparseCentersRegularizer", nil)}), "centers_per_class: required"},
		{config.C("SoftTripleLoss", map[string]any{"weight_regularizer": reg("SparseCentersRegularizer", map[string]any{"centers_per_class": 1})}), "centers_per_class: 1 is out of range"},
		{config.C("ArcFaceLoss", map[string]any{"weight_regularizer": reg("CenterInvariantRegularizer", map[string]any{"distance": reg("LpDistance", nil)})}), "must be LpDistance with power 1 and normalize_embeddings false"},
		{config.C("ArcFaceLoss", map[string]any{"weight_regularizer": reg("RegularFaceRegularizer", map[string]any{"distance": reg("LpDistance", nil)})}), "must be a similarity"},
		{config.C("ArcFaceLoss", map[string]any{"weight_regularizer": reg("SparseCentersRegularizer", map[string]any{"centers_per_class": 2, "distance": reg("DotProductSimilarity", nil)})}), "must be CosineSimilarity"},
	} {
		_, _, err := Losses.Build(c.comp)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: error %v, want one containing %q", c.comp.Type, c.comp.Params, err, c.want)
		}
	}
	// PML's defaults written out: no regularizer, its weight unused.
	if _, _, err := Losses.Build(config.C("ContrastiveLoss", map[string]any{"embedding_regularizer": nil, "embedding_reg_weight": 2})); err != nil {
		t.Errorf("a null regularizer: %v", err)
	}
	// Centres that are not num_classes x centers_per_class: one error at
	// the first batch, naming the regularizer.
	l, emb, n, d, labels := buildForTest(t, config.C("SoftTripleLoss", map[string]any{"centers_per_class": 2,
		"weight_regularizer": reg("SparseCentersRegularizer", map[string]any{"centers_per_class": 2, "num_classes": 5})}))
	if _, _, err := l.Compute(emb, n, d, labels, nil); err == nil || !strings.Contains(err.Error(), "weight_reg_loss: SparseCentersRegularizer: 12 centres are not num_classes 5 x centers_per_class 2") {
		t.Errorf("mismatched centres: %v", err)
	}
}
