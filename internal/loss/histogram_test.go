package loss

import (
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// TestHistogramRange: a similarity of exactly 1 (two positives pointing the
// same way) falls in the last bin, where PML fails to index it; values
// outside [-1, 1] are an error naming the loss.
func TestHistogramRange(t *testing.T) {
	emb := []float64{1, 0, 2, 0, 0, 1, 0.6, 0.8}
	labels := []int{0, 0, 1, 1}
	l, _, err := Losses.Build(config.C("HistogramLoss", nil))
	if err != nil {
		t.Fatal(err)
	}
	value, grad, err := l.Compute(emb, 4, 2, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFinite(t, value, grad, nil)
	l, _, err = Losses.Build(config.C("HistogramLoss", map[string]any{"distance": map[string]any{"LpDistance": map[string]any{"normalize_embeddings": false}}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Compute(emb, 4, 2, labels, nil); err == nil || !strings.Contains(err.Error(), "HistogramLoss") || !strings.Contains(err.Error(), "outside [-1, 1]") {
		t.Errorf("LpDistance: error %v, want one naming HistogramLoss and the range", err)
	}
}
