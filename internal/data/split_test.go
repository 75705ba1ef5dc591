package data

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// labelsFor makes a dataset's labels: class c has 1 + c%3 items, the items
// interleaved so that item order and class order differ.
func labelsFor(classes int) []int {
	var labels []int
	for round := range 3 {
		for c := range classes {
			if round <= c%3 {
				labels = append(labels, c)
			}
		}
	}
	return labels
}

func classesOf(labels, idx []int) []int {
	var cs []int
	for _, i := range idx {
		cs = append(cs, labels[i])
	}
	return sortedSet(cs)
}

func TestClassDisjointInvariants(t *testing.T) {
	for _, tc := range []struct {
		classes int
		params  map[string]any
	}{
		{8, nil},
		{11, nil},
		{242, nil},
		{100, map[string]any{"test_start_idx": 0.75, "test_size": 0.3, "num_training_partitions": 5, "num_training_sets": 3}},
		{13, map[string]any{"test_start_idx": 0.9, "test_size": 0.2, "num_training_partitions": 3, "num_training_sets": 3}},
		{50, map[string]any{"shuffle": true, "random_seed": 3, "num_training_partitions": 2, "num_training_sets": 2}},
	} {
		t.Run(fmt.Sprintf("%d_%v", tc.classes, tc.params), func(t *testing.T) {
			labels := labelsFor(tc.classes)
			m := build(t, SplitManagers, "ClassDisjointSplitManager", tc.params)
			splits, err := m.Splits(labelled(labels))
			if err != nil {
				t.Fatal(err)
			}
			cd := m.(ClassDisjoint)
			if len(splits) != cd.NumTrainingSets {
				t.Fatalf("%d split schemes, want %d", len(splits), cd.NumTrainingSets)
			}
			valSeen := map[int]int{}
			for f, s := range splits {
				if !reflect.DeepEqual(s.Test, splits[0].Test) {
					t.Errorf("%s: test set differs from %s", s.Name, splits[0].Name)
				}
				train, val, test := classesOf(labels, s.Train), classesOf(labels, s.Val), classesOf(labels, s.Test)
				for _, pair := range [][2][]int{{train, val}, {train, test}, {val, test}} {
					for _, c := range pair[0] {
						if slices.Contains(pair[1], c) {
							t.Errorf("%s: class %d in two of train, val, test", s.Name, c)
						}
					}
				}
				if n := len(train) + len(val) + len(test); n != tc.classes {
					t.Errorf("%s: %d classes in train+val+test, want %d", s.Name, n, tc.classes)
				}
				// Every item of a class goes with it.
				if n := len(s.Train) + len(s.Val) + len(s.Test); n != len(labels) {
					t.Errorf("%s: %d items, want %d", s.Name, n, len(labels))
				}
				for _, c := range val {
					if g, dup := valSeen[c]; dup {
						t.Errorf("class %d in the val sets of schemes %d and %d", c, g, f)
					}
					valSeen[c] = f
				}
				for _, set := range [][]int{s.Train, s.Val, s.Test} {
					if !slices.IsSorted(set) || len(set) == 0 {
						t.Errorf("%s: a set is empty or unsorted", s.Name)
					}
				}
			}
			// With every fold used, the val sets cover the non-test classes.
			if cd.NumTrainingSets == cd.NumTrainingPartitions {
				if want := tc.classes - len(classesOf(labels, splits[0].Test)); len(valSeen) != want {
					t.Errorf("val sets cover %d classes, want %d", len(valSeen), want)
				}
			}
			again, err := m.Splits(labelled(labels))
			if err != nil || !reflect.DeepEqual(again, splits) {
				t.Errorf("a second call gave different splits")
			}
		})
	}
}

// Known splits of 10 classes with one item each.
func TestClassDisjointKnown(t *testing.T) {
	labels := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	for _, tc := range []struct {
		params map[string]any
		names  []string
		test   []int
		vals   [][]int
	}{
		{nil, []string{"Test50_50_Partitions4_0", "Test50_50_Partitions4_1", "Test50_50_Partitions4_2", "Test50_50_Partitions4_3"},
			[]int{5, 6, 7, 8, 9}, [][]int{{0, 1}, {2}, {3}, {4}}},
		// As powerful_benchmarker v0.9.33: the classes rolled by
		// int(0.9·10) - int(0.25·10) = 7 are 3..9, 0, 1, 2; the test set is
		// their last ceil(0.25·10) = 3 (scikit-learn rounds up), KFold cuts
		// the rest in order.
		{map[string]any{"test_size": 0.25, "test_start_idx": 0.9, "num_training_partitions": 3, "num_training_sets": 2},
			[]string{"Test25_90_Partitions3_0", "Test25_90_Partitions3_1"},
			[]int{0, 1, 2}, [][]int{{3, 4, 5}, {6, 7}}},
		// Rolled by int(0.2·10) - int(0.3·10) = -1: 1..9, 0; the test block wraps.
		{map[string]any{"test_size": 0.3, "test_start_idx": 0.2, "num_training_partitions": 2, "num_training_sets": 2},
			[]string{"Test30_20_Partitions2_0", "Test30_20_Partitions2_1"},
			[]int{0, 8, 9}, [][]int{{1, 2, 3, 4}, {5, 6, 7}}},
	} {
		splits, err := build(t, SplitManagers, "ClassDisjointSplitManager", tc.params).Splits(labelled(labels))
		if err != nil {
			t.Fatal(err)
		}
		for f, s := range splits {
			if s.Name != tc.names[f] || !reflect.DeepEqual(s.Test, tc.test) || !reflect.DeepEqual(s.Val, tc.vals[f]) {
				t.Errorf("%v: scheme %d is %+v, want %s with test %v, val %v", tc.params, f, s, tc.names[f], tc.test, tc.vals[f])
			}
		}
	}

	old, err := build(t, SplitManagers, "ClassDisjointSplitManager", map[string]any{"special_split_scheme_name": "old_approach"}).Splits(labelled(labels))
	if err != nil {
		t.Fatal(err)
	}
	want := []Split{{Name: "old_approach", Train: []int{0, 1, 2, 3, 4}, Val: []int{5, 6, 7, 8, 9}, Test: []int{5, 6, 7, 8, 9}}}
	if !reflect.DeepEqual(old, want) {
		t.Errorf("old_approach: %+v, want %+v", old, want)
	}

	// The saved form reads back the same.
	data, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	var back []Split
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, old) {
		t.Errorf("JSON round trip: %s gave %+v (%v)", data, back, err)
	}
}

func TestClassDisjointShuffleSeed(t *testing.T) {
	labels := labelsFor(40)
	split := func(seed int) []Split {
		s, err := build(t, SplitManagers, "ClassDisjointSplitManager", map[string]any{"shuffle": true, "random_seed": seed}).Splits(labelled(labels))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if !reflect.DeepEqual(split(1), split(1)) {
		t.Error("the same seed gave different splits")
	}
	if reflect.DeepEqual(split(1)[0].Test, split(2)[0].Test) {
		t.Error("seeds 1 and 2 gave the same test set")
	}
}

func TestClassDisjointErrors(t *testing.T) {
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"num_training_sets": 5}, "more than num_training_partitions"},
		{map[string]any{"test_size": 1.0}, "test_size"},
		{map[string]any{"test_size": 0}, "test_size"},
		{map[string]any{"num_training_partitions": 1}, "num_training_partitions"},
		{map[string]any{"special_split_scheme_name": "new"}, "old_approach"},
		{map[string]any{"test_ratio": 0.5}, "unknown parameter"},
	} {
		if err := buildErr(SplitManagers, "ClassDisjointSplitManager", tc.params); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.params, err, tc.want)
		}
	}
	// 5 classes: 3 go to test, 2 are left for 4 partitions.
	_, err := build(t, SplitManagers, "ClassDisjointSplitManager", nil).Splits(labelled{0, 1, 2, 3, 4})
	if err == nil || !strings.Contains(err.Error(), "fewer than num_training_partitions") {
		t.Errorf("too few classes: got %v", err)
	}
}
