package data

import (
	"slices"
	"strings"
	"testing"
)

// TestVersionedFeatureLoader: each visit of an item takes one of its
// versions, drawn from (seed, step, position) alone: the same for the same
// step, different across steps and seeds, every version used.
func TestVersionedFeatureLoader(t *testing.T) {
	const items, versions, dim = 5, 3, 2
	x := make([]float32, items*versions*dim)
	for i := range x {
		x[i] = float32(i / dim) // row number: item*versions + version
	}
	labels := []int{0, 0, 1, 1, 2}
	load := func(seed uint64, step int) []float32 {
		t.Helper()
		l, err := NewVersionedFeatureLoader(x, dim, versions, labels, seed)
		if err != nil {
			t.Fatal(err)
		}
		b, err := l.Load([]int{4, 0, 2, 2}, step)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(b.Labels, []int{2, 0, 1, 1}) || b.Shape != (Shape{C: dim, H: 1, W: 1}) {
			t.Fatalf("labels %v, shape %v", b.Labels, b.Shape)
		}
		rows := make([]float32, 4)
		for j := range rows {
			if b.X[j*dim] != b.X[j*dim+1] {
				t.Fatalf("position %d mixes rows: %v", j, b.X)
			}
			rows[j] = b.X[j*dim]
		}
		return rows
	}
	used := map[float32]bool{}
	for step := range 20 {
		rows := load(7, step)
		for j, item := range []int{4, 0, 2, 2} {
			if r := int(rows[j]); r/versions != item {
				t.Fatalf("step %d position %d: row %d is not a version of item %d", step, j, r, item)
			}
			used[rows[j]] = true
		}
		if !slices.Equal(rows, load(7, step)) {
			t.Fatalf("step %d: versions differ between two loads", step)
		}
	}
	for _, item := range []int{0, 2, 4} {
		for v := range versions {
			if !used[float32(item*versions+v)] {
				t.Errorf("item %d version %d never drawn in 20 steps", item, v)
			}
		}
	}
	if slices.Equal(load(7, 0), load(8, 0)) && slices.Equal(load(7, 1), load(8, 1)) {
		t.Error("the seed does not change the versions drawn")
	}
	if _, err := NewVersionedFeatureLoader(x[:len(x)-1], dim, versions, labels, 0); err == nil || !strings.Contains(err.Error(), "3 versions") {
		t.Errorf("short data: %v", err)
	}
}
