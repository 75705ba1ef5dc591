package data

import (
	"math"
	"testing"
)

// TestNormalizeByDefault: a 3-channel pipeline without Normalize ends with
// ImageNet's, as powerful_benchmarker's; a written Normalize wins, and
// grayscale images are left alone.
func TestNormalizeByDefault(t *testing.T) {
	img := grayImage(1, 1, func(int, int) uint8 { return 255 })
	run := func(comps []any, in Shape) []float32 {
		t.Helper()
		p, err := NewPipeline(components(comps...))
		if err != nil {
			t.Fatal(err)
		}
		p.NormalizeByDefault(in, ImageNetMean, ImageNetStd)
		out, err := p.OutputShape(in)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, out.C*out.H*out.W)
		if err := p.apply(img, nil, out, x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	near := func(got []float32, want ...float64) {
		t.Helper()
		for i, w := range want {
			if math.Abs(float64(got[i])-w) > 1e-6 {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
	}
	near(run(nil, Shape{3, 1, 1}), (1-0.485)/0.229, (1-0.456)/0.224, (1-0.406)/0.225)
	near(run([]any{"Normalize", map[string]any{"mean": []any{0.5}, "std": []any{0.5}}}, Shape{3, 1, 1}), 1, 1, 1)
	near(run(nil, Shape{1, 1, 1}), 1)
}

// TestShuffledSplitNames: shuffled split schemes are named as
// powerful_benchmarker names them.
func TestShuffledSplitNames(t *testing.T) {
	labels := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	splits, err := build(t, SplitManagers, "ClassDisjointSplitManager", map[string]any{"shuffle": true, "num_training_partitions": 2, "num_training_sets": 2}).Splits(labels)
	if err != nil {
		t.Fatal(err)
	}
	if splits[1].Name != "ShuffledTest50_50_ShuffledPartitions2_1" {
		t.Errorf("got %s", splits[1].Name)
	}
	if len(splits[0].Test) != 5 {
		t.Errorf("test set %v, want 5 classes", splits[0].Test)
	}
}
