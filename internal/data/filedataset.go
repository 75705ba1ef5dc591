package data

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
)

// fileDataset reads an image from its file each time it is asked for:
// CUB200, Cars196 and StanfordOnlineProducts hold 12k to 120k photos a few
// hundred pixels a side, gigabytes once decoded. Sources are file paths.
type fileDataset struct {
	catalog
	where string
}

// Shape is 3 channels of varying size: the photos are read as RGB, the few
// grayscale ones among them becoming three equal channels, as PIL's
// convert("RGB") does in the reference loaders.
func (d *fileDataset) Shape() Shape { return Shape{C: 3} }

func (d *fileDataset) Image(i int) (image.Image, error) {
	path := d.sources[i]
	img, err := decodeImage(os.DirFS(filepath.Dir(path)), filepath.Base(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", d.where, path, err)
	}
	return img, nil
}

// newFileDataset labels items (whose sources are file paths) as newCatalog
// does. Every file must exist, so that a missing one is reported when the
// dataset opens rather than hours into training; decoding waits for Image.
func newFileDataset(where string, items []item) (*fileDataset, error) {
	err := forEach(len(items), func(i int) error {
		_, err := os.Stat(items[i].source)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	c, _, err := newCatalog(where, items)
	if err != nil {
		return nil, err
	}
	return &fileDataset{catalog: c, where: where}, nil
}
