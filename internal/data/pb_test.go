package data

import (
	"image"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
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
	splits, err := build(t, SplitManagers, "ClassDisjointSplitManager", map[string]any{"shuffle": true, "num_training_partitions": 2, "num_training_sets": 2}).Splits(labelled(labels))
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

// TestPBTransforms: RandomVerticalFlip, RandomGrayscale and RandomCrop as
// torchvision's.
func TestPBTransforms(t *testing.T) {
	img := grayImage(3, 2, func(x, y int) uint8 { return uint8(10*y + x) })
	if got := grayPix(imageOp(t, "RandomVerticalFlip", map[string]any{"p": 1}).apply(img, rand.New(rand.NewPCG(1, 2)))); !reflect.DeepEqual(got, [][]uint8{{10, 11, 12}, {0, 1, 2}}) {
		t.Errorf("vertical flip: %v", got)
	}
	if got := imageOp(t, "RandomGrayscale", map[string]any{"p": 0}).apply(img, rand.New(rand.NewPCG(1, 2))); got != image.Image(img) {
		t.Error("RandomGrayscale p=0 changed the image")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	crop := imageOp(t, "RandomCrop", map[string]any{"size": 2})
	seen := map[uint8]bool{}
	for range 200 {
		got := grayPix(crop.apply(img, rng))
		// a 2x2 window of the 3x2 image: the left column is x = 0 or 1
		if len(got) != 2 || len(got[0]) != 2 || got[0][0] > 1 || got[1][0] != got[0][0]+10 {
			t.Fatalf("crop %v", got)
		}
		seen[got[0][0]] = true
	}
	if len(seen) != 2 {
		t.Errorf("windows seen at x = %v, want both 0 and 1", seen)
	}
	p, err := NewPipeline(components("RandomCrop", map[string]any{"size": 5}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.OutputShape(Shape{1, 2, 3}); err == nil || !strings.Contains(err.Error(), "pad_if_needed") {
		t.Errorf("a crop larger than the image: %v", err)
	}
}

// TestRandomSampler: `sampler: {}` draws each pass as a permutation of the
// training set, batch_size at a time, dropping the last partial batch.
func TestRandomSampler(t *testing.T) {
	indices := []int{10, 11, 12, 13, 14, 15, 16}
	s, err := NewRandom(nil, indices, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 2 {
		t.Fatalf("Len %d, want 7 / 3 = 2", s.Len())
	}
	pass := append(s.Batch(0), s.Batch(1)...)
	seen := map[int]bool{}
	for _, i := range pass {
		if seen[i] || i < 10 || i > 16 {
			t.Fatalf("one pass %v repeats or leaves the training set", pass)
		}
		seen[i] = true
	}
	if !reflect.DeepEqual(s.Batch(1), s.Batch(1)) || reflect.DeepEqual(pass, append(s.Batch(2), s.Batch(3)...)) {
		t.Error("batches are not a pure function of the step, or every pass is the same")
	}
}
