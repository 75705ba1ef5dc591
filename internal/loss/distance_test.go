package loss

import (
	"math"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// TestDistanceMatrix checks each distance on vectors worked out by hand:
// x = (3, 4), (0, 2) against y = (1, 0), (3, 4).
func TestDistanceMatrix(t *testing.T) {
	x := []float64{3, 4, 0, 2}
	y := []float64{1, 0, 3, 4}
	for _, c := range []struct {
		dist     config.Component
		inverted bool
		want     []float64
	}{
		{config.C("LpDistance", map[string]any{"normalize_embeddings": false}), false, []float64{math.Sqrt(20), 0, math.Sqrt(5), math.Sqrt(13)}},
		{config.C("LpDistance", map[string]any{"normalize_embeddings": false, "power": 2}), false, []float64{20, 0, 5, 13}},
		{config.C("LpDistance", map[string]any{"normalize_embeddings": false, "p": 1}), false, []float64{6, 0, 3, 5}},
		// Normalised: (0.6, 0.8), (0, 1) against (1, 0), (0.6, 0.8).
		{config.C("LpDistance", nil), false, []float64{math.Sqrt(0.16 + 0.64), 0, math.Sqrt2, math.Sqrt(0.36 + 0.04)}},
		{config.C("CosineSimilarity", nil), true, []float64{0.6, 1, 0, 0.8}},
		{config.C("DotProductSimilarity", map[string]any{"normalize_embeddings": false}), true, []float64{3, 25, 0, 8}},
		{config.C("DotProductSimilarity", map[string]any{"power": 2}), true, []float64{0.36, 1, 0, 0.64}},
		// var(x - y) / var(x), unbiased over the 2 features, unnormalised:
		// var((2, 4)) / var((3, 4)) = 2 / 0.5, var((0, 0)) = 0,
		// var((-1, 2)) / var((0, 2)) = 4.5 / 2, var((-3, -2)) / 2 = 0.5 / 2.
		{config.C("SNRDistance", map[string]any{"normalize_embeddings": false}), false, []float64{4, 0, 2.25, 0.25}},
	} {
		t.Run(c.dist.Type, func(t *testing.T) {
			dist, _, err := Distances.Build(c.dist)
			if err != nil {
				t.Fatal(err)
			}
			if dist.Inverted() != c.inverted {
				t.Errorf("Inverted() = %v", dist.Inverted())
			}
			got := dist.Matrix(x, 2, y, 2, 2)
			for i, w := range c.want {
				if math.Abs(got[i]-w) > 1e-12 {
					t.Errorf("matrix %v, want %v", got, c.want)
					break
				}
			}
		})
	}
}

func TestMargin(t *testing.T) {
	lp, cos := &LpDistance{}, &CosineSimilarity{}
	if Margin(lp, 3, 1) != 2 || Margin(cos, 3, 1) != -2 {
		t.Errorf("Margin: %v for a distance, %v for a similarity; want 2, -2", Margin(lp, 3, 1), Margin(cos, 3, 1))
	}
}

func TestDistanceConfigErrors(t *testing.T) {
	for _, c := range []struct {
		comp config.Component
		want string
	}{
		{config.C("CosineSimilarity", map[string]any{"normalize_embeddings": false}), "normalize_embeddings"},
		{config.C("LpDistance", map[string]any{"p": 0}), "p"},
		{config.C("LpDistance", map[string]any{"powr": 2}), `did you mean "power"`},
		{config.C("CircleLoss", map[string]any{"distance": map[string]any{"LpDistance": nil}}), "must be CosineSimilarity"},
		{config.C("TupletMarginLoss", map[string]any{"distance": map[string]any{"DotProductSimilarity": nil}}), "must be CosineSimilarity"},
		{config.C("ThresholdConsistentMarginLoss", map[string]any{"distance": map[string]any{"LpDistance": nil}}), "must be CosineSimilarity"},
		{config.C("DynamicSoftMarginLoss", map[string]any{"distance": map[string]any{"CosineSimilarity": nil}}), "must be LpDistance"},
		{config.C("DynamicSoftMarginLoss", map[string]any{"distance": map[string]any{"LpDistance": map[string]any{"p": 1}}}), "normalize_embeddings true and p 2"},
		{config.C("DynamicSoftMarginLoss", map[string]any{"min_val": 0}), "min_val"},
		{config.C("SignalToNoiseRatioContrastiveLoss", map[string]any{"distance": map[string]any{"LpDistance": nil}}), "must be SNRDistance"},
		{config.C("SoftTripleLoss", map[string]any{"distance": map[string]any{"LpDistance": nil}}), "similarity"},
		{config.C("AngularLoss", map[string]any{"distance": map[string]any{"CosineSimilarity": nil}}), "must be LpDistance"},
		{config.C("AngularLoss", map[string]any{"distance": map[string]any{"LpDistance": map[string]any{"power": 2}}}), "p: 2, power: 1"},
		{config.C("AngularLoss", map[string]any{"distance": map[string]any{"LpDistance": map[string]any{"normalize_embeddings": false}}}), "normalize_embeddings: true"},
		{config.C("TripletMarginLoss", map[string]any{"distance": map[string]any{"CosineSimilarty": nil}}), `did you mean "CosineSimilarity"`},
		{config.C("TripletMarginLoss", map[string]any{"triplets_per_anchor": "some"}), "triplets_per_anchor"},
		{config.C("RankedListLoss", map[string]any{"Tn": 1}), "RankedListLoss.margin: is required"},
		{config.C("PNPLoss", map[string]any{"variant": "D"}), "PNPLoss.variant"},
		{config.C("HistogramLoss", map[string]any{"n_bins": 10, "delta": 0.3}), "HistogramLoss.delta: 0.3 and n_bins 10 must satisfy delta = 2/n_bins"},
		{config.C("HistogramLoss", map[string]any{"n_bins": 0}), "HistogramLoss.n_bins"},
		{config.C("PNPLoss", map[string]any{"distance": map[string]any{"LpDistance": nil}}), "must be CosineSimilarity"},
		{config.C("RankedListLoss", map[string]any{"margin": 0.4}), "RankedListLoss.Tn: is required"},
		{config.C("RankedListLoss", map[string]any{"margin": 0.4, "Tn": 1, "imbalance": 1.5}), "imbalance"},
		{config.C("LargeMarginSoftmaxLoss", map[string]any{"distance": map[string]any{"DotProductSimilarity": nil}}), "must be CosineSimilarity"},
		{config.C("SphereFaceLoss", map[string]any{"margin": 3.5}), "want an integer"},
		{config.C("LargeMarginSoftmaxLoss", map[string]any{"margin": 0}), "margin"},
		{config.C("SubCenterArcFaceLoss", map[string]any{"sub_centers": 0}), "sub_centers"},
	} {
		var err error
		if Distances.Has(c.comp.Type) {
			_, _, err = Distances.Build(c.comp)
		} else {
			_, _, err = Losses.Build(c.comp)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: error %v, want one containing %q", c.comp.Type, c.comp.Params, err, c.want)
		}
	}
}
