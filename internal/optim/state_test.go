package optim

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
)

func stateConfig(t *testing.T) Config {
	return build(t, "Adam", map[string]any{
		"lr": 0.01, "amsgrad": true, "clip_grad_norm": 1,
		"scheduler_by_iteration": sched("LinearLR", nil),
		"scheduler_by_epoch":     sched("CosineAnnealingLR", map[string]any{"T_max": 4}),
		"scheduler_by_plateau":   sched("ReduceLROnPlateau", map[string]any{"mode": "max", "patience": 0, "cooldown": 1}),
	})
}

func newParams(n int) []*Param[float32] {
	w := &Param[float32]{Name: "layer.weight", Value: make([]float32, n), Grad: make([]float32, n)}
	b := &Param[float32]{Name: "layer.bias", Value: make([]float32, 1), Grad: make([]float32, 1)}
	return []*Param[float32]{w, b}
}

// train runs epochs of 3 iterations with deterministic gradients, an
// evaluation per epoch, starting from epoch `from`.
func train(o *Optimizer[float32], params []*Param[float32], from, epochs int) {
	for e := from; e < from+epochs; e++ {
		for it := range 3 {
			for _, p := range params {
				for i, x := range p.Value {
					p.Grad[i] = x - float32(math.Sin(float64(7*e+3*it+i)))
				}
			}
			o.Step()
			o.EndIteration()
		}
		o.EndEpoch()
		o.Plateau(float64(e % 3)) // improves, then plateaus
	}
}

// TestStateRestoreContinuesIdentically saves mid-training, goes through
// JSON for the small part, restores into a fresh optimiser over a copy of
// the parameters, and requires bit-identical values and lr afterwards.
func TestStateRestoreContinuesIdentically(t *testing.T) {
	cfg := stateConfig(t)
	params := newParams(5)
	o := New(cfg, params)
	train(o, params, 0, 4)

	saved := o.State()
	js, err := json.Marshal(saved)
	if err != nil {
		t.Fatal(err)
	}
	var loaded State
	if err := json.Unmarshal(js, &loaded); err != nil {
		t.Fatal(err)
	}
	loaded.Tensors = saved.Tensors
	copies := newParams(5)
	for i, p := range params {
		copy(copies[i].Value, p.Value)
	}

	train(o, params, 4, 3)
	resumed := New(cfg, copies)
	if err := resumed.Restore(loaded); err != nil {
		t.Fatal(err)
	}
	train(resumed, copies, 4, 3)

	if resumed.LR() != o.LR() {
		t.Errorf("lr after resuming = %v, uninterrupted %v", resumed.LR(), o.LR())
	}
	for i, p := range params {
		for j, x := range p.Value {
			if copies[i].Value[j] != x {
				t.Fatalf("%s[%d] = %v after resuming, %v uninterrupted", p.Name, j, copies[i].Value[j], x)
			}
		}
	}
	if a, b := o.State(), resumed.State(); a.Step != b.Step || a.Schedulers["scheduler_by_plateau"].NumBadEpochs != b.Schedulers["scheduler_by_plateau"].NumBadEpochs {
		t.Errorf("states differ: %+v vs %+v", a, b)
	}
}

// TestStateIsACopy: later steps do not change a saved state.
func TestStateIsACopy(t *testing.T) {
	params := newParams(2)
	o := New(stateConfig(t), params)
	train(o, params, 0, 1)
	s := o.State()
	before := s.Tensors["layer.weight.exp_avg"][0]
	best := *s.Schedulers["scheduler_by_plateau"].Best
	train(o, params, 1, 2)
	if s.Tensors["layer.weight.exp_avg"][0] != before || *s.Schedulers["scheduler_by_plateau"].Best != best {
		t.Error("the saved state changed with training")
	}
}

func TestStateNames(t *testing.T) {
	o := New(stateConfig(t), newParams(2))
	s := o.State()
	for _, k := range []string{"layer.weight.exp_avg", "layer.weight.exp_avg_sq", "layer.weight.max_exp_avg_sq", "layer.bias.exp_avg"} {
		if _, ok := s.Tensors[k]; !ok {
			t.Errorf("no tensor %q in %v", k, slices.Sorted(maps.Keys(s.Tensors)))
		}
	}
	if len(s.Schedulers) != 3 || s.Schedulers["scheduler_by_plateau"].Best != nil {
		t.Errorf("schedulers = %+v", s.Schedulers)
	}
}

func TestRestoreRejectsMismatch(t *testing.T) {
	cases := []struct {
		name   string
		change func(s *State)
		want   string
	}{
		{"missing tensor", func(s *State) { delete(s.Tensors, "layer.bias.exp_avg_sq") }, `missing "layer.bias.exp_avg_sq"`},
		{"wrong length", func(s *State) { s.Tensors["layer.weight.exp_avg"] = []float64{1} }, `"layer.weight.exp_avg" has 1 values, the parameter has 2`},
		{"extra tensor", func(s *State) { s.Tensors["layer.weight.momentum_buffer"] = []float64{1, 2} }, `unexpected "layer.weight.momentum_buffer"`},
		{"missing scheduler", func(s *State) { delete(s.Schedulers, "scheduler_by_epoch") }, "scheduler_by_epoch is absent in the state but present"},
		{"extra scheduler", func(s *State) { s.Schedulers["scheduler_by_plateau"] = SchedulerState{} }, "scheduler_by_plateau is present in the state but absent"},
		{"unknown scheduler", func(s *State) { s.Schedulers["scheduler_by_epoc"] = SchedulerState{} }, "unknown scheduler key"},
		{"negative lr", func(s *State) { s.LR = -1 }, "bad step 0 or lr -1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := build(t, "Adam", map[string]any{"scheduler_by_epoch": sched("StepLR", map[string]any{"step_size": 1})})
			params := []*Param[float32]{{Name: "layer.weight", Value: []float32{1, 2}, Grad: []float32{0, 0}}, {Name: "layer.bias", Value: []float32{0}, Grad: []float32{0}}}
			o := New(cfg, params)
			s := o.State()
			c.change(&s)
			err := New(cfg, params).Restore(s)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}
