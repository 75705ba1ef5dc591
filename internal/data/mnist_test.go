package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"image"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// idxBytes is an IDX file of unsigned bytes with the given dimensions.
func idxBytes(dims []int, data []byte) []byte {
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeIDXSet writes dir/<set>-images-idx3-ubyte and -labels-idx1-ubyte
// (gzipped if gz) for n images of 3 rows and 2 columns whose pixel (x, y)
// of image i is 10*i + 2*y + x, labelled i mod 10.
func writeIDXSet(t *testing.T, dir, set string, n int, gz bool) {
	t.Helper()
	pixels := make([]byte, n*6)
	labels := make([]byte, n)
	for i := range n {
		for j := range 6 {
			pixels[6*i+j] = byte(10*i + j)
		}
		labels[i] = byte(i % 10)
	}
	images, lbls := idxBytes([]int{n, 3, 2}, pixels), idxBytes([]int{n}, labels)
	suffix := ""
	if gz {
		images, lbls, suffix = gzipped(t, images), gzipped(t, lbls), ".gz"
	}
	writeFile(t, filepath.Join(dir, set+"-images-idx3-ubyte"+suffix), images)
	writeFile(t, filepath.Join(dir, set+"-labels-idx1-ubyte"+suffix), lbls)
}

func TestMNIST(t *testing.T) {
	for _, tc := range []struct {
		typ, dir string
		classes  []string
	}{
		{"MNIST", "mnist", mnistClasses},
		{"FashionMNIST", "fashion_mnist", fashionMNISTClasses},
	} {
		root := t.TempDir()
		dir := filepath.Join(root, tc.dir)
		writeIDXSet(t, dir, "train", 20, false)
		writeIDXSet(t, dir, "t10k", 10, true)
		ds, err := build(t, Datasets, tc.typ, nil)(root)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ds.Classes(), tc.classes) {
			t.Errorf("%s: classes %q, want %q", tc.typ, ds.Classes(), tc.classes)
		}
		if ds.Len() != 30 || ds.Shape() != (Shape{1, 3, 2}) {
			t.Errorf("%s: %d images of %v, want 30 of 1x3x2", tc.typ, ds.Len(), ds.Shape())
		}
		// Class 7 holds t10k image 7, then train images 7 and 17.
		var sources []string
		for i := range ds.Len() {
			if ds.Label(i) == 7 {
				sources = append(sources, ds.Source(i))
			}
		}
		train, test := filepath.Join(dir, "train-images-idx3-ubyte"), filepath.Join(dir, "t10k-images-idx3-ubyte.gz")
		if want := []string{test + "[00007]", train + "[00007]", train + "[00017]"}; !reflect.DeepEqual(sources, want) {
			t.Fatalf("%s: class 7 sources %q, want %q", tc.typ, sources, want)
		}
		img, err := ds.Image(23) // train image 17
		if err != nil {
			t.Fatal(err)
		}
		g, ok := img.(*image.Gray)
		if !ok || g.Bounds() != image.Rect(0, 0, 2, 3) {
			t.Fatalf("%s: image %T %v, want a 2 wide, 3 high *image.Gray", tc.typ, img, img.Bounds())
		}
		if got := g.GrayAt(1, 2).Y; got != 175 {
			t.Errorf("%s: train image 17 at (1, 2) = %d, want 10*17 + 2*2 + 1", tc.typ, got)
		}
	}
}

func TestMNISTBadData(t *testing.T) {
	dir := t.TempDir()
	writeIDXSet(t, dir, "train", 20, true)
	if _, err := openIDX("MNIST", dir, mnistClasses); err == nil ||
		!strings.Contains(err.Error(), filepath.Join(dir, "t10k-images-idx3-ubyte[.gz]")) {
		t.Errorf("no t10k files: got %v, want an error naming them", err)
	}

	labels := filepath.Join(dir, "t10k-labels-idx1-ubyte")
	images := filepath.Join(dir, "t10k-images-idx3-ubyte")
	for _, tc := range []struct {
		name       string
		path, want string
		data       []byte
	}{
		{"label out of range", labels, "label 10 of item 1, want 0..9", idxBytes([]int{2}, []byte{3, 10})},
		{"label count", labels, "1 labels for the 2 images", idxBytes([]int{1}, []byte{3})},
		{"images as labels", images, "not an IDX file of unsigned bytes in 3 dimensions", idxBytes([]int{2}, []byte{3, 4})},
		{"short data", images, "11 bytes of data for dimensions [2 3 2], want 12", idxBytes([]int{2, 3, 2}, make([]byte, 11))},
		{"huge dimensions", images, "bytes of data for dimensions", idxBytes([]int{1 << 31, 1 << 31, 1 << 31}, nil)},
		{"bad gzip", images + ".gz", "cannot gunzip", []byte("not gzip")},
	} {
		writeIDXSet(t, dir, "t10k", 2, false)
		writeFile(t, tc.path, tc.data)
		if strings.HasSuffix(tc.path, ".gz") {
			if err := os.Remove(images); err != nil {
				t.Fatal(err)
			}
		}
		_, err := openIDX("MNIST", dir, mnistClasses)
		if err == nil || !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error naming %s and containing %q", tc.name, err, tc.path, tc.want)
		}
	}
}
