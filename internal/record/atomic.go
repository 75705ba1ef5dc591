// Package record owns the experiment folder: the resolved configs, the
// records of losses and metrics, checkpoints and the aggregated results.
// Every file is written to a temporary file in the same folder and renamed
// into place, so a killed run never leaves a half-written file behind.
package record

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// WriteFileAtomic writes data to path through a temporary file and a rename.
func WriteFileAtomic(path string, data []byte) error {
	return WriteAtomic(path, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// tempMark is in the name of every temporary file of WriteAtomic.
const tempMark = ".tmp"

// WriteAtomic creates path by letting write fill a temporary file in the
// same folder, syncing it and renaming it into place.
func WriteAtomic(path string, write func(f *os.File) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempMark+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil { // CreateTemp's 0600 is for secrets, not results
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// RemoveTemp removes the temporary files that killed writes left in the
// folder dir and below. Only a process holding the folder's lock may call
// it: another process's temporary files would be in use.
func RemoveTemp(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name := d.Name(); d.Type().IsRegular() && strings.HasPrefix(name, ".") && strings.Contains(name, tempMark) {
			return os.Remove(path)
		}
		return nil
	})
}
