package data

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// classRange lists classes lo..hi.
func classRange(lo, hi int) []int {
	var out []int
	for c := lo; c <= hi; c++ {
		out = append(out, c)
	}
	return out
}

// twoPerClass is a dataset of n classes of two items each.
func twoPerClass(n int) labelled {
	var l labelled
	for c := range n {
		l = append(l, c, c)
	}
	return l
}

// The class ranges of "A Metric Learning Reality Check", as
// powerful_benchmarker's MLRCSplitManager computes them with its defaults
// (test_size 0.5, four partitions): for CUB200, Cars196 and SOP's class
// counts.
func TestMLRCRanges(t *testing.T) {
	for _, tc := range []struct {
		classes, testFrom int
		val               [4][][2]int // per partition, ranges of val classes
	}{
		{200, 100, [4][][2]int{{{75, 99}}, {{0, 24}}, {{25, 49}}, {{50, 74}}}},
		{196, 98, [4][][2]int{{{74, 97}}, {{0, 23}}, {{25, 48}}, {{49, 72}}}},
		{22634, 11317, [4][][2]int{{{8488, 11316}}, {{0, 2828}}, {{2829, 5657}}, {{5658, 8486}}}},
	} {
		labels := twoPerClass(tc.classes)
		splits, err := build(t, SplitManagers, "MLRCSplitManager", nil).Splits(labels)
		if err != nil {
			t.Fatal(err)
		}
		if len(splits) != 4 {
			t.Fatalf("%d classes: %d splits, want 4", tc.classes, len(splits))
		}
		for p, s := range splits {
			if want := "Test50_50_Partitions4_" + string(rune('0'+p)); s.Name != want {
				t.Errorf("name %s, want %s", s.Name, want)
			}
			if got := classesOf(labels, s.Test); !reflect.DeepEqual(got, classRange(tc.testFrom, tc.classes-1)) {
				t.Errorf("%d classes, partition %d: test classes %d..%d, want %d..%d", tc.classes, p, got[0], got[len(got)-1], tc.testFrom, tc.classes-1)
			}
			var want []int
			for _, r := range tc.val[p] {
				want = append(want, classRange(r[0], r[1])...)
			}
			if got := classesOf(labels, s.Val); !reflect.DeepEqual(got, want) {
				t.Errorf("%d classes, partition %d: val classes %v..%v (%d), want %v", tc.classes, p, got[0], got[len(got)-1], len(got), tc.val[p])
			}
			train := classesOf(labels, s.Train)
			for _, c := range train {
				if slices.Contains(want, c) || c >= tc.testFrom {
					t.Fatalf("%d classes, partition %d: train class %d is in val or test", tc.classes, p, c)
				}
			}
			if len(train)+len(want) != tc.testFrom {
				t.Errorf("%d classes, partition %d: %d train + %d val classes, want %d", tc.classes, p, len(train), len(want), tc.testFrom)
			}
		}
	}
}

func TestMLRCRefusesOverlappingRanges(t *testing.T) {
	_, err := build(t, SplitManagers, "MLRCSplitManager", map[string]any{"test_size": 0.25}).Splits(twoPerClass(100))
	if err == nil || !strings.Contains(err.Error(), "MLRCSplitManager") || !strings.Contains(err.Error(), "at most") {
		t.Errorf("error %v, want one saying the ranges do not fit", err)
	}
}

// IndexSplitManager splits items as ClassDisjointSplitManager splits
// classes: 10 items, the last 5 to test, 5 in 4 KFold folds of 2, 1, 1, 1.
func TestIndexSplitManager(t *testing.T) {
	splits, err := build(t, SplitManagers, "IndexSplitManager", nil).Splits(labelled{0, 0, 0, 0, 0, 1, 1, 1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	wantVal := [][]int{{0, 1}, {2}, {3}, {4}}
	for f, s := range splits {
		if !reflect.DeepEqual(s.Test, []int{5, 6, 7, 8, 9}) || !reflect.DeepEqual(s.Val, wantVal[f]) || len(s.Train)+len(s.Val) != 5 {
			t.Errorf("%s: train %v val %v test %v", s.Name, s.Train, s.Val, s.Test)
		}
	}
}

func TestClosedSetSplitManager(t *testing.T) {
	// 6 classes of 8 to 13 items.
	var labels labelled
	for c := range 6 {
		for range 8 + c {
			labels = append(labels, c)
		}
	}
	m := build(t, SplitManagers, "ClosedSetSplitManager", map[string]any{"test_size": 0.25, "num_training_partitions": 3, "num_training_sets": 3, "random_seed": 4})
	splits, err := m.Splits(labels)
	if err != nil {
		t.Fatal(err)
	}
	all := classRange(0, 5)
	valSeen := map[int]bool{}
	for _, s := range splits {
		if len(s.Test) != 16 { // ceil(0.25 * 63)
			t.Errorf("%s: %d test items, want 16", s.Name, len(s.Test))
		}
		if !reflect.DeepEqual(s.Test, splits[0].Test) {
			t.Errorf("%s: the test set differs between schemes", s.Name)
		}
		for _, set := range [][]int{s.Train, s.Val, s.Test} {
			if got := classesOf(labels, set); !reflect.DeepEqual(got, all) {
				t.Errorf("%s: a set has classes %v, want every class", s.Name, got)
			}
		}
		seen := map[int]bool{}
		for _, i := range slices.Concat(s.Train, s.Val, s.Test) {
			if seen[i] {
				t.Fatalf("%s: item %d is in two sets", s.Name, i)
			}
			seen[i] = true
		}
		if len(seen) != len(labels) {
			t.Errorf("%s: %d of %d items in a set", s.Name, len(seen), len(labels))
		}
		for _, i := range s.Val {
			if valSeen[i] {
				t.Errorf("%s: val item %d also validates another scheme", s.Name, i)
			}
			valSeen[i] = true
		}
	}
	again, _ := m.Splits(labels)
	if !reflect.DeepEqual(again, splits) {
		t.Error("the same seed gave other splits")
	}
}

// StratifiedKFold without shuffling, worked by hand from scikit-learn's
// algorithm: class 0's three items take folds 0, 0, 1 and class 1's four
// folds 0, 0, 1, 1.
func TestStratifiedFolds(t *testing.T) {
	m := ClosedSet{ClassDisjoint{NumTrainingPartitions: 2}}
	labels := []int{7, 7, 7, 3, 3, 3, 3}
	got := m.stratifiedFolds([]int{0, 1, 2, 3, 4, 5, 6}, labels)
	if want := []int{0, 0, 1, 0, 0, 1, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("folds %v, want %v", got, want)
	}
	if got := approximateMode([]int{3, 4}, 3); !reflect.DeepEqual(got, []int{1, 2}) {
		t.Errorf("approximateMode %v, want [1 2]", got)
	}
}

func TestPredefinedNeedsPartitions(t *testing.T) {
	for _, c := range []struct {
		typ    string
		params map[string]any
	}{{"PredefinedSplitManager", nil}, {"ClassDisjointSplitManager", map[string]any{"special_split_scheme_name": "predefined"}}} {
		_, err := build(t, SplitManagers, c.typ, c.params).Splits(twoPerClass(4))
		if err == nil || !strings.Contains(err.Error(), "no predefined train and test partitions") {
			t.Errorf("%s: error %v", c.typ, err)
		}
	}
}

// hierarchy_level splits on the coarser labels: no super-class is in two
// sets, and a missing level is an error naming the levels there are.
func TestSplitHierarchyLevel(t *testing.T) {
	var ds twoLevels
	for c := range 24 {
		ds.labelled = append(ds.labelled, c, c)
		ds.super = append(ds.super, c/3, c/3)
	}
	splits, err := build(t, SplitManagers, "ClassDisjointSplitManager", map[string]any{"hierarchy_level": 1, "num_training_partitions": 2, "num_training_sets": 2}).Splits(ds)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range splits {
		tr, va, te := classesOf(ds.super, s.Train), classesOf(ds.super, s.Val), classesOf(ds.super, s.Test)
		if len(tr)+len(va)+len(te) != 8 || len(te) != 4 {
			t.Errorf("%s: super-classes train %v val %v test %v", s.Name, tr, va, te)
		}
	}
	_, err = build(t, SplitManagers, "ClassDisjointSplitManager", map[string]any{"hierarchy_level": 2}).Splits(ds)
	if err == nil || !strings.Contains(err.Error(), "level 2: the dataset has 2 level(s)") {
		t.Errorf("error %v", err)
	}
}

// AtLevel labels a dataset at a coarser level and still reads every level.
func TestAtLevel(t *testing.T) {
	ds := twoLevels{labelled: labelled{0, 1, 2, 3}, super: []int{0, 0, 1, 1}}
	up, err := AtLevel(ds, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := Labels(up); !reflect.DeepEqual(got, []int{0, 0, 1, 1}) || !reflect.DeepEqual(up.Classes(), []string{"0", "1"}) {
		t.Errorf("labels %v, classes %v", got, up.Classes())
	}
	if got, _ := LabelsAt(up, 0); !reflect.DeepEqual(got, []int{0, 1, 2, 3}) {
		t.Errorf("level 0 through AtLevel: %v", got)
	}
	if _, err := AtLevel(labelled{0, 1}, 1); err == nil || !strings.Contains(err.Error(), "has 1 level(s)") {
		t.Errorf("a level the dataset lacks: %v", err)
	}
}

// TestMLRCTakesClassDisjointParams: MLRCSplitManager takes every parameter
// of ClassDisjointSplitManager as powerful_benchmarker passes them (its
// subclass), bench's resolved ones included, with the same splits.
func TestMLRCTakesClassDisjointParams(t *testing.T) {
	labels := twoPerClass(40)
	plain, err := build(t, SplitManagers, "MLRCSplitManager", nil).Splits(labels)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]any{"test_size": 0.5, "test_start_idx": 0.5, "num_training_partitions": 4, "num_training_sets": 4,
		"shuffle": false, "random_seed": nil, "hierarchy_level": 0, "data_and_label_getter_keys": []any{"data", "label"},
		"labels_attr_name": "labels", "label_set_attr_name": nil, "special_split_scheme_name": ""}
	swapped, err := build(t, SplitManagers, "MLRCSplitManager", params).Splits(labels)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plain, swapped) {
		t.Errorf("ClassDisjointSplitManager's parameters change MLRC's splits:\n%v\nvs\n%v", swapped, plain)
	}
	_, _, err = SplitManagers.Build(config.Component{Type: "MLRCSplitManager", Params: map[string]any{"special_split_scheme_name": "old_approach"}, Where: "split_manager"})
	if want := `split_manager.MLRCSplitManager.special_split_scheme_name: only null is supported, got "old_approach"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v; want %q", err, want)
	}
	_, _, err = SplitManagers.Build(config.Component{Type: "ClassDisjointSplitManager", Params: map[string]any{"labels_attr_name": "targets"}, Where: "split_manager"})
	if want := "labels_attr_name"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v; want an error naming %q", err, want)
	}
}
