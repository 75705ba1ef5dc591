package data

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestFixedSetOfTriplets(t *testing.T) {
	var ds labelled
	for c := range 5 {
		for range 1 + c%3 { // class 0 and 3 have one item: anchor = positive
			ds = append(ds, c)
		}
	}
	all := make([]int, ds.Len())
	for i := range all {
		all[i] = i
	}
	s, err := build(t, Samplers, "FixedSetOfTriplets", map[string]any{"num_triplets": 10})(ds, all, 6, 3)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 5 {
		t.Fatalf("Len %d, want 30 items / 6 = 5", s.Len())
	}
	pass := func(p int) []int {
		var flat []int
		for k := range s.Len() {
			flat = append(flat, s.Batch(p*s.Len()+k)...)
		}
		return flat
	}
	first, second := pass(0), pass(1)
	for k := 0; k < len(first); k += 3 {
		a, p, n := first[k], first[k+1], first[k+2]
		if ds[a] != ds[p] || ds[a] == ds[n] {
			t.Errorf("triplet %v of labels %d %d %d", first[k:k+3], ds[a], ds[p], ds[n])
		}
		if a == p && (ds[a] != 0 && ds[a] != 3) {
			t.Errorf("triplet %v repeats its anchor though class %d has two items", first[k:k+3], ds[a])
		}
	}
	if slices.Equal(first, second) {
		t.Error("two passes in the same order: each pass shuffles the triplets")
	}
	if !reflect.DeepEqual(slices.Sorted(slices.Values(first)), slices.Sorted(slices.Values(second))) {
		t.Error("the second pass has other triplets: the set is fixed")
	}
	if err := buildErr(Samplers, "FixedSetOfTriplets", nil); err == nil || !strings.Contains(err.Error(), "num_triplets: is required") {
		t.Errorf("no num_triplets: %v", err)
	}
}

func TestHierarchicalSampler(t *testing.T) {
	// 4 super-classes of 3 classes of 3 items.
	var ds twoLevels
	for c := range 12 {
		for range 3 {
			ds.labelled = append(ds.labelled, c)
			ds.super = append(ds.super, c/3)
		}
	}
	all := make([]int, ds.Len())
	for i := range all {
		all[i] = i
	}
	f := build(t, Samplers, "HierarchicalSampler", map[string]any{"samples_per_class": 2})
	s, err := f(ds, all, 8, 1)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 24 { // C(4, 2) pairs x 4 batches
		t.Fatalf("Len %d, want 24", s.Len())
	}
	pairs := map[[2]int]int{}
	for step := range s.Len() {
		b := s.Batch(step)
		perSuper, perClass := map[int]int{}, map[int]int{}
		for _, i := range b {
			perSuper[ds.super[i]]++
			perClass[ds.labelled[i]]++
		}
		supers := slices.Sorted(maps.Keys(perSuper))
		if len(b) != 8 || len(supers) != 2 || perSuper[supers[0]] != 4 {
			t.Fatalf("step %d: batch %v: %d items, super-classes %v", step, b, len(b), perSuper)
		}
		for c, n := range perClass {
			if n != 2 {
				t.Errorf("step %d: class %d has %d items, want 2", step, c, n)
			}
		}
		pairs[[2]int{supers[0], supers[1]}]++
	}
	for p, n := range pairs {
		if n != 4 {
			t.Errorf("super-classes %v in %d batches of a pass, want 4", p, n)
		}
	}
	if len(pairs) != 6 {
		t.Errorf("%d pairs of super-classes, want 6", len(pairs))
	}
	if _, err := f(labelled(ds.labelled), all, 8, 1); err == nil || !strings.Contains(err.Error(), "1 level(s)") {
		t.Errorf("one level of labels: %v", err)
	}
	if _, err := f(ds, all, 16, 1); err == nil || !strings.Contains(err.Error(), "has 3 classes") {
		t.Errorf("a super-class too small for its share: %v", err)
	}
}
