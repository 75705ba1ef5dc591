package data

import (
	"reflect"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// Loading from the precomputed dataset with the rest of each list gives
// the batches of the whole list on the decoded images, bit for bit, and
// keeps the resized greys at a byte a pixel.
func TestPrecomputeKeepsBatches(t *testing.T) {
	ds, err := Glyphs{ImagesPerClass: 4, ImageSize: 40, Seed: 1, Charset: "abcdefgh"}.Open()
	if err != nil {
		t.Fatal(err)
	}
	train := components("Resize", map[string]any{"size": 28}, "RandomResizedCrop", map[string]any{"size": 24, "scale": []any{0.5, 1}},
		"RandomRotation", map[string]any{"degrees": 10}, "Normalize", map[string]any{"mean": []any{0.5}, "std": []any{0.5}})
	eval := components("Resize", map[string]any{"size": 28}, "CenterCrop", map[string]any{"size": 24})
	pre, fixed, err := Precompute(ds, eval, train)
	if err != nil {
		t.Fatal(err)
	}
	if fixed != 1 {
		t.Fatalf("%d fixed transforms applied, want 1 (Resize, the only common start)", fixed)
	}
	if pre.Shape() != (Shape{1, 28, 28}) {
		t.Errorf("shape %v, want 1x28x28", pre.Shape())
	}
	if _, ok := pre.(*memDataset).images[3].(greyNRGBA); !ok {
		t.Errorf("a resized grey image is kept as %T, want greyNRGBA", pre.(*memDataset).images[3])
	}
	idx := []int{0, 5, 31, 5, 17}
	for _, list := range [][]config.Component{train, eval} {
		load := func(ds Dataset, cs []config.Component) Batch {
			p, err := NewPipeline(cs)
			if err != nil {
				t.Fatal(err)
			}
			l, err := NewLoader(ds, p, 7)
			if err != nil {
				t.Fatal(err)
			}
			b, err := l.Load(idx, 3)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		if !reflect.DeepEqual(load(ds, list), load(pre, list[fixed:])) {
			t.Errorf("%s...: the precomputed dataset gives other batches", list[1].Type)
		}
	}
}

// Lists that start differently, or a random start, leave the dataset as it is.
func TestPrecomputeNeedsACommonFixedStart(t *testing.T) {
	ds, err := Glyphs{ImagesPerClass: 2, ImageSize: 32, Seed: 1, Charset: "ab"}.Open()
	if err != nil {
		t.Fatal(err)
	}
	for _, lists := range [][][]config.Component{
		{components("Resize", map[string]any{"size": 28}), components("Resize", map[string]any{"size": 24})},
		{components("RandomRotation", map[string]any{"degrees": 10}), components("RandomRotation", map[string]any{"degrees": 10})},
	} {
		got, fixed, err := Precompute(ds, lists...)
		if err != nil || fixed != 0 || got != ds {
			t.Errorf("%s, %s: fixed %d, same dataset %v, %v; want 0, true, nil", lists[0][0].Params, lists[1][0].Params, fixed, got == ds, err)
		}
	}
}
