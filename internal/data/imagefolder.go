package data

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/bench-ml/bench/internal/config"
)

// imageExts are the file types ImageFolder reads; other files are ignored.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true}

// openImageFolder reads dir/<class>/**/<image>, one class per top-level
// folder, as torchvision's ImageFolder does.
func openImageFolder(dir string) (Dataset, error) {
	const where = "ImageFolder"
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	fsys := os.DirFS(dir)
	var files []imageFile
	err := fs.WalkDir(fsys, ".", func(name string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		class, _, nested := strings.Cut(name, "/")
		if e.IsDir() || !nested || !imageExts[strings.ToLower(path.Ext(name))] {
			return nil
		}
		files = append(files, imageFile{fsys: fsys, name: name, class: class, key: name,
			source: filepath.Join(dir, filepath.FromSlash(name))})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", where, dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: %s: no images in class folders (<class>/<image>.png|jpg|gif)", where, dir)
	}
	return decodeFiles(where, files)
}

func newImageFolder(p *config.Params) Opener {
	dir := p.String("root", "")
	if dir == "" {
		p.Fail("root", "required: the folder holding one subfolder per class (relative to --dataset_root)")
	}
	return func(datasetRoot string) (Dataset, error) { return openImageFolder(underRoot(datasetRoot, dir)) }
}
