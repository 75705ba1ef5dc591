package optim

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// State is an optimiser's checkpoint: everything it needs to continue
// exactly as if it had not stopped. Tensors holds the per-parameter buffers
// under "<param name>.<PyTorch state name>" (e.g. "trunk.conv1.weight.exp_avg"),
// in float64 (exact for float32 too), meant for a tensor file; the other
// fields are small and JSON-friendly.
type State struct {
	Step       int                       `json:"step"`
	LR         float64                   `json:"lr"`
	Schedulers map[string]SchedulerState `json:"schedulers,omitempty"` // by config key, e.g. "scheduler_by_epoch"
	Tensors    map[string][]float64      `json:"-"`
}

// State returns a copy of the optimiser's state.
func (o *Optimizer[T]) State() State {
	s := State{Step: o.step, LR: o.lr, Schedulers: map[string]SchedulerState{}, Tensors: map[string][]float64{}}
	for slot, sched := range o.cfg.Schedulers {
		if sched != nil {
			s.Schedulers[slotKeys[slot]] = o.sched[slot].clone()
		}
	}
	names := o.cfg.Rule.buffers()
	for i, p := range o.params {
		for k, buf := range o.bufs[i] {
			t := make([]float64, len(buf))
			for j, x := range buf {
				t[j] = float64(x)
			}
			s.Tensors[p.Name+"."+names[k]] = t
		}
	}
	return s
}

// Restore puts back a state from State. It checks that the state fits this
// optimiser (same parameters, rule buffers and schedulers) before changing
// anything, and names the first mismatch.
func (o *Optimizer[T]) Restore(s State) error {
	// A scheduler may have brought lr to exactly 0 (cosine annealing to eta_min 0).
	if s.Step < 0 || !(s.LR >= 0) || math.IsInf(s.LR, 0) {
		return fmt.Errorf("optimizer state: bad step %d or lr %v", s.Step, s.LR)
	}
	configured := 0
	for slot, sched := range o.cfg.Schedulers {
		st, ok := s.Schedulers[slotKeys[slot]]
		if ok != (sched != nil) {
			return fmt.Errorf("optimizer state: %s is %s in the state but %s in the config",
				slotKeys[slot], presence(ok), presence(sched != nil))
		}
		if ok && st.LastEpoch < 0 {
			return fmt.Errorf("optimizer state: %s: bad last_epoch %d", slotKeys[slot], st.LastEpoch)
		}
		if ok {
			configured++
		}
	}
	if len(s.Schedulers) != configured {
		return fmt.Errorf("optimizer state: unknown scheduler key among %v; want %v", slices.Sorted(maps.Keys(s.Schedulers)), slotKeys)
	}
	names := o.cfg.Rule.buffers()
	expected := map[string]bool{}
	for _, p := range o.params {
		for _, name := range names {
			key := p.Name + "." + name
			t, ok := s.Tensors[key]
			if !ok {
				return fmt.Errorf("optimizer state: missing %q (a different model or optimiser?)", key)
			}
			if len(t) != len(p.Value) {
				return fmt.Errorf("optimizer state: %q has %d values, the parameter has %d", key, len(t), len(p.Value))
			}
			expected[key] = true
		}
	}
	for _, key := range slices.Sorted(maps.Keys(s.Tensors)) {
		if !expected[key] {
			return fmt.Errorf("optimizer state: unexpected %q (a different model or optimiser?)", key)
		}
	}

	o.step, o.lr = s.Step, s.LR
	for slot := range o.sched {
		o.sched[slot] = s.Schedulers[slotKeys[slot]].clone()
	}
	for i, p := range o.params {
		for k, name := range names {
			for j, x := range s.Tensors[p.Name+"."+name] {
				o.bufs[i][k][j] = T(x)
			}
		}
	}
	return nil
}

// clone copies s without sharing Best with it.
func (s SchedulerState) clone() SchedulerState {
	if s.Best != nil {
		best := *s.Best
		s.Best = &best
	}
	return s
}

func presence(ok bool) string {
	if ok {
		return "present"
	}
	return "absent"
}
