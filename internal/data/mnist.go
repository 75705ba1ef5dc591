package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"

	"github.com/bench-ml/bench/internal/config"
)

// Class names as torchvision gives them. The label is the index here, and
// the names start with it, so sorted names keep the labels.
var (
	mnistClasses = []string{"0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
		"5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"}
	fashionMNISTClasses = []string{"0 - T-shirt/top", "1 - Trouser", "2 - Pullover", "3 - Dress", "4 - Coat",
		"5 - Sandal", "6 - Shirt", "7 - Sneaker", "8 - Bag", "9 - Ankle boot"}
)

// openIDX reads MNIST-style IDX files, train and t10k pooled:
// dir/{train,t10k}-images-idx3-ubyte and -labels-idx1-ubyte, each
// optionally gzipped (.gz). Grayscale images are kept in memory (MNIST's
// 70,000 take 55 MB).
func openIDX(where, dir string, classes []string) (Dataset, error) {
	var items []item
	for _, set := range []string{"train", "t10k"} {
		imgPath, images, err := readIDX(filepath.Join(dir, set+"-images-idx3-ubyte"), 3)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		lblPath, labels, err := readIDX(filepath.Join(dir, set+"-labels-idx1-ubyte"), 1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		n, h, w := images.dims[0], images.dims[1], images.dims[2]
		if labels.dims[0] != n {
			return nil, fmt.Errorf("%s: %s has %d labels for the %d images of %s", where, lblPath, labels.dims[0], n, imgPath)
		}
		for i := range n {
			l := int(labels.data[i])
			if l >= len(classes) {
				return nil, fmt.Errorf("%s: %s: label %d of item %d, want 0..%d", where, lblPath, l, i, len(classes)-1)
			}
			img := &image.Gray{Pix: images.data[i*h*w : (i+1)*h*w : (i+1)*h*w], Stride: w, Rect: image.Rect(0, 0, w, h)}
			// Zero-padded so that sources sort in file order.
			items = append(items, item{class: classes[l], source: fmt.Sprintf("%s[%05d]", imgPath, i), img: img})
		}
	}
	return newMemDataset(where, items)
}

// idx is the content of an IDX file of unsigned bytes.
type idx struct {
	dims []int
	data []byte
}

// readIDX reads base, or base.gz when base does not exist, which must hold
// ubyte data of the given number of dimensions; it returns the path read.
func readIDX(base string, ndim int) (string, idx, error) {
	path := base
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		path = base + ".gz"
		raw, err = os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return "", idx{}, fmt.Errorf("%s[.gz]: no such file", base)
		}
	}
	if err != nil {
		return "", idx{}, err
	}
	if filepath.Ext(path) == ".gz" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err == nil {
			raw, err = io.ReadAll(zr)
		}
		if err != nil {
			return "", idx{}, fmt.Errorf("%s: cannot gunzip: %w", path, err)
		}
	}
	// Magic: two zero bytes, the type (0x08 = unsigned byte), the number of
	// dimensions; then each dimension as a big-endian uint32.
	if len(raw) < 4+4*ndim || raw[0] != 0 || raw[1] != 0 || raw[2] != 0x08 || int(raw[3]) != ndim {
		return "", idx{}, fmt.Errorf("%s: not an IDX file of unsigned bytes in %d dimensions", path, ndim)
	}
	d := idx{dims: make([]int, ndim)}
	size := 1
	for i := range d.dims {
		d.dims[i] = int(binary.BigEndian.Uint32(raw[4+4*i:]))
		if size *= d.dims[i]; size > len(raw) { // a corrupt header; stop before size overflows
			break
		}
	}
	d.data = raw[4+4*ndim:]
	if len(d.data) != size {
		return "", idx{}, fmt.Errorf("%s: %d bytes of data for dimensions %v, want %d", path, len(d.data), d.dims, size)
	}
	return path, d, nil
}

func newMNIST(p *config.Params) Opener {
	dir := p.String("root", "mnist")
	return func(datasetRoot string) (Dataset, error) {
		return openIDX("MNIST", underRoot(datasetRoot, dir), mnistClasses)
	}
}

func newFashionMNIST(p *config.Params) Opener {
	dir := p.String("root", "fashion_mnist")
	return func(datasetRoot string) (Dataset, error) {
		return openIDX("FashionMNIST", underRoot(datasetRoot, dir), fashionMNISTClasses)
	}
}
