package eval

import (
	"strings"
	"testing"
)

// Anchors a0 = (1, 0) of class 0 and a1 = (0, 1) of class 1 against their
// posnegs p0 = (.9, .1) and p1 = (1, .2): a0's nearest posneg is its own
// (squared distance .02, kept: the streams are different sources), a1's is
// p0 (1.62 < 1.64), of the other class. Each query has one positive
// reference (R = 1): precision@1 and MAP@R are 1 for a0, 0 for a1.
func TestGlobalTwoStreamTester(t *testing.T) {
	s := points([][2]float32{{1, 0}, {0, 1}, {.9, .1}, {1, .2}}, []int{0, 1, 0, 1}, nil)
	tr := Tester{Reference: ComparedToSelf, TwoStream: true, Options: Options{K: KAll}}
	got, err := tr.Test(map[string]Set{"val": s}, []string{"val"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"precision_at_1", "mean_average_precision_at_r", "r_precision"} {
		if got["val"][m] != 0.5 {
			t.Errorf("%s = %v, want 0.5", m, got["val"][m])
		}
	}
	for _, c := range []struct {
		tester Tester
		set    Set
		want   string
	}{
		{Tester{Reference: ComparedToSetsCombined, TwoStream: true}, s, "compares the anchors with the posnegs"},
		{tr, points([][2]float32{{1, 0}, {0, 1}, {.9, .1}}, []int{0, 1, 0}, nil), "3 rows"},
	} {
		if _, err := c.tester.Test(map[string]Set{"val": c.set}, []string{"val"}, 2); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}
