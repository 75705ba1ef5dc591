package optim

import (
	"fmt"
	"math"
	"testing"
)

// withSchedulers builds an SGD optimiser at lr with the given scheduler
// components, e.g. {"scheduler_by_epoch": {"StepLR": {...}}}.
func withSchedulers(t *testing.T, lr float64, scheds map[string]any) *Optimizer[float64] {
	t.Helper()
	params := map[string]any{"lr": lr}
	for k, v := range scheds {
		params[k] = v
	}
	p := &Param[float64]{Name: "x", Value: []float64{0}, Grad: []float64{0}}
	return New(build(t, "SGD", params), []*Param[float64]{p})
}

func sched(typ string, params map[string]any) map[string]any { return map[string]any{typ: params} }

// TestEpochSchedulers compares lr after 0, 1, 2, ... EndEpoch calls with
// PyTorch's closed forms.
func TestEpochSchedulers(t *testing.T) {
	const base = 0.1
	cases := []struct {
		typ    string
		params map[string]any
		want   func(k int) float64
	}{
		{"StepLR", map[string]any{"step_size": 3, "gamma": 0.5},
			func(k int) float64 { return base * math.Pow(0.5, float64(k/3)) }},
		{"StepLR", map[string]any{"step_size": 1}, // default gamma 0.1
			func(k int) float64 { return base * math.Pow(0.1, float64(k)) }},
		{"MultiStepLR", map[string]any{"milestones": []any{2, 5, 5}},
			func(k int) float64 {
				switch {
				case k < 2:
					return base
				case k < 5:
					return base * 0.1
				}
				return base * 0.001
			}},
		{"ExponentialLR", map[string]any{"gamma": 0.9},
			func(k int) float64 { return base * math.Pow(0.9, float64(k)) }},
		{"CosineAnnealingLR", map[string]any{"T_max": 10, "eta_min": 0.01},
			func(k int) float64 { return 0.01 + (base-0.01)*(1+math.Cos(math.Pi*float64(k)/10))/2 }},
		{"CosineAnnealingLR", map[string]any{"T_max": 3},
			func(k int) float64 { return base * (1 + math.Cos(math.Pi*float64(k)/3)) / 2 }},
		{"LinearLR", map[string]any{}, // start 1/3, end 1, 5 iterations
			func(k int) float64 { return base * (1.0/3 + 2.0/3*float64(min(k, 5))/5) }},
		{"LinearLR", map[string]any{"start_factor": 1, "end_factor": 0.5, "total_iters": 4},
			func(k int) float64 { return base * (1 - 0.5*float64(min(k, 4))/4) }},
		{"ConstantLR", map[string]any{"factor": 0.5, "total_iters": 3},
			func(k int) float64 {
				if k < 3 {
					return base * 0.5
				}
				return base
			}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.typ, c.params), func(t *testing.T) {
			o := withSchedulers(t, base, map[string]any{"scheduler_by_epoch": sched(c.typ, c.params)})
			for k := 0; k <= 40; k++ {
				if got, want := o.LR(), c.want(k); math.Abs(got-want) > 1e-14 {
					t.Fatalf("after %d epochs: lr = %.17g, want %.17g", k, got, want)
				}
				o.EndEpoch()
			}
		})
	}
}

// TestCosineAnnealingKnownValues: T_max = 10 from 0.1, values by hand
// (cos 18 deg = 0.95105651629515357, cos 36 deg = 0.80901699437494742).
func TestCosineAnnealingKnownValues(t *testing.T) {
	o := withSchedulers(t, 0.1, map[string]any{"scheduler_by_epoch": sched("CosineAnnealingLR", map[string]any{"T_max": 10})})
	want := map[int]float64{0: 0.1, 1: 0.097552825814757679, 2: 0.090450849718747371, 5: 0.05, 10: 0, 15: 0.05, 19: 0.097552825814757679, 20: 0.1}
	for k := 0; k <= 20; k++ {
		if w, ok := want[k]; ok && math.Abs(o.LR()-w) > 1e-15 {
			t.Errorf("epoch %d: lr = %.17g, want %.17g", k, o.LR(), w)
		}
		o.EndEpoch()
	}
}

// TestReduceLROnPlateau follows PyTorch's bookkeeping by hand: a reduction
// when bad epochs exceed patience, then cooldown epochs that do not count.
func TestReduceLROnPlateau(t *testing.T) {
	cases := []struct {
		name    string
		params  map[string]any
		metrics []float64
		want    []float64 // lr after each metric
	}{
		{"max with patience and cooldown", map[string]any{"mode": "max", "factor": 0.5, "patience": 2, "cooldown": 1},
			[]float64{0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7},
			//  best  best  bad1 bad2 bad3:cut cool best bad1 bad2 bad3:cut cool bad1 bad2 bad3:cut
			[]float64{1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125}},
		{"min_lr floor and eps", map[string]any{"patience": 0, "min_lr": 0.05},
			[]float64{1, 1, 1, 1},
			[]float64{1, 0.1, 0.05, 0.05}},
		{"changes smaller than eps are skipped", map[string]any{"patience": 0, "factor": 0.5, "eps": 0.3},
			[]float64{1, 1, 1},
			[]float64{1, 0.5, 0.5}},
		{"rel threshold: 1e-4 of the best is not an improvement", map[string]any{"patience": 0},
			[]float64{1, 0.99995, 0.9998},
			[]float64{1, 0.1, 0.1}},
		{"abs threshold", map[string]any{"patience": 1, "threshold": 0.1, "threshold_mode": "abs"},
			[]float64{1, 0.95, 0.85, 0.85, 0.85},
			[]float64{1, 1, 1, 1, 0.1}},
		{"NaN is a bad epoch", map[string]any{"patience": 1, "mode": "max"},
			[]float64{1, math.NaN(), math.NaN()},
			[]float64{1, 1, 0.1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := withSchedulers(t, 1, map[string]any{"scheduler_by_plateau": sched("ReduceLROnPlateau", c.params)})
			for i, m := range c.metrics {
				o.Plateau(m)
				if math.Abs(o.LR()-c.want[i]) > 1e-15 {
					t.Fatalf("after metric %d (%v): lr = %v, want %v", i, m, o.LR(), c.want[i])
				}
			}
		})
	}
}

// TestSlotsStepIndependentlyAndCompose: each hook steps only its own
// scheduler, and schedulers on one optimiser multiply as in PyTorch.
func TestSlotsStepIndependentlyAndCompose(t *testing.T) {
	o := withSchedulers(t, 1, map[string]any{
		"scheduler_by_iteration": sched("ExponentialLR", map[string]any{"gamma": 0.9}),
		"scheduler_by_epoch":     sched("StepLR", map[string]any{"step_size": 2, "gamma": 0.5}),
		"scheduler_by_plateau":   sched("ReduceLROnPlateau", map[string]any{"patience": 0, "mode": "max"}),
	})
	lr := 1.0
	check := func(what string) {
		t.Helper()
		if math.Abs(o.LR()-lr) > 1e-15 {
			t.Fatalf("%s: lr = %.17g, want %.17g", what, o.LR(), lr)
		}
	}
	for epoch := 1; epoch <= 4; epoch++ {
		for range 3 {
			o.EndIteration()
			lr *= 0.9
			check("iteration")
		}
		o.EndEpoch()
		if epoch%2 == 0 {
			lr *= 0.5
		}
		check("epoch")
		o.Plateau(1) // best after the first, then no improvement
		if epoch > 1 {
			lr *= 0.1
		}
		check("plateau")
	}
}

// TestConstructionStep: LinearLR and ConstantLR scale lr when the optimiser
// is built, before any step (PyTorch's constructor step).
func TestConstructionStep(t *testing.T) {
	o := withSchedulers(t, 0.3, map[string]any{"scheduler_by_iteration": sched("LinearLR", nil)})
	if math.Abs(o.LR()-0.1) > 1e-16 {
		t.Errorf("lr = %v, want 0.1", o.LR())
	}
}
