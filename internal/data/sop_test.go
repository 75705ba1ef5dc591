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

// writeSOP writes dir/Ebay_train.txt and Ebay_test.txt with the given lines
// after the header, and an image for each path.
func writeSOP(t *testing.T, dir string, train, test []string) map[string]image.Point {
	t.Helper()
	size := map[string]image.Point{}
	for name, lines := range map[string][]string{"Ebay_train.txt": train, "Ebay_test.txt": test} {
		text := sopHeader + "\n"
		for _, l := range lines {
			text += l + "\n"
			if f := strings.Fields(l); len(f) == 4 {
				path := filepath.Join(dir, filepath.FromSlash(f[3]))
				h := 3 + len(size)
				size[path] = image.Pt(4, h)
				writeJPEG(t, path, 4, h, color.RGBA{90, 90, uint8(20 * h), 255})
			}
		}
		writeFile(t, filepath.Join(dir, name), []byte(text))
	}
	return size
}

func TestStanfordOnlineProducts(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "Stanford_Online_Products")
	size := writeSOP(t, dir,
		[]string{
			"1 1 1 bicycle_final/111085122871_0.JPG",
			"2 1 1 bicycle_final/111085122871_1.JPG",
			"3 2 1 bicycle_final/111265328556_0.JPG",
			"4 2 1 bicycle_final/111265328556_1.JPG",
		},
		[]string{
			"5 10 2 cabinet_final/1_0.JPG",
			"6 10 2 cabinet_final/1_1.JPG",
			"",
			"7 11 2 cabinet_final/2_0.JPG", // alone in its class: skipped
		})
	ds, err := build(t, Datasets, "StanfordOnlineProducts", nil)(root)
	if err != nil {
		t.Fatal(err)
	}
	// Zero-padded ids sort as numbers: 10 after 2.
	if want := []string{"01", "02", "10"}; !reflect.DeepEqual(ds.Classes(), want) {
		t.Errorf("classes %q, want %q", ds.Classes(), want)
	}
	if got, want := Labels(ds), []int{0, 0, 1, 1, 2, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
	if got, want := ds.Source(4), filepath.Join(dir, "cabinet_final", "1_0.JPG"); got != want {
		t.Errorf("source 4 %s, want %s", got, want)
	}
	checkImages(t, ds, size)
	// Level 1 is the super-class; the lists are the predefined partitions.
	if got, err := LabelsAt(ds, 1); err != nil || !reflect.DeepEqual(got, []int{0, 0, 0, 0, 1, 1}) {
		t.Errorf("super-class labels %v (%v), want [0 0 0 0 1 1]", got, err)
	}
	splits, err := build(t, SplitManagers, "PredefinedSplitManager", nil).Splits(ds)
	if err != nil {
		t.Fatal(err)
	}
	want := []Split{{Name: "PredefinedSplitScheme_0", Train: []int{0, 1, 2, 3}, Val: []int{4, 5}, Test: []int{4, 5}}}
	if !reflect.DeepEqual(splits, want) {
		t.Errorf("predefined splits %+v, want %+v", splits, want)
	}
}

func TestStanfordOnlineProductsBadData(t *testing.T) {
	good := []string{"1 1 1 a/1.JPG", "2 1 1 a/2.JPG"}
	for _, tc := range []struct {
		name        string
		train, test []string
		remove      string // an image to delete after writing
		want        string // besides the folder
	}{
		{"short line", []string{good[0], "2 1 a/2.JPG"}, good, "", "Ebay_train.txt:3: \"2 1 a/2.JPG\": want 4 fields"},
		{"bad class", good, []string{"3 x 1 b/1.JPG"}, "", "Ebay_test.txt:2: class_id \"x\""},
		{"missing image", good, []string{"3 2 1 b/1.JPG", "4 2 1 b/2.JPG"}, "b/2.JPG", filepath.Join("b", "2.JPG")},
		{"missing list", good, good, "Ebay_test.txt", "Ebay_test.txt"},
	} {
		dir := t.TempDir()
		writeSOP(t, dir, tc.train, tc.test)
		if tc.remove != "" {
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(tc.remove))); err != nil {
				t.Fatal(err)
			}
		}
		_, err := openSOP(dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: got %v, want an error naming %s and containing %q", tc.name, err, dir, tc.want)
		}
	}

	// A list without its header line.
	dir := t.TempDir()
	writeSOP(t, dir, good, good)
	writeFile(t, filepath.Join(dir, "Ebay_train.txt"), []byte(strings.Join(good, "\n")))
	if _, err := openSOP(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "Ebay_train.txt")+":1: header") {
		t.Errorf("no header: got %v, want an error naming Ebay_train.txt line 1", err)
	}
}
