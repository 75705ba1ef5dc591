package data

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// carAnnotation is one element of cars_annos.mat's annotations.
type carAnnotation struct {
	path        string
	class, test byte
}

// writeCarsAnnos writes dir/cars_annos.mat as the release has it: the
// struct array annotations and the cell array class_names, each variable
// compressed.
func writeCarsAnnos(t *testing.T, dir string, names []string, annos []carAnnotation) {
	t.Helper()
	w := matWriter{binary.LittleEndian}
	fields := []string{"relative_im_path", "bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "class", "test"}
	elems := make([][][]byte, len(annos))
	for i, a := range annos {
		elems[i] = [][]byte{w.char("", a.path), w.uint8s("", 1), w.uint8s("", 2), w.uint8s("", 30), w.uint8s("", 20),
			w.uint8s("", a.class), w.uint8s("", a.test)}
	}
	cells := make([][]byte, len(names))
	for i, n := range names {
		cells[i] = w.char("", n)
	}
	writeFile(t, filepath.Join(dir, "cars_annos.mat"), w.file(
		w.compressed(w.structArray("annotations", fields, elems...)),
		w.compressed(w.cell("class_names", cells...))))
}

// carNames are twelve class names, so that ids take two digits.
var carNames = func() []string {
	names := []string{"AM General Hummer SUV 2000", "Acura RL Sedan 2012", "Acura TL Sedan 2012"}
	for i := len(names); i < 12; i++ {
		names = append(names, fmt.Sprintf("Car %d", i+1))
	}
	return names
}()

func TestCars196(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cars196")
	annos := []carAnnotation{
		{"car_ims/000001.jpg", 12, 0},
		{"car_ims/000002.jpg", 1, 0},
		{"car_ims/000003.jpg", 12, 1}, // test images are pooled with train ones
		{"car_ims/000004.jpg", 2, 0},  // alone in its class: skipped
		{"car_ims/000005.jpg", 1, 1},
	}
	writeCarsAnnos(t, dir, carNames, annos)
	size := map[string]image.Point{}
	for i, a := range annos {
		path := filepath.Join(dir, filepath.FromSlash(a.path))
		size[path] = image.Pt(6, 3+i)
		writeJPEG(t, path, 6, 3+i, color.RGBA{10, uint8(50 * i), 10, 255})
	}
	ds, err := build(t, Datasets, "Cars196", nil)(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"01.AM General Hummer SUV 2000", "12.Car 12"}; !reflect.DeepEqual(ds.Classes(), want) {
		t.Errorf("classes %q, want %q", ds.Classes(), want)
	}
	var sources []string
	for i := range ds.Len() {
		sources = append(sources, filepath.Base(ds.Source(i)))
	}
	if want := []string{"000002.jpg", "000005.jpg", "000001.jpg", "000003.jpg"}; !reflect.DeepEqual(sources, want) {
		t.Errorf("sources %q, want %q", sources, want)
	}
	if got, want := Labels(ds), []int{0, 0, 1, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
	checkImages(t, ds, size)
}

func TestCars196BadData(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "cars")
	if _, err := openCars196(missing); err == nil || !strings.Contains(err.Error(), filepath.Join(missing, "cars_annos.mat")) {
		t.Errorf("missing annotations: got %v, want an error naming cars_annos.mat", err)
	}

	for _, tc := range []struct {
		name  string
		names []string
		annos []carAnnotation
		want  string
	}{
		{"class out of range", carNames[:2], []carAnnotation{{"car_ims/1.jpg", 1, 0}, {"car_ims/2.jpg", 3, 0}}, "annotation 2: class 3, want 1..2"},
		{"class 0", carNames[:2], []carAnnotation{{"car_ims/1.jpg", 0, 0}}, "annotation 1: class 0"},
		{"no path", carNames[:2], []carAnnotation{{"", 1, 0}}, "annotation 1: want one class and a relative_im_path"},
		{"missing image", carNames[:2], []carAnnotation{{"car_ims/absent.jpg", 1, 0}}, filepath.Join("car_ims", "absent.jpg")},
	} {
		dir := t.TempDir()
		writeCarsAnnos(t, dir, tc.names, tc.annos)
		_, err := openCars196(dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: got %v, want an error naming %s and containing %q", tc.name, err, dir, tc.want)
		}
	}

	// A file without the variables.
	dir := t.TempDir()
	w := matWriter{binary.LittleEndian}
	writeFile(t, filepath.Join(dir, "cars_annos.mat"), w.file(w.uint8s("x", 1)))
	if _, err := openCars196(dir); err == nil || !strings.Contains(err.Error(), "class_names") {
		t.Errorf("no variables: got %v, want an error about class_names", err)
	}
	corrupt := filepath.Join(dir, "cars_annos.mat")
	writeFile(t, corrupt, []byte("MATLAB 5.0 but cut short"))
	if _, err := openCars196(dir); err == nil || !strings.Contains(err.Error(), corrupt) {
		t.Errorf("corrupt file: got %v, want an error naming %s", err, corrupt)
	}
}
