package loss

import (
	"math"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

func TestReducers(t *testing.T) {
	losses := []float64{0, 0.5, 1, 2, 3.5}
	for _, c := range []struct {
		reducer     config.Component
		divisor     float64
		value       float64
		grad        []float64
		errContains string
	}{
		{reducer: config.C("MeanReducer", nil), divisor: noDivisor, value: 7.0 / 5, grad: []float64{0.2, 0.2, 0.2, 0.2, 0.2}},
		{reducer: config.C("SumReducer", nil), divisor: noDivisor, value: 7, grad: []float64{1, 1, 1, 1, 1}},
		{reducer: config.C("AvgNonZeroReducer", nil), divisor: noDivisor, value: 7.0 / 4, grad: []float64{0, 0.25, 0.25, 0.25, 0.25}},
		{reducer: config.C("ThresholdReducer", map[string]any{"low": 0.5, "high": 3}), divisor: noDivisor, value: 1.5, grad: []float64{0, 0, 0.5, 0.5, 0}},
		{reducer: config.C("ThresholdReducer", map[string]any{"high": 0.7}), divisor: noDivisor, value: 0.25, grad: []float64{0.5, 0.5, 0, 0, 0}},
		{reducer: config.C("ThresholdReducer", map[string]any{"low": 5}), divisor: noDivisor, value: 0, grad: []float64{0, 0, 0, 0, 0}},
		{reducer: config.C("DivisorReducer", nil), divisor: 2, value: 3.5, grad: []float64{0.5, 0.5, 0.5, 0.5, 0.5}},
		{reducer: config.C("DivisorReducer", nil), divisor: 0, value: 0, grad: []float64{0, 0, 0, 0, 0}},
		{reducer: config.C("DivisorReducer", nil), divisor: noDivisor, errContains: "no divisor"},
		{reducer: config.C("DoNothingReducer", nil), divisor: noDivisor, errContains: "unreduced"},
	} {
		t.Run(c.reducer.Type, func(t *testing.T) {
			r, _, err := Reducers.Build(c.reducer)
			if err != nil {
				t.Fatal(err)
			}
			var tape ad.Tape
			x := tape.Var(append([]float64(nil), losses...), 1, len(losses))
			out, err := r.reduce(&tape, subLoss{name: "loss", losses: x, divisor: c.divisor})
			if c.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), c.errContains) {
					t.Fatalf("error %v, want one containing %q", err, c.errContains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out == nil { // zero
				if c.value != 0 {
					t.Fatalf("zero, want %v", c.value)
				}
				return
			}
			tape.Backward(out)
			if math.Abs(out.Value[0]-c.value) > 1e-15 {
				t.Errorf("value %v, want %v", out.Value[0], c.value)
			}
			for i, g := range x.Grad {
				if math.Abs(g-c.grad[i]) > 1e-15 {
					t.Errorf("grad %v, want %v", x.Grad, c.grad)
					break
				}
			}
		})
	}
}

// TestReducersPassThrough: every reducer but DoNothingReducer returns an
// already reduced sub-loss as it is, and nothing for a zero or empty one.
func TestReducersPassThrough(t *testing.T) {
	for _, name := range Reducers.Names() {
		if name == "DoNothingReducer" || name == "ThresholdReducer" {
			continue // ThresholdReducer needs a parameter; AvgNonZeroReducer is one
		}
		r, _, err := Reducers.Build(config.C(name, nil))
		if err != nil {
			t.Fatal(err)
		}
		var tape ad.Tape
		reduced := tape.Scalar(0.7)
		for _, c := range []struct {
			s    subLoss
			want *ad.Node
		}{
			{subLoss{name: "reg", losses: reduced, reduced: true, divisor: noDivisor}, reduced},
			{subLoss{name: "zero", divisor: noDivisor}, nil},
			{subLoss{name: "empty", losses: tape.Const(nil, 1, 0), divisor: 3}, nil},
		} {
			got, err := r.reduce(&tape, c.s)
			if err != nil || got != c.want {
				t.Errorf("%s on %s: %v, %v; want %v", name, c.s.name, got, err, c.want)
			}
		}
	}
}

func TestThresholdReducerNeedsABound(t *testing.T) {
	_, _, err := Reducers.Build(config.C("ThresholdReducer", nil))
	if err == nil || !strings.Contains(err.Error(), "low") {
		t.Fatalf("error %v, want one about low and high", err)
	}
}

func TestDoNothingReducer(t *testing.T) {
	emb, n, d, labels := testBatch(4)
	l, _, err := Losses.Build(config.C("ContrastiveLoss", map[string]any{"reducer": map[string]any{"DoNothingReducer": nil}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Compute(emb, n, d, labels, nil); err == nil {
		t.Fatal("Compute with DoNothingReducer: no error")
	}
	got, err := Unreduced(l, emb, n, d, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	pos, neg := len(got["pos_loss"]), len(got["neg_loss"])
	if len(got) != 2 || pos != 12*3 || neg != 12*8 {
		t.Errorf("sub-losses %d pos, %d neg of %d; want 36 and 96 of 2", pos, neg, len(got))
	}
}
