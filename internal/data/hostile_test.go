package data

import (
	"encoding/binary"
	"hash/crc32"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// hugePNG is a valid 1x1 PNG whose header claims w x h pixels.
func hugePNG(t *testing.T, path string, w, h uint32) {
	writePNG(t, path, 1, 1, color.Gray{7})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Signature (8), IHDR length (4), "IHDR" (4), width, height, ..., CRC.
	binary.BigEndian.PutUint32(data[16:], w)
	binary.BigEndian.PutUint32(data[20:], h)
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// An image is refused by its header, before its pixels are allocated.
func TestImageClaimingHugeSize(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "set")
	writePNG(t, filepath.Join(dir, "a", "1.png"), 4, 4, color.Gray{1})
	hugePNG(t, filepath.Join(dir, "b", "1.png"), 100000, 100000)
	_, err := build(t, Datasets, "ImageFolder", map[string]any{"root": "set"})(root)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "b", "1.png")) || !strings.Contains(err.Error(), "100000x100000") {
		t.Fatalf("got %v; want the file and its claimed size", err)
	}
}

// A FIFO named like an image is refused without blocking.
func TestImageFolderFIFO(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "set")
	writePNG(t, filepath.Join(dir, "a", "1.png"), 4, 4, color.Gray{1})
	if err := os.MkdirAll(filepath.Join(dir, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "b", "x.png"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := build(t, Datasets, "ImageFolder", map[string]any{"root": "set"})(root)
	if err == nil || !strings.Contains(err.Error(), "x.png: not a regular file") {
		t.Fatalf("got %v; want the FIFO refused", err)
	}
}

// Symlinked class folders are followed, as torchvision does; a loop is an
// error.
func TestImageFolderSymlinks(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "set")
	elsewhere := filepath.Join(root, "elsewhere")
	for _, name := range []string{"1.png", "2.png"} {
		writePNG(t, filepath.Join(dir, "a", name), 4, 4, color.Gray{1})
		writePNG(t, filepath.Join(elsewhere, name), 4, 4, color.Gray{2})
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	ds, err := build(t, Datasets, "ImageFolder", map[string]any{"root": "set"})(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ds.Classes(), ","); got != "a,b" || ds.Len() != 4 {
		t.Errorf("classes %s and %d images; want a,b and 4", got, ds.Len())
	}
	if err := os.Symlink("..", filepath.Join(elsewhere, "loop")); err != nil {
		t.Fatal(err)
	}
	_, err = build(t, Datasets, "ImageFolder", map[string]any{"root": "set"})(root)
	if err == nil || !strings.Contains(err.Error(), "symlink loop") {
		t.Fatalf("got %v; want the loop refused", err)
	}
}
