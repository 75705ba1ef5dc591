package data

import (
	"archive/zip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOmniglotCounts(t *testing.T) {
	dir := repoDataset(t, "omniglot")
	// The dataset root holds omniglot/: the default root param finds it.
	ds, err := build(t, Datasets, "Omniglot", nil)(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	checkOmniglot(t, ds)
}

// checkOmniglot checks the two small background sets: 242 classes of 20
// drawings each, Greek and Latin appearing in both zips.
func checkOmniglot(t *testing.T, ds Dataset) {
	t.Helper()
	if got := len(ds.Classes()); got != 242 {
		t.Errorf("%d classes, want 242", got)
	}
	if got := ds.Len(); got != 4840 {
		t.Errorf("%d images, want 4840", got)
	}
	if got := ds.Shape(); got != (Shape{1, 105, 105}) {
		t.Errorf("shape %v, want 1x105x105", got)
	}
	perClass := map[int]int{}
	for i := range ds.Len() {
		perClass[ds.Label(i)]++
	}
	for l, n := range perClass {
		if n != 20 {
			t.Errorf("class %s has %d images, want 20", ds.Classes()[l], n)
		}
	}
	if got := ds.Classes()[0]; got != "Balinese/character01" {
		t.Errorf("first class %q, want Balinese/character01", got)
	}
}

// An extracted folder beside the zips it came from adds nothing. (Greek is in
// both zips, and extracted here too.)
func TestOmniglotFolderAndZips(t *testing.T) {
	src := repoDataset(t, "omniglot")
	dir := t.TempDir()
	for _, name := range []string{"images_background_small1.zip", "images_background_small2.zip"} {
		copyFile(t, filepath.Join(src, name), filepath.Join(dir, name))
	}
	zr, err := zip.OpenReader(filepath.Join(src, "images_background_small1.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !strings.HasPrefix(f.Name, "images_background_small1/Greek/") {
			continue
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := build(t, Datasets, "Omniglot", map[string]any{"root": dir})("elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	checkOmniglot(t, ds)
	// The extracted copy is the one read.
	extracted := filepath.Join(dir, "images_background_small1", "Greek")
	for i := range ds.Len() {
		if strings.HasPrefix(ds.Classes()[ds.Label(i)], "Greek/") && !strings.HasPrefix(ds.Source(i), extracted) {
			t.Fatalf("%s: want the copy in %s", ds.Source(i), extracted)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOmniglotErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere")
	_, err := build(t, Datasets, "Omniglot", map[string]any{"root": missing})("")
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing folder: got %v, want an error naming %s", err, missing)
	}

	empty := t.TempDir()
	_, err = openOmniglot(empty)
	if err == nil || !strings.Contains(err.Error(), empty) {
		t.Errorf("empty folder: got %v, want an error naming %s", err, empty)
	}

	bad := t.TempDir()
	badZip := filepath.Join(bad, "images_background.zip")
	if err := os.WriteFile(badZip, []byte("not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = openOmniglot(bad)
	if err == nil || !strings.Contains(err.Error(), badZip) {
		t.Errorf("corrupt zip: got %v, want an error naming %s", err, badZip)
	}
}
