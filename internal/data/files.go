package data

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // image formats that ImageFolder and Omniglot decode
	_ "image/jpeg"
	_ "image/png"
	"io/fs"
)

// imageFile is an image file found in a folder or a zip, not yet decoded.
type imageFile struct {
	fsys   fs.FS
	name   string // path inside fsys
	class  string
	key    string // identity across folders and zips holding the same file
	source string // where it is, for messages
}

// decodeFiles decodes files in parallel into an in-memory dataset. A file
// whose key was already seen (the same image in an extracted folder and in
// a zip, or in two zips) is read once. A file that does not decode is an
// error naming it.
func decodeFiles(where string, files []imageFile) (*memDataset, error) {
	seen := map[string]bool{}
	unique := files[:0:0]
	for _, f := range files {
		if !seen[f.key] {
			seen[f.key] = true
			unique = append(unique, f)
		}
	}
	items := make([]item, len(unique))
	err := forEach(len(unique), func(i int) error {
		f := unique[i]
		img, err := decodeImage(f.fsys, f.name)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", where, f.source, err)
		}
		items[i] = item{class: f.class, source: f.source, img: img}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newMemDataset(where, items)
}

// MaxImagePixels bounds the width times height of one image, which is
// read from the image's header before it is decoded: a small file can
// claim a size whose pixels exhaust memory.
var MaxImagePixels = 1 << 26 // 8192 x 8192

// decodeImage decodes the image file name of fsys. Only a regular file is
// opened: a FIFO or a device would block or never end.
func decodeImage(fsys fs.FS, name string) (image.Image, error) {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%v)", st.Mode().Type())
	}
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("cannot decode image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxImagePixels/cfg.Height {
		return nil, fmt.Errorf("the header says %dx%d pixels, more than the %d allowed (data.MaxImagePixels)", cfg.Width, cfg.Height, MaxImagePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("cannot decode image: %w", err)
	}
	return img, nil
}
