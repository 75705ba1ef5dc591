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
	err := walkFollowingLinks(dir, ".", map[string]bool{}, func(name string) {
		class, _, nested := strings.Cut(name, "/")
		if nested && imageExts[strings.ToLower(path.Ext(name))] {
			files = append(files, imageFile{fsys: fsys, name: name, class: class, key: name,
				source: filepath.Join(dir, filepath.FromSlash(name))})
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
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

// walkFollowingLinks calls file with the slash-separated path, below root,
// of every non-folder in root/name, in lexical order. It follows symlinked
// folders, as torchvision's ImageFolder does, but not into a folder it is
// already in (ancestors holds their real paths): that is a loop, an error.
func walkFollowingLinks(root, name string, ancestors map[string]bool, file func(name string)) error {
	dir := filepath.Join(root, filepath.FromSlash(name))
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	if ancestors[real] {
		return fmt.Errorf("%s: a symlink loop (it leads back to %s)", dir, real)
	}
	ancestors[real] = true
	defer delete(ancestors, real)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		child := path.Join(name, e.Name())
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			st, err := os.Stat(filepath.Join(dir, e.Name()))
			if err != nil {
				return err
			}
			isDir = st.IsDir()
		}
		if !isDir {
			file(child)
			continue
		}
		if err := walkFollowingLinks(root, child, ancestors, file); err != nil {
			return err
		}
	}
	return nil
}
