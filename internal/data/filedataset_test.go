package data

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeJPEG writes a w x h JPEG of one colour, grayscale for a color.Gray.
func writeJPEG(t *testing.T, path string, w, h int, c color.Color) {
	t.Helper()
	var img draw.Image = image.NewRGBA(image.Rect(0, 0, w, h))
	if _, ok := c.(color.Gray); ok {
		img = image.NewGray(img.Bounds())
	}
	draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.Bytes())
}

// writeFile writes data to path, making its folder.
func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkImages decodes every item of a file dataset, checking that it is
// read from its source with the size given there by the fixture.
func checkImages(t *testing.T, ds Dataset, size map[string]image.Point) {
	t.Helper()
	if ds.Shape() != (Shape{C: 3}) {
		t.Errorf("shape %v, want 3 channels of varying size", ds.Shape())
	}
	for i := range ds.Len() {
		img, err := ds.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := img.Bounds().Size(), size[ds.Source(i)]; got != want {
			t.Errorf("%s: size %v, want %v", ds.Source(i), got, want)
		}
	}
}

func TestFileDatasetGrayPhoto(t *testing.T) {
	dir := t.TempDir()
	items := []item{{class: "a"}, {class: "a"}, {class: "b"}, {class: "b"}}
	for i := range items {
		items[i].source = filepath.Join(dir, string(rune('0'+i))+".jpg")
		c := color.Color(color.RGBA{200, 100, 50, 255})
		if i == 0 {
			c = color.Gray{90}
		}
		writeJPEG(t, items[i].source, 8, 6, c)
	}
	ds, err := newFileDataset("test", items)
	if err != nil {
		t.Fatal(err)
	}
	// A grayscale photo among colour ones gives three equal channels.
	p, err := NewPipeline(components("CenterCrop", map[string]any{"size": 4}))
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLoader(ds, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Load([]int{0, 2}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b.Shape != (Shape{3, 4, 4}) {
		t.Fatalf("batch shape %v, want 3x4x4", b.Shape)
	}
	for ch := range 3 {
		if v := b.X[ch*16]; v < 0.34 || v > 0.36 { // 90/255
			t.Errorf("gray photo, channel %d: %v, want 90/255", ch, v)
		}
	}
	if r, g := b.X[48], b.X[48+16]; r < 0.7 || g > 0.5 {
		t.Errorf("colour photo: red %v, green %v, want about 200/255 and 100/255", r, g)
	}

	// A file that goes missing is found at open.
	if err := os.Remove(items[3].source); err != nil {
		t.Fatal(err)
	}
	if _, err := newFileDataset("test", items); err == nil || !strings.Contains(err.Error(), items[3].source) {
		t.Errorf("missing file: got %v, want an error naming %s", err, items[3].source)
	}
}
