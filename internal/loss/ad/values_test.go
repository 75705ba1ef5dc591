package ad

import (
	"math"
	"testing"
)

// TestValues checks operations against values worked out by hand.
func TestValues(t *testing.T) {
	var tape Tape
	x := tape.Const([]float64{3, 4, 0, 0, 1, 2}, 3, 2)
	inf := math.Inf(1)
	for _, c := range []struct {
		name string
		got  *Node
		want []float64
	}{
		{"PairwiseLp2", tape.PairwiseLp(x, x, 2), []float64{0, 5, math.Sqrt(8), 5, 0, math.Sqrt(5), math.Sqrt(8), math.Sqrt(5), 0}},
		{"PairwiseLp1", tape.PairwiseLp(x, x, 1), []float64{0, 7, 4, 7, 0, 3, 4, 3, 0}},
		{"NormalizeRows", tape.NormalizeRows(x, 2), []float64{0.6, 0.8, 0, 0, 1 / math.Sqrt(5), 2 / math.Sqrt(5)}},
		{"MatMulT", tape.MatMulT(x, x), []float64{25, 0, 11, 0, 0, 0, 11, 0, 5}},
		{"LogSumExp", tape.LogSumExp(x, nil, false), []float64{4 + math.Log(1+math.Exp(-1)), math.Log(2), 2 + math.Log(1+math.Exp(-1))}},
		// A row with nothing kept is 0 (PML masks it), add_one adds e^0.
		{"LogSumExpMasked", tape.LogSumExp(x, []bool{true, false, false, false, false, true}, true), []float64{math.Log(1 + math.Exp(3)), 0, math.Log(1 + math.Exp(2))}},
		{"GroupLogSumExp", tape.GroupLogSumExp(x, [][]int{{0, 0}, {}, {4}}), []float64{3 + math.Log(2), 0, 1}},
		{"Softmax", tape.Softmax(x, []bool{true, true, false, true, true, true}), []float64{1 / (1 + math.E), math.E / (1 + math.E), 0, 1, 1 / (1 + math.E), math.E / (1 + math.E)}},
		{"RowNorms", tape.RowNorms(x, 2), []float64{5, 0, math.Sqrt(5)}},
		{"RowNorms1", tape.RowNorms(x, 1), []float64{7, 0, 3}},
		{"GroupMax", tape.GroupMax(tape.Const([]float64{1, 3, 2, -1, -2, -1}, 1, 6), 3), []float64{3, -1}},
		{"Softplus", tape.Softplus(tape.Const([]float64{0, 30, -inf}, 1, 3)), []float64{math.Log(2), 30, 0}},
		{"Broadcast", tape.Sub(x, tape.Const([]float64{1, 2, 3}, 3, 1)), []float64{2, 3, -2, -2, -2, -1}},
	} {
		if len(c.got.Value) != len(c.want) {
			t.Errorf("%s: %d values, want %d", c.name, len(c.got.Value), len(c.want))
			continue
		}
		for i, w := range c.want {
			if math.Abs(c.got.Value[i]-w) > 1e-12 {
				t.Errorf("%s[%d] = %v, want %v", c.name, i, c.got.Value[i], w)
			}
		}
	}
}

// TestZeroDistanceGradient checks torch's subgradient: a zero distance
// passes no gradient (rather than NaN).
func TestZeroDistanceGradient(t *testing.T) {
	var tape Tape
	x := tape.Var([]float64{1, 2, 1, 2}, 2, 2)
	tape.Backward(tape.Sum(tape.PairwiseLp(x, x, 2)))
	for i, g := range x.Grad {
		if g != 0 {
			t.Errorf("grad[%d] = %v, want 0", i, g)
		}
	}
}

// TestZeroNormAndTiedMax checks torch's choices where the derivative is not
// unique: a zero row's norm passes no gradient, and a tied maximum passes
// its gradient to the first of the tied elements only.
func TestZeroNormAndTiedMax(t *testing.T) {
	var tape Tape
	x := tape.Var([]float64{0, 0, 2, 2}, 1, 4)
	tape.Backward(tape.Add(tape.Sum(tape.RowNorms(tape.Reshape(x, 2, 2), 2)), tape.Sum(tape.GroupMax(x, 2))))
	if want := []float64{1, 0, 1 + 1/math.Sqrt2, 1 / math.Sqrt2}; math.Abs(x.Grad[0]-want[0]) > 1e-15 || x.Grad[1] != 0 ||
		math.Abs(x.Grad[2]-want[2]) > 1e-15 || math.Abs(x.Grad[3]-want[3]) > 1e-15 {
		t.Errorf("grad %v, want %v", x.Grad, want)
	}
}

// TestMaskedInfinity checks that a masked-out infinity does not turn the
// gradient into NaN.
func TestMaskedInfinity(t *testing.T) {
	var tape Tape
	x := tape.Var([]float64{0, 1}, 1, 2)
	logs := tape.Log(x) // log 0 = -inf
	tape.Backward(tape.Sum(tape.Where([]bool{false, true}, logs, tape.Const([]float64{0, 0}, 1, 2))))
	if x.Grad[0] != 0 || x.Grad[1] != 1 {
		t.Errorf("grad %v, want [0 1]", x.Grad)
	}
}

// TestConstantsHaveNoGradient checks that a graph of constants records
// nothing and Backward leaves it alone.
func TestConstantsHaveNoGradient(t *testing.T) {
	var tape Tape
	out := tape.Sum(tape.Exp(tape.Const([]float64{1, 2}, 1, 2)))
	if out.Grad != nil || len(tape.backward) != 0 {
		t.Fatalf("constant graph recorded %d steps", len(tape.backward))
	}
	tape.Backward(out)
}
