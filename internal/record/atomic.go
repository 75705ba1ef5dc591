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
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// WriteDirAtomic creates the folder path, which must not exist, by letting
// write fill a temporary folder beside it and renaming that into place:
// the folder appears whole or not at all.
func WriteDirAtomic(path string, write func(dir string) error) (err error) {
	parent := filepath.Dir(path)
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(path)+tempMark+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(parent)
}

// syncDir makes a rename in dir durable: without it a power cut can undo
// the rename after the data it points to is on disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// RemoveTemp removes the temporary files and folders that killed writes
// left in the folder dir and below. Only a process holding the folder's
// lock may call it: another process's temporary files would be in use.
func RemoveTemp(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name := d.Name(); path != dir && strings.HasPrefix(name, ".") && strings.Contains(name, tempMark) {
			if err := os.RemoveAll(path); err != nil {
				return err
			}
			if d.IsDir() {
				return fs.SkipDir
			}
		}
		return nil
	})
}
