package data

import (
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/bench-ml/bench/internal/config"
)

// openCars196 reads Stanford Cars as its all-in-one release lays it out:
// dir/cars_annos.mat (the struct array annotations with relative_im_path and
// class, and the cell array class_names) and dir/car_ims/*.jpg. The test
// flag is ignored: all images are pooled.
func openCars196(dir string) (Dataset, error) {
	const where = "Cars196"
	annos := filepath.Join(dir, "cars_annos.mat")
	vars, err := readMATFile(annos)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s: %s", where, annos, fmt.Sprintf(format, args...))
	}
	names := vars["class_names"]
	if names == nil || names.cells == nil {
		return nil, fail("no cell array class_names")
	}
	ann := vars["annotations"]
	paths, classes := ann.structField("relative_im_path"), ann.structField("class")
	if paths == nil || classes == nil {
		return nil, fail("no struct array annotations with fields relative_im_path and class")
	}
	// The class id goes first in the name, zero-padded, so that sorted names
	// keep the ids' order (classes 1-98 are the usual train half), as CUB's
	// folder names do.
	width := len(strconv.Itoa(len(names.cells)))
	items := make([]item, len(paths))
	for i := range items {
		if len(classes[i].nums) != 1 || paths[i].text == "" {
			return nil, fail("annotation %d: want one class and a relative_im_path", i+1)
		}
		id := classes[i].nums[0]
		if id != float64(int(id)) || id < 1 || int(id) > len(names.cells) {
			return nil, fail("annotation %d: class %v, want 1..%d", i+1, id, len(names.cells))
		}
		items[i] = item{
			class:  fmt.Sprintf("%0*d.%s", width, int(id), names.cells[int(id)-1].text),
			source: filepath.Join(dir, filepath.FromSlash(paths[i].text)),
		}
	}
	return newFileDataset(where, items)
}

func newCars196(p *config.Params) Opener {
	dir := p.String("root", "cars196")
	download := p.Bool("download", false)
	return func(datasetRoot string) (Dataset, error) {
		return openOrDownload("Cars196", underRoot(datasetRoot, dir), download, cars196Files, openCars196)
	}
}
