package data

import (
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
		r, err := f.fsys.Open(f.name)
		if err != nil {
			return fmt.Errorf("%s: %w", f.source, err)
		}
		defer r.Close()
		img, _, err := image.Decode(r)
		if err != nil {
			return fmt.Errorf("%s: %s: cannot decode image: %w", where, f.source, err)
		}
		items[i] = item{class: f.class, source: f.source, img: img}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newMemDataset(where, items)
}
