package data

import (
	"image/color"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// twoFolders writes anchors/<class>/<i>.png and posnegs/<class>/<i>.png,
// the given number of images per class in each, and returns the root.
func twoFolders(t *testing.T, anchors, posnegs map[string]int) string {
	root := t.TempDir()
	for stream, counts := range map[string]map[string]int{"anchors": anchors, "posnegs": posnegs} {
		for class, n := range counts {
			for i := range n {
				gray := color.Gray{Y: uint8(40*i + 10)}
				if stream == "posnegs" {
					gray.Y += 5
				}
				writePNG(t, filepath.Join(root, stream, class, string(rune('a'+i))+".png"), 8, 8, gray)
			}
		}
	}
	return root
}

var twoStreamConfig = map[string]any{
	"anchors": map[string]any{"ImageFolder": map[string]any{"root": "anchors"}},
	"posnegs": map[string]any{"ImageFolder": map[string]any{"root": "posnegs"}},
}

// TestTwoStreamPairsItems: item i of the anchors is paired with item i of
// the posnegs, of the same class and file name.
func TestTwoStreamPairsItems(t *testing.T) {
	root := twoFolders(t, map[string]int{"cat": 2, "dog": 3}, map[string]int{"cat": 2, "dog": 3})
	ds, err := build(t, Datasets, "TwoStream", twoStreamConfig)(root)
	if err != nil {
		t.Fatal(err)
	}
	ts := ds.(*TwoStream)
	if ds.Len() != 5 || ts.PosNegs().Len() != 5 {
		t.Fatalf("lengths %d, %d, want 5", ds.Len(), ts.PosNegs().Len())
	}
	for i := range ds.Len() {
		a, pn := ds.Source(i), ts.PosNegs().Source(i)
		if strings.Replace(a, "anchors", "posnegs", 1) != pn || ds.Label(i) != ts.PosNegs().Label(i) {
			t.Errorf("item %d: anchor %s (class %d) paired with %s (class %d)", i, a, ds.Label(i), pn, ts.PosNegs().Label(i))
		}
	}
}

func TestTwoStreamErrors(t *testing.T) {
	for _, c := range []struct {
		posnegs map[string]int
		want    string
	}{
		{map[string]int{"cat": 2, "dog": 2}, "anchors has 5 items but posnegs 4"},
		{map[string]int{"cat": 2, "cow": 3}, "anchors has classes [cat dog] but posnegs [cat cow]"},
		{map[string]int{"cat": 3, "dog": 2}, filepath.Join("anchors", "dog", "a.png") + ` is of class "dog" but posneg`},
	} {
		root := twoFolders(t, map[string]int{"cat": 2, "dog": 3}, c.posnegs)
		_, err := build(t, Datasets, "TwoStream", twoStreamConfig)(root)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "test.TwoStream: ") {
			t.Errorf("posnegs %v: got %v, want %q", c.posnegs, err, c.want)
		}
	}
	if err := buildErr(Datasets, "TwoStream", map[string]any{"anchors": twoStreamConfig["anchors"]}); err == nil || !strings.Contains(err.Error(), "posnegs") {
		t.Errorf("no posnegs: %v", err)
	}
}

// TestTwoStreamsLoad: a batch is the anchors of the items, then their
// posnegs, labelled by the items' labels; the anchors are the loader's
// batch of step 2s, the posnegs the other loader's of step 2s+1.
func TestTwoStreamsLoad(t *testing.T) {
	anchors, ds := glyphLoader(t, trainTransforms)
	posnegs, _ := glyphLoader(t, trainTransforms)
	ts, err := NewTwoStreams(anchors, posnegs)
	if err != nil {
		t.Fatal(err)
	}
	idx := []int{5, 900, 13}
	b, err := ts.Load(idx, 3)
	if err != nil {
		t.Fatal(err)
	}
	labels := []int{ds.Label(5), ds.Label(900), ds.Label(13)}
	if want := append(labels, labels...); !reflect.DeepEqual(b.Labels, want) {
		t.Errorf("labels %v, want %v", b.Labels, want)
	}
	a, _ := anchors.Load(idx, 6)
	pn, _ := posnegs.Load(idx, 7)
	if half := len(b.X) / 2; !reflect.DeepEqual(b.X[:half], a.X) || !reflect.DeepEqual(b.X[half:], pn.X) {
		t.Error("the batch is not the anchors of step 6 then the posnegs of step 7")
	}
	small, _ := glyphLoader(t, []any{"Resize", map[string]any{"size": 16}})
	if _, err := NewTwoStreams(anchors, small); err == nil {
		t.Error("streams of different image sizes accepted")
	}
}
