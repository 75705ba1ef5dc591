package loss

import (
	"math"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// TestP2SGradRenormalises: as PML, every batch first scales weight's columns
// to length norm/(norm + 1e-7), and fails on a column too short for it.
func TestP2SGradRenormalises(t *testing.T) {
	l, _, err := Losses.Build(config.C("P2SGradLoss", map[string]any{"descriptors_dim": 2, "num_classes": 2}))
	if err != nil {
		t.Fatal(err)
	}
	w := l.Weights()[0]
	copy(w.Value, []float64{3, 0, 4, 2}) // columns (3, 4) and (0, 2)
	emb, labels := []float64{1, 0, 0, 1}, []int{0, 1}
	if _, _, err := l.Compute(emb, 2, 2, labels, nil); err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{3 / (5 + 1e-7), 0, 4 / (5 + 1e-7), 2 / (2 + 1e-7)} {
		if math.Abs(w.Value[i]-want) > 1e-15 {
			t.Errorf("weight[%d] = %.17g, want %.17g", i, w.Value[i], want)
		}
	}
	copy(w.Value, []float64{1, 1e-6, 0, 0})
	if _, _, err := l.Compute(emb, 2, 2, labels, nil); err == nil || !strings.Contains(err.Error(), "column 1") {
		t.Errorf("a column of norm 1e-6: error %v", err)
	}
}

// TestP2SGradConfig: PML's P2SGradLoss names its embedding size
// descriptors_dim and has no weight regularizer.
func TestP2SGradConfig(t *testing.T) {
	for _, c := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"embedding_size": 4}, "embedding_size"},
		{map[string]any{"weight_regularizer": map[string]any{"LpRegularizer": nil}}, "weight_regularizer"},
		{map[string]any{"descriptors_dim": -1}, "descriptors_dim"},
	} {
		if _, _, err := Losses.Build(config.C("P2SGradLoss", c.params)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %s", c.params, err, c.want)
		}
	}
	l, _, err := Losses.Build(config.C("P2SGradLoss", map[string]any{"descriptors_dim": 4}))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.(Shaped).SetShape(3, 5); err == nil || !strings.Contains(err.Error(), "descriptors_dim is 4") {
		t.Errorf("descriptors_dim 4 for a model of 5: error %v", err)
	}
}
