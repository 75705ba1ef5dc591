package data

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/bench-ml/bench/internal/config"
)

// openCUB200 reads Caltech-UCSD Birds-200-2011 as extracted from
// CUB_200_2011.tgz: dir/CUB_200_2011/images/<NNN.class_name>/*.jpg, one class
// per folder. Its train/test lists are not read: all images are pooled.
func openCUB200(dir string) (Dataset, error) {
	const where = "CUB200"
	images := filepath.Join(dir, "CUB_200_2011", "images")
	if _, err := os.Stat(images); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	paths, err := filepath.Glob(filepath.Join(images, "*", "*.jpg"))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", where, images, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: %s: no <class>/*.jpg", where, images)
	}
	items := make([]item, len(paths))
	for i, p := range paths {
		items[i] = item{class: filepath.Base(filepath.Dir(p)), source: p}
	}
	return newFileDataset(where, items)
}

func newCUB200(p *config.Params) Opener {
	dir := p.String("root", "cub2011")
	download := p.Bool("download", false)
	return func(datasetRoot string) (Dataset, error) {
		return openOrDownload("CUB200", underRoot(datasetRoot, dir), download, cub200Files, openCUB200)
	}
}
