package eval

import (
	"strings"
	"testing"
)

// points makes a Set of 2-D points.
func points(xy [][2]float32, labels, parents []int) Set {
	s := Set{Labels: labels, Parents: parents}
	for _, p := range xy {
		s.Emb = append(s.Emb, p[0], p[1])
	}
	return s
}

func TestTesterReferenceSets(t *testing.T) {
	// Each val item's only positive is in train; train's nearest other
	// item is always of another class.
	sets := map[string]Set{
		"val":   points([][2]float32{{0, 0}, {10, 0}}, []int{0, 1}, nil),
		"train": points([][2]float32{{0, 1}, {10, 1}, {0, 1.5}, {10, 1.5}}, []int{0, 1, 2, 3}, nil),
	}
	for _, c := range []struct {
		reference string
		toEval    []string
		split     string
		wantP1    float64
	}{
		// compared to itself, no val query has a positive: none counts
		{ComparedToSetsCombined, []string{"val", "train"}, "val", 1},
		{ComparedToTrainingSet, []string{"val"}, "val", 1},
		// train against train keeps a query's own row, as PML: it is its own
		// nearest neighbour
		{ComparedToTrainingSet, []string{"val", "train"}, "train", 1},
		// combined, train's queries exclude their own rows: the nearest
		// other item of items 0 and 1 is of label 2 or 3 (items 2 and 3,
		// without a positive, do not count)
		{ComparedToSetsCombined, []string{"val", "train"}, "train", 0},
	} {
		tr := Tester{Reference: c.reference, Options: Options{K: KAll}}
		needs := tr.Needs(c.toEval)
		in := map[string]Set{}
		for _, n := range needs {
			in[n] = sets[n]
		}
		got, err := tr.Test(in, c.toEval, 2)
		if err != nil {
			t.Fatalf("%s %v: %v", c.reference, c.toEval, err)
		}
		if p1 := got[c.split][PrecisionAt1]; p1 != c.wantP1 {
			t.Errorf("%s %v: %s precision_at_1 %v, want %v", c.reference, c.toEval, c.split, p1, c.wantP1)
		}
	}
	self, err := Tester{Reference: ComparedToSelf, Options: Options{K: KAll}}.Test(sets, []string{"train"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := self["train"][PrecisionAt1]; got != 0 {
		t.Errorf("train compared to itself: precision_at_1 %v, want 0 (every nearest other item is of another class)", got)
	}
	if _, err := (Tester{Reference: "nearby"}).Test(sets, []string{"val"}, 2); err == nil || !strings.Contains(err.Error(), "reference set") {
		t.Errorf("unknown reference set: %v", err)
	}
}

// WithSameParentLabelTester compares a query with the items of its parent
// label only: the label-2 item of parent 1 between query 0 and its positive
// no longer counts.
func TestTesterSameParent(t *testing.T) {
	s := points([][2]float32{{0, 0}, {0, 2}, {0, 1}, {0, 1.2}, {5, 5}, {5, 6}}, []int{0, 0, 2, 2, 1, 1}, []int{0, 0, 1, 1, 0, 0})
	global, err := Tester{Reference: ComparedToSelf, Options: Options{K: KAll}}.Test(map[string]Set{"val": s}, []string{"val"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	within, err := Tester{Reference: ComparedToSelf, SameParent: true, Options: Options{K: KAll}}.Test(map[string]Set{"val": s}, []string{"val"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Globally item 0's and item 1's nearest others are of label 2; within
	// parent 0 every item's nearest other is its positive.
	if g, w := global["val"][PrecisionAt1], within["val"][PrecisionAt1]; g >= 1 || w != 1 {
		t.Errorf("precision_at_1 global %v (want < 1), within parents %v (want 1)", g, w)
	}
}
