package data

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writePNG writes a w x h image of one colour, grayscale for a color.Gray.
func writePNG(t *testing.T, path string, w, h int, c color.Color) {
	t.Helper()
	var img draw.Image = image.NewNRGBA(image.Rect(0, 0, w, h))
	if _, ok := c.(color.Gray); ok {
		img = image.NewGray(img.Bounds())
	}
	draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestImageFolder(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "set")
	red := color.NRGBA{200, 10, 10, 255}
	writePNG(t, filepath.Join(dir, "cat", "1.png"), 6, 4, red)
	writePNG(t, filepath.Join(dir, "cat", "more", "2.png"), 4, 6, red)
	writePNG(t, filepath.Join(dir, "ant", "a.png"), 5, 5, red)
	writePNG(t, filepath.Join(dir, "ant", "b.png"), 5, 5, red)
	if err := os.WriteFile(filepath.Join(dir, "ant", "notes.txt"), []byte("ignored"), 0o644); err != nil {
		t.Fatal(err)
	}
	// root is relative to the dataset root.
	ds, err := build(t, Datasets, "ImageFolder", map[string]any{"root": "set"})(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ds.Classes(), ","); got != "ant,cat" {
		t.Errorf("classes %s, want ant,cat", got)
	}
	if got := Labels(ds); len(got) != 4 || got[0] != 0 || got[1] != 0 || got[2] != 1 || got[3] != 1 {
		t.Errorf("labels %v, want [0 0 1 1]", got)
	}
	if got := ds.Shape(); got != (Shape{3, 0, 0}) {
		t.Errorf("shape %v, want 3 channels and no common size", got)
	}
	if err := buildErr(Datasets, "ImageFolder", nil); err == nil || !strings.Contains(err.Error(), "root") {
		t.Errorf("no root: got %v, want an error about root", err)
	}
}

func TestImageFolderBadData(t *testing.T) {
	gray := color.Gray{128}

	missing := filepath.Join(t.TempDir(), "absent")
	if _, err := openImageFolder(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing folder: got %v, want an error naming %s", err, missing)
	}

	corrupt := t.TempDir()
	writePNG(t, filepath.Join(corrupt, "a", "1.png"), 4, 4, gray)
	writePNG(t, filepath.Join(corrupt, "a", "2.png"), 4, 4, gray)
	bad := filepath.Join(corrupt, "a", "3.png")
	if err := os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\ntruncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openImageFolder(corrupt); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("corrupt image: got %v, want an error naming %s", err, bad)
	}

	// A class with one image is skipped, and the skip is logged with a count.
	lone := t.TempDir()
	for _, f := range []string{"a/1.png", "a/2.png", "b/1.png", "b/2.png", "c/1.png", "d/1.png"} {
		writePNG(t, filepath.Join(lone, filepath.FromSlash(f)), 4, 4, gray)
	}
	var log bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&log, nil)))
	ds, err := openImageFolder(lone)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ds.Classes(), ","); got != "a,b" || ds.Len() != 4 {
		t.Errorf("classes %s with %d images, want a,b with 4", got, ds.Len())
	}
	if got := ds.Shape(); got != (Shape{1, 4, 4}) {
		t.Errorf("shape %v, want 1x4x4 (gray PNGs)", got)
	}
	if !strings.Contains(log.String(), "count=2") {
		t.Errorf("log %q does not report 2 skipped classes", log.String())
	}

	// Fewer than two usable classes is an error, not an empty dataset.
	one := t.TempDir()
	writePNG(t, filepath.Join(one, "a", "1.png"), 4, 4, gray)
	writePNG(t, filepath.Join(one, "a", "2.png"), 4, 4, gray)
	if _, err := openImageFolder(one); err == nil {
		t.Error("one class: want an error")
	}
}
