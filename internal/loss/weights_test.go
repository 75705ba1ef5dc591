package loss

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

func TestRegistries(t *testing.T) {
	for _, c := range []struct {
		got, want []string
	}{
		{Losses.Names(), []string{"AngularLoss", "ArcFaceLoss", "CircleLoss", "ContrastiveLoss", "CosFaceLoss", "CrossBatchMemory", "CrossEntropyLoss",
			"DynamicSoftMarginLoss", "FastAPLoss", "GeneralizedLiftedStructureLoss", "HistogramLoss", "InstanceLoss", "IntraPairVarianceLoss",
			"LargeMarginSoftmaxLoss", "LiftedStructureLoss", "MarginLoss", "MultiSimilarityLoss", "NCALoss", "NPairsLoss", "NTXentLoss",
			"NormalizedSoftmaxLoss", "P2SGradLoss", "PNPLoss", "ProxyAnchorLoss", "ProxyNCALoss", "RankedListLoss",
			"SignalToNoiseRatioContrastiveLoss", "SoftTripleLoss", "SphereFaceLoss", "SubCenterArcFaceLoss", "SupConLoss",
			"ThresholdConsistentMarginLoss", "TripletMarginLoss", "TupletMarginLoss"}},
		{Distances.Names(), []string{"CosineSimilarity", "DotProductSimilarity", "LpDistance", "SNRDistance"}},
		{Reducers.Names(), []string{"AvgNonZeroReducer", "DivisorReducer", "DoNothingReducer", "MeanReducer", "SumReducer", "ThresholdReducer"}},
		{Regularizers.Names(), []string{"CenterInvariantRegularizer", "LpRegularizer", "RegularFaceRegularizer", "SparseCentersRegularizer", "ZeroMeanRegularizer"}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("registered %v, want %v", c.got, c.want)
		}
	}
}

// TestResolved: the resolved parameters hold every default, nested
// components included, as saved with an experiment.
func TestResolved(t *testing.T) {
	_, resolved, err := Losses.Build(config.C("TripletMarginLoss", map[string]any{"margin": 0.1}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"TripletMarginLoss": map[string]any{
		"margin": 0.1, "swap": false, "smooth_loss": false, "triplets_per_anchor": "all",
		"distance": map[string]any{"LpDistance": map[string]any{"normalize_embeddings": true, "p": 2.0, "power": 1.0}},
		"reducer":  map[string]any{"AvgNonZeroReducer": map[string]any{}},
	}}
	if !reflect.DeepEqual(resolved, want) {
		t.Errorf("resolved %v, want %v", resolved, want)
	}
}

// shapedLosses are the losses with class weights and their PML layout for
// 5 classes of embeddings of size 3.
var shapedLosses = map[string][]int{
	"ProxyAnchorLoss":        {5, 3},
	"ProxyNCALoss":           {5, 3},
	"ArcFaceLoss":            {3, 5},
	"CosFaceLoss":            {3, 5},
	"NormalizedSoftmaxLoss":  {3, 5},
	"LargeMarginSoftmaxLoss": {3, 5},
	"SphereFaceLoss":         {3, 5},
	"SubCenterArcFaceLoss":   {3, 15}, // 3 sub-centres per class
	"SoftTripleLoss":         {3, 50},
	"P2SGradLoss":            {3, 5},
}

func TestShape(t *testing.T) {
	emb, labels := []float64{1, 2, 3, 4, 5, 6}, []int{0, 4}
	for name, shape := range shapedLosses {
		t.Run(name, func(t *testing.T) {
			l, _, err := Losses.Build(config.C(name, nil))
			if err != nil {
				t.Fatal(err)
			}
			s := l.(Shaped)
			if l.Weights() != nil {
				t.Errorf("weights before the shape is known: %v", l.Weights())
			}
			if _, _, err := l.Compute(emb, 2, 3, labels, nil); err == nil || !strings.Contains(err.Error(), "num_classes") {
				t.Errorf("Compute without a shape: error %v", err)
			}
			if err := s.SetShape(5, 3); err != nil {
				t.Fatal(err)
			}
			if ws := l.Weights(); len(ws) != 1 || !reflect.DeepEqual(ws[0].Shape, shape) || len(ws[0].Value) != shape[0]*shape[1] {
				t.Fatalf("weights %+v, want one of shape %v", ws, shape)
			}
			if _, _, err := l.Compute(emb, 2, 3, []int{0, 5}, nil); err == nil {
				t.Error("label 5 of 5 classes: no error")
			}
			if _, _, err := l.Compute(emb, 3, 2, labels[:1], nil); err == nil {
				t.Error("embeddings of size 2 for embedding_size 3: no error")
			}
		})
	}
}

func TestSetShapeKeepsConfig(t *testing.T) {
	l, _, err := Losses.Build(config.C("ProxyAnchorLoss", map[string]any{"num_classes": 10, "embedding_size": 4}))
	if err != nil {
		t.Fatal(err)
	}
	s := l.(Shaped)
	if err := s.SetShape(12, 4); err == nil {
		t.Error("num_classes 10 for 12 classes: no error")
	}
	if err := s.SetShape(7, 5); err == nil {
		t.Error("embedding_size 4 for a model of 5: no error")
	}
	if err := s.SetShape(7, 4); err != nil {
		t.Fatal(err)
	}
	if got := l.Weights()[0].Shape; !reflect.DeepEqual(got, []int{10, 4}) {
		t.Errorf("shape %v, want the configured [10 4]", got)
	}
}

// TestInitWeights checks PML's initialisations by their moments over many
// draws, and that a seed fixes them.
func TestInitWeights(t *testing.T) {
	const classes, size = 200, 64
	for _, c := range []struct {
		name string
		// the distribution: mean 0 and this standard deviation, all within bound
		std, bound float64
	}{
		{"ProxyAnchorLoss", math.Sqrt(2.0 / classes), math.Inf(1)}, // kaiming_normal_, fan_out = classes
		{"ProxyNCALoss", 1, math.Inf(1)},                           // normal_
		{"ArcFaceLoss", 1, math.Inf(1)},
		{"CosFaceLoss", 1, math.Inf(1)},
		{"NormalizedSoftmaxLoss", 1, math.Inf(1)},
		{"LargeMarginSoftmaxLoss", 1, math.Inf(1)},
		{"SphereFaceLoss", 1, math.Inf(1)},
		{"SubCenterArcFaceLoss", 1, math.Inf(1)},
		// kaiming_uniform_(a=sqrt 5), fan_in = classes*10: uniform ±1/sqrt(fan_in)
		{"SoftTripleLoss", 1 / math.Sqrt(3*classes*10), 1 / math.Sqrt(classes*10)},
		// columns of unit length: mean square 1/size
		{"P2SGradLoss", 1 / math.Sqrt(size), 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			draw := func(seed uint64) []float64 {
				sizeKey := "embedding_size"
				if c.name == "P2SGradLoss" {
					sizeKey = "descriptors_dim"
				}
				l, _, err := Losses.Build(config.C(c.name, map[string]any{"num_classes": classes, sizeKey: size}))
				if err != nil {
					t.Fatal(err)
				}
				l.(Shaped).InitWeights(rand.New(rand.NewPCG(seed, 0)))
				return l.Weights()[0].Value
			}
			v := draw(1)
			if !reflect.DeepEqual(v, draw(1)) || reflect.DeepEqual(v, draw(2)) {
				t.Error("the seed does not fix the weights")
			}
			mean, sq := 0.0, 0.0
			for _, x := range v {
				mean += x
				sq += x * x
				if math.Abs(x) > c.bound {
					t.Fatalf("%v outside ±%v", x, c.bound)
				}
			}
			mean /= float64(len(v))
			std := math.Sqrt(sq/float64(len(v)) - mean*mean)
			if math.Abs(mean) > 0.05*c.std || math.Abs(std-c.std) > 0.05*c.std {
				t.Errorf("mean %v, std %v; want 0, %v", mean, std, c.std)
			}
		})
	}
}

func TestMarginLossBeta(t *testing.T) {
	for _, c := range []struct {
		params map[string]any
		shape  []int // nil: beta is not learnt
	}{
		{map[string]any{}, nil},
		{map[string]any{"learn_beta": true}, []int{1}},
		{map[string]any{"learn_beta": true, "num_classes": 3, "beta": 0.5}, []int{3}},
	} {
		l, _, err := Losses.Build(config.C("MarginLoss", c.params))
		if err != nil {
			t.Fatal(err)
		}
		ws := l.Weights()
		if c.shape == nil {
			if ws != nil {
				t.Errorf("%v: weights %v", c.params, ws)
			}
			continue
		}
		if len(ws) != 1 || ws[0].Name != "beta" || !reflect.DeepEqual(ws[0].Shape, c.shape) {
			t.Errorf("%v: weights %+v, want beta of shape %v", c.params, ws, c.shape)
		}
	}
	l, _, _ := Losses.Build(config.C("MarginLoss", map[string]any{"learn_beta": true, "num_classes": 2}))
	emb, n, d, labels := testBatch(1)
	if _, _, err := l.Compute(emb, n, d, labels, nil); err == nil || !strings.Contains(err.Error(), "num_classes") {
		t.Errorf("label 2 with 2 betas: error %v", err)
	}
}
