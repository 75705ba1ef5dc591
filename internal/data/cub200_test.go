package data

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestCUB200(t *testing.T) {
	root := t.TempDir()
	images := filepath.Join(root, "cub2011", "CUB_200_2011", "images")
	size := map[string]image.Point{}
	for i, f := range []string{
		"001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111.jpg",
		"001.Black_footed_Albatross/Black_Footed_Albatross_0002_55.jpg",
		"002.Laysan_Albatross/Laysan_Albatross_0001_545.jpg",
		"002.Laysan_Albatross/Laysan_Albatross_0002_1027.jpg",
		"002.Laysan_Albatross/Laysan_Albatross_0003_1033.jpg",
		"003.Sooty_Albatross/Sooty_Albatross_0001_1071.jpg", // alone: skipped
	} {
		path := filepath.Join(images, filepath.FromSlash(f))
		size[path] = image.Pt(5+i, 4)
		writeJPEG(t, path, 5+i, 4, color.RGBA{uint8(40 * i), 80, 120, 255})
	}
	writeFile(t, filepath.Join(images, "002.Laysan_Albatross", "notes.txt"), []byte("ignored"))

	// The default root is cub2011 under the dataset root.
	ds, err := build(t, Datasets, "CUB200", nil)(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"001.Black_footed_Albatross", "002.Laysan_Albatross"}; !reflect.DeepEqual(ds.Classes(), want) {
		t.Errorf("classes %q, want %q", ds.Classes(), want)
	}
	if got, want := Labels(ds), []int{0, 0, 1, 1, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
	checkImages(t, ds, size)
}

func TestCUB200BadData(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "cub")
	_, err := build(t, Datasets, "CUB200", map[string]any{"root": missing})("")
	if want := filepath.Join(missing, "CUB_200_2011", "images"); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("missing folder: got %v, want an error naming %s", err, want)
	}

	empty := t.TempDir()
	images := filepath.Join(empty, "CUB_200_2011", "images")
	if err := os.MkdirAll(images, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := openCUB200(empty); err == nil || !strings.Contains(err.Error(), images) {
		t.Errorf("no images: got %v, want an error naming %s", err, images)
	}

	// A corrupt image is found when it is read, not at open.
	for _, f := range []string{"a/1.jpg", "a/2.jpg", "b/1.jpg"} {
		writeJPEG(t, filepath.Join(images, filepath.FromSlash(f)), 4, 4, color.Gray{100})
	}
	bad := filepath.Join(images, "b", "2.jpg")
	writeFile(t, bad, []byte("\xff\xd8\xff truncated"))
	ds, err := openCUB200(empty)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ds.Image(3); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("corrupt image: got %v, want an error naming %s", err, bad)
	}
}
