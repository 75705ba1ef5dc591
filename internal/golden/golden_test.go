package golden

import (
	"math"
	"testing"
)

func TestClose(t *testing.T) {
	tol := Tolerance{Rel: 1e-6, Abs: 1e-9}
	for _, c := range []struct {
		got, want float64
		close     bool
	}{
		{1, 1, true},
		{1 + 0.9e-6, 1, true},
		{1 + 1.1e-6, 1, false},
		{-1e-9, 0, true},
		{2e-9, 0, false},
		{-1000.0005, -1000, true},
		{math.NaN(), 0, false},
	} {
		if got := tol.Close(c.got, c.want); got != c.close {
			t.Errorf("Close(%v, %v) = %v", c.got, c.want, got)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := Require(t)
	losses, err := Files(dir, "losses")
	if err != nil {
		t.Fatal(err)
	}
	var lc LossCase
	if err := Load(losses[0], &lc); err != nil {
		t.Fatal(err)
	}
	if len(lc.Embeddings) != len(lc.Labels) || len(lc.Expected.Grad) != len(lc.Labels) || lc.Tolerance.Rel == 0 || lc.Loss == nil {
		t.Errorf("%s: %d embeddings, %d labels, %d grad rows, tolerance %+v, loss %v",
			losses[0], len(lc.Embeddings), len(lc.Labels), len(lc.Expected.Grad), lc.Tolerance, lc.Loss)
	}
	metrics, err := Files(dir, "metrics")
	if err != nil {
		t.Fatal(err)
	}
	var mc MetricCase
	if err := Load(metrics[0], &mc); err != nil {
		t.Fatal(err)
	}
	if len(mc.Query) != len(mc.QueryLabels) || mc.KUsed == 0 || mc.Tolerance.Abs == 0 || mc.Expected.RecallAtK["1"] == 0 {
		t.Errorf("%s: decoded %+v", metrics[0], mc)
	}
	if got := Flatten([][]float64{{1, 2}, {3, 4}}); len(got) != 4 || got[3] != 4 {
		t.Errorf("Flatten = %v", got)
	}
}
