package data

import (
	"archive/zip"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/bench-ml/bench/internal/config"
)

// openOmniglot reads the Omniglot layout
// images_background*|images_evaluation*/<alphabet>/<character>/*.png from
// extracted folders and from .zip files in dir, pooling all of them (the
// split manager decides what is train and test). A class is
// <alphabet>/<character>: some alphabets appear in several archives, and the
// same file in two archives is one image.
func openOmniglot(dir string) (Dataset, error) {
	const where = "Omniglot"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	var files []imageFile
	// Folders first, so that an extracted file is read in preference to its
	// copy in a zip.
	for _, e := range entries {
		if e.IsDir() && isOmniglotSubset(e.Name()) {
			more, err := omniglotFiles(os.DirFS(dir), e.Name(), dir)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			files = append(files, more...)
		}
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".zip") || !isOmniglotSubset(name) {
			continue
		}
		zipPath := filepath.Join(dir, name)
		zr, err := zip.OpenReader(zipPath)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", where, zipPath, err)
		}
		defer zr.Close()
		// The archive holds its subset's folder (images_background/...).
		subsets, err := fs.ReadDir(zr, ".")
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", where, zipPath, err)
		}
		for _, s := range subsets {
			if s.IsDir() && isOmniglotSubset(s.Name()) {
				more, err := omniglotFiles(zr, s.Name(), zipPath)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %w", where, zipPath, err)
				}
				files = append(files, more...)
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: %s: no images_background*/ or images_evaluation*/<alphabet>/<character>/*.png, extracted or zipped", where, dir)
	}
	return decodeFiles(where, files)
}

func isOmniglotSubset(name string) bool {
	return strings.HasPrefix(name, "images_background") || strings.HasPrefix(name, "images_evaluation")
}

// omniglotFiles lists subset/<alphabet>/<character>/*.png in fsys; container
// names the folder or zip for messages.
func omniglotFiles(fsys fs.FS, subset, container string) ([]imageFile, error) {
	names, err := fs.Glob(fsys, path.Join(subset, "*", "*", "*.png"))
	if err != nil {
		return nil, err
	}
	files := make([]imageFile, len(names))
	for i, name := range names {
		key := strings.TrimPrefix(name, subset+"/") // alphabet/character/file.png
		files[i] = imageFile{
			fsys:   fsys,
			name:   name,
			class:  path.Dir(key),
			key:    key,
			source: filepath.Join(container, filepath.FromSlash(name)),
		}
	}
	return files, nil
}

func newOmniglot(p *config.Params) Opener {
	dir := p.String("root", "omniglot")
	return func(datasetRoot string) (Dataset, error) { return openOmniglot(underRoot(datasetRoot, dir)) }
}
