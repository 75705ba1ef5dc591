package data

import (
	"bytes"
	"image"
	"strings"
	"testing"
)

func TestGlyphsDefaults(t *testing.T) {
	ds, err := build(t, Datasets, "Glyphs", nil)("unused")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(ds.Classes()), len(printableASCII); got != want {
		t.Errorf("%d classes, want %d", got, want)
	}
	if ds.Len() != 40*len(printableASCII) {
		t.Errorf("%d images, want %d", ds.Len(), 40*len(printableASCII))
	}
	if got := ds.Shape(); got != (Shape{1, 32, 32}) {
		t.Errorf("shape %v, want 1x32x32", got)
	}
	// Labels follow the sorted class names, 40 consecutive images each.
	for i := range ds.Len() {
		if ds.Label(i) != i/40 {
			t.Fatalf("item %d has label %d, want %d", i, ds.Label(i), i/40)
		}
	}
	for c := 1; c < len(ds.Classes()); c++ {
		if ds.Classes()[c-1] >= ds.Classes()[c] {
			t.Fatalf("classes not sorted: %q before %q", ds.Classes()[c-1], ds.Classes()[c])
		}
	}
}

func pixels(t *testing.T, ds Dataset, i int) []byte {
	t.Helper()
	img, err := ds.Image(i)
	if err != nil {
		t.Fatal(err)
	}
	return img.(*image.Gray).Pix
}

func TestGlyphsDeterministic(t *testing.T) {
	open := func(seed uint64) Dataset {
		ds, err := Glyphs{ImagesPerClass: 5, ImageSize: 24, Seed: seed, Charset: "aAo0,'"}.Open()
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	a, b, c := open(7), open(7), open(8)
	for i := range a.Len() {
		if !bytes.Equal(pixels(t, a, i), pixels(t, b, i)) {
			t.Fatalf("seed 7 gave two different images for item %d", i)
		}
		if bytes.Equal(pixels(t, a, i), pixels(t, c, i)) {
			t.Errorf("seeds 7 and 8 gave the same image for item %d", i)
		}
	}
	// An image depends on its character, not on the charset around it.
	sub, err := Glyphs{ImagesPerClass: 5, ImageSize: 24, Seed: 7, Charset: "0a"}.Open()
	if err != nil {
		t.Fatal(err)
	}
	for k := range 5 { // "0" is class 0 of sub, class 2 of a (after "'" and ",")
		if !bytes.Equal(pixels(t, sub, k), pixels(t, a, 10+k)) {
			t.Errorf("image %d of '0' depends on the charset", k)
		}
	}
	// Every image of a class is distinct.
	for i := range a.Len() {
		for j := i + 1; j < a.Len() && a.Label(j) == a.Label(i); j++ {
			if bytes.Equal(pixels(t, a, i), pixels(t, a, j)) {
				t.Errorf("items %d and %d are identical", i, j)
			}
		}
	}
}

func TestGlyphsConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"charset": "aba"}, "appears twice"},
		{map[string]any{"charset": "a"}, "at least 2"},
		{map[string]any{"images_per_class": 1}, "images_per_class"},
		{map[string]any{"image_size": 4}, "image_size"},
		{map[string]any{"size": 32}, "unknown parameter"},
	} {
		err := buildErr(Datasets, "Glyphs", tc.params)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.params, err, tc.want)
		}
	}
	// A character the Go fonts lack is an open-time error naming it.
	_, err := Glyphs{ImagesPerClass: 2, ImageSize: 16, Charset: "a\u4e2d"}.Open()
	if err == nil || !strings.Contains(err.Error(), `'中'`) {
		t.Errorf("got %v, want an error naming '中'", err)
	}
}
