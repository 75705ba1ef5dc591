package data

import (
	"reflect"
	"testing"
)

// TestViews: a batch holds each item once per view, item-major, labelled
// by its position in the batch; view k is the loader's batch of step
// s*views+k, so two views of the same transforms differ.
func TestViews(t *testing.T) {
	l, _ := glyphLoader(t, trainTransforms)
	v, err := NewViews([]*Loader{l, l})
	if err != nil {
		t.Fatal(err)
	}
	idx := []int{5, 900, 13}
	b, err := v.Load(idx, 4)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 0, 1, 1, 2, 2}; !reflect.DeepEqual(b.Labels, want) {
		t.Errorf("labels %v, want %v", b.Labels, want)
	}
	size := 28 * 28
	for k, step := range []int{8, 9} {
		alone, err := l.Load(idx, step)
		if err != nil {
			t.Fatal(err)
		}
		for i := range idx {
			if !reflect.DeepEqual(b.X[(2*i+k)*size:(2*i+k+1)*size], alone.X[i*size:(i+1)*size]) {
				t.Errorf("view %d of item %d is not the loader's item of step %d", k, i, step)
			}
		}
	}
	if reflect.DeepEqual(b.X[:size], b.X[size:2*size]) {
		t.Error("the two views of item 0 are identical")
	}
	small, _ := glyphLoader(t, []any{"Resize", map[string]any{"size": 16}})
	if _, err := NewViews([]*Loader{l, small}); err == nil {
		t.Error("views of two sizes: no error")
	}
}
