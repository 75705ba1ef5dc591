package data

import (
	"image"
	"image/color"
	"math/rand/v2"
	"testing"
)

// TestCaffeInput: ConvertToBGR, Multiplier 255 and Normalize with the Caffe
// mean give BN-Inception's input, as powerful_benchmarker builds it.
func TestCaffeInput(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 2, 1))
	img.Set(0, 0, color.RGBA{255, 0, 10, 255})
	img.Set(1, 0, color.RGBA{0, 51, 200, 255})
	p, err := NewPipeline(components("ToTensor", nil, "ConvertToBGR", nil, "Multiplier", map[string]any{"multiple": 255},
		"Normalize", map[string]any{"mean": []any{104, 117, 128}, "std": []any{1, 1, 1}}))
	if err != nil {
		t.Fatal(err)
	}
	s := Shape{3, 1, 2}
	got := make([]float32, 6)
	if err := p.apply(img, rand.New(rand.NewPCG(1, 2)), s, got); err != nil {
		t.Fatal(err)
	}
	want := []float32{10 - 104, 200 - 104, 0 - 117, 51 - 117, 255 - 128, 0 - 128} // B, G, R planes
	for i := range want {
		if d := got[i] - want[i]; d > 1e-3 || d < -1e-3 {
			t.Fatalf("got %v; want %v", got, want)
		}
	}
	gray, err := NewPipeline(components("Grayscale", nil, "ConvertToBGR", nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gray.OutputShape(Shape{3, 4, 4}); err == nil {
		t.Error("ConvertToBGR of one channel: no error")
	}
}
