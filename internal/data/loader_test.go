package data

import (
	"errors"
	"image"
	"io"
	"reflect"
	"strings"
	"testing"
)

func glyphLoader(t testing.TB, cs []any) (*Loader, Dataset) {
	t.Helper()
	ds, err := Glyphs{ImagesPerClass: 10, ImageSize: 32, Seed: 1, Charset: printableASCII}.Open()
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPipeline(components(cs...))
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLoader(ds, p, 42)
	if err != nil {
		t.Fatal(err)
	}
	return l, ds
}

var trainTransforms = []any{
	"RandomResizedCrop", map[string]any{"size": 28, "scale": []any{0.5, 1}},
	"RandomRotation", map[string]any{"degrees": 10},
	"Normalize", map[string]any{"mean": []any{0.5}, "std": []any{0.5}},
}

func TestLoaderDeterministic(t *testing.T) {
	l, ds := glyphLoader(t, trainTransforms)
	if l.Shape() != (Shape{1, 28, 28}) {
		t.Fatalf("shape %v, want 1x28x28", l.Shape())
	}
	idx := []int{5, 900, 13, 5, 77, 400, 12, 600}
	a, err := l.Load(idx, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Item j of step s is a function of (seed, s, j) only: computing each one
	// alone gives the batch.
	size := 28 * 28
	for j, i := range idx {
		img, _ := ds.Image(i)
		x := make([]float32, size)
		if err := l.pipe.apply(img, newRNG(42, streamTransform, 3, uint64(j)), l.shape, x); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(x, a.X[j*size:(j+1)*size]) {
			t.Fatalf("item %d differs from the same item transformed alone", j)
		}
		if a.Labels[j] != ds.Label(i) {
			t.Errorf("label %d, want %d", a.Labels[j], ds.Label(i))
		}
	}
	// The same image twice in a batch is transformed differently.
	if reflect.DeepEqual(a.X[:size], a.X[3*size:4*size]) {
		t.Error("items 0 and 3 (both image 5) got the same random transform")
	}
	b, _ := l.Load(idx, 4)
	if reflect.DeepEqual(a.X, b.X) {
		t.Error("steps 3 and 4 gave the same batch")
	}
}

func TestLoaderWorkersDoNotChangeBatches(t *testing.T) {
	l, _ := glyphLoader(t, trainTransforms)
	idx := []int{5, 900, 13, 5, 77, 400, 12, 600}
	many, err := l.Load(idx, 7)
	if err != nil {
		t.Fatal(err)
	}
	one, err := l.WithWorkers(1).Load(idx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(one, many) {
		t.Error("one worker made another batch than one per CPU")
	}
}

func TestPrefetch(t *testing.T) {
	l, _ := glyphLoader(t, trainTransforms)
	batches := [][]int{{1, 2, 3}, {4, 5}, {6, 7, 8, 9}}
	p := l.Prefetch(10, func(step int) []int {
		if step-10 < len(batches) {
			return batches[step-10]
		}
		return nil
	})
	defer p.Close()
	for s, idx := range batches {
		got, err := p.Next()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := l.Load(idx, 10+s)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("prefetched batch %d differs from Load", s)
		}
	}
	if _, err := p.Next(); err != io.EOF {
		t.Errorf("after the last batch: %v, want io.EOF", err)
	}

	// Closing an endless stream returns.
	endless := l.Prefetch(0, func(int) []int { return []int{0, 1} })
	if _, err := endless.Next(); err != nil {
		t.Fatal(err)
	}
	endless.Close()
	endless.Close()
}

// broken is a dataset whose odd items fail to load.
type broken struct{ labelled }

func (broken) Image(i int) (image.Image, error) {
	if i%2 == 1 {
		return nil, errors.New("one.png: unreadable")
	}
	return image.NewGray(image.Rect(0, 0, 4, 4)), nil
}
func (broken) Source(i int) string { return []string{"zero.png", "one.png"}[i] }
func (broken) Shape() Shape        { return Shape{1, 4, 4} }

func TestLoaderErrors(t *testing.T) {
	p, _ := NewPipeline(nil)
	l, err := NewLoader(broken{labelled{0, 1}}, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Load([]int{0, 1}, 0); err == nil || !strings.Contains(err.Error(), "one.png: unreadable") {
		t.Errorf("got %v, want an error naming one.png", err)
	}
	pf := l.Prefetch(0, func(int) []int { return []int{0, 1} })
	defer pf.Close()
	if _, err := pf.Next(); err == nil {
		t.Error("prefetch: want the error")
	}
	if _, err := pf.Next(); err != io.EOF {
		t.Errorf("prefetch after an error: %v, want io.EOF", err)
	}

	// An image whose size differs from the dataset's declared shape.
	ds := labelled{0, 0}
	odd := sized{ds, Shape{1, 8, 8}}
	l, _ = NewLoader(odd, p, 0)
	if _, err := l.Load([]int{0}, 0); err == nil || !strings.Contains(err.Error(), "want 8x8") {
		t.Errorf("got %v, want a size error", err)
	}
}

// sized declares a shape its 4x4 images do not have.
type sized struct {
	labelled
	shape Shape
}

func (s sized) Image(int) (image.Image, error) { return image.NewGray(image.Rect(0, 0, 4, 4)), nil }
func (s sized) Shape() Shape                   { return s.shape }

// Loader throughput, images per second, with training transforms.
func BenchmarkLoaderGlyphs(b *testing.B) {
	l, ds := glyphLoader(b, trainTransforms)
	benchLoader(b, l, ds)
}

func BenchmarkLoaderOmniglotResize(b *testing.B) {
	benchOmniglot(b, "Resize", map[string]any{"size": 28}, "Normalize", map[string]any{"mean": []any{0.5}, "std": []any{0.5}})
}

func BenchmarkLoaderOmniglotRandomResizedCrop(b *testing.B) {
	benchOmniglot(b, "RandomResizedCrop", map[string]any{"size": 32, "scale": []any{0.6, 1}},
		"RandomRotation", map[string]any{"degrees": 10}, "Normalize", map[string]any{"mean": []any{0.5}, "std": []any{0.5}})
}

func benchOmniglot(b *testing.B, cs ...any) {
	ds, err := openOmniglot(repoDataset(b, "omniglot"))
	if err != nil {
		b.Fatal(err)
	}
	p, err := NewPipeline(components(cs...))
	if err != nil {
		b.Fatal(err)
	}
	l, err := NewLoader(ds, p, 0)
	if err != nil {
		b.Fatal(err)
	}
	benchLoader(b, l, ds)
}

func benchLoader(b *testing.B, l *Loader, ds Dataset) {
	const batch = 128
	idx := make([]int, batch)
	b.ResetTimer()
	for step := range b.N {
		for j := range idx {
			idx[j] = (step*batch + j*7919) % ds.Len()
		}
		if _, err := l.Load(idx, step); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
}
