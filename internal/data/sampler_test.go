package data

import (
	"image"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// labelled is a dataset of labels only, for split managers and samplers.
type labelled []int

func (d labelled) Len() int                       { return len(d) }
func (d labelled) Label(i int) int                { return d[i] }
func (d labelled) Image(int) (image.Image, error) { return nil, nil }
func (d labelled) Source(int) string              { return "" }
func (d labelled) Shape() Shape                   { return Shape{} }
func (d labelled) Classes() []string {
	names := make([]string, slices.Max(d)+1)
	for c := range names {
		names[c] = strconv.Itoa(c)
	}
	return names
}

func TestMPerClass(t *testing.T) {
	// 12 classes; class c has c+1 items, so some have fewer than m=4.
	var ds labelled
	for c := range 12 {
		for range c + 1 {
			ds = append(ds, c)
		}
	}
	// Draw from every other item, as from a split's train set.
	var train []int
	for i := range ds.Len() {
		if i%2 == 0 || ds[i] < 3 {
			train = append(train, i)
		}
	}
	inTrain := map[int]int{} // items per class
	for _, i := range train {
		inTrain[ds[i]]++
	}
	factory := build(t, Samplers, "MPerClassSampler", map[string]any{"m": 4, "length_before_new_iter": 1000})
	s, err := factory(ds, train, 32, 9)
	if err != nil {
		t.Fatal(err)
	}
	// As PML without a batch size: 1000 rounded down to whole rounds of
	// 4 items of the 12 classes is 960, 30 batches of 32.
	if s.Len() != 30 {
		t.Errorf("Len %d, want 30", s.Len())
	}
	// By default a pass is the training set, as powerful_benchmarker.
	def, err := build(t, Samplers, "MPerClassSampler", map[string]any{"m": 4})(ds, train, 8, 9)
	if err != nil {
		t.Fatal(err)
	}
	// 42 training items, fewer than a round of 48, are not rounded: 5 batches of 8.
	if len(train) != 42 || def.Len() != 5 {
		t.Errorf("default Len %d of %d training items, want 5 of 42", def.Len(), len(train))
	}
	sawReplacement := false
	for step := range 200 {
		batch := s.Batch(step)
		if len(batch) != 32 {
			t.Fatalf("step %d: batch of %d, want 32", step, len(batch))
		}
		perClass := map[int][]int{}
		for _, i := range batch {
			if !slices.Contains(train, i) {
				t.Fatalf("step %d: item %d is not in the training set", step, i)
			}
			perClass[ds[i]] = append(perClass[ds[i]], i)
		}
		if len(perClass) != 8 {
			t.Fatalf("step %d: %d classes, want 32/4 = 8", step, len(perClass))
		}
		for c, items := range perClass {
			if len(items) != 4 {
				t.Fatalf("step %d: class %d has %d items, want 4", step, c, len(items))
			}
			distinct := len(slices.Compact(slices.Sorted(slices.Values(items))))
			if inTrain[c] >= 4 && distinct != 4 {
				t.Fatalf("step %d: class %d (enough items) repeats one: %v", step, c, items)
			}
			sawReplacement = sawReplacement || distinct < 4
		}
	}
	if !sawReplacement {
		t.Error("classes with fewer than m items were never sampled with replacement")
	}

	again, _ := factory(ds, train, 32, 9)
	other, _ := factory(ds, train, 32, 10)
	for step := range 20 {
		if !reflect.DeepEqual(s.Batch(step), again.Batch(step)) {
			t.Fatalf("step %d: the same seed gave a different batch", step)
		}
		if reflect.DeepEqual(s.Batch(step), other.Batch(step)) {
			t.Errorf("step %d: seeds 9 and 10 gave the same batch", step)
		}
	}
	if reflect.DeepEqual(s.Batch(0), s.Batch(1)) {
		t.Error("steps 0 and 1 gave the same batch")
	}
}

func TestMPerClassErrors(t *testing.T) {
	ds := labelled{0, 0, 1, 1, 2, 2}
	all := []int{0, 1, 2, 3, 4, 5}
	for _, tc := range []struct {
		params    map[string]any
		batchSize int
		want      string
	}{
		{map[string]any{"m": 2}, 5, "multiple of m"},
		{map[string]any{"m": 2}, 8, "less than batch_size"},
		{map[string]any{"m": 2, "length_before_new_iter": 4}, 6, "length_before_new_iter 4"},
	} {
		_, err := build(t, Samplers, "MPerClassSampler", tc.params)(ds, all, tc.batchSize, 0)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "MPerClassSampler") {
			t.Errorf("%v, batch %d: got %v, want an error containing %q", tc.params, tc.batchSize, err, tc.want)
		}
	}
	if err := buildErr(Samplers, "MPerClassSampler", map[string]any{"m": 0}); err == nil {
		t.Error("m = 0: want an error")
	}
}
