package record

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Folder is an experiment folder (SPEC section 7; its files' formats are
// package expfolder's):
//
//	<root>/<name>/configs/<category>.yaml
//	<root>/<name>/<split_scheme>/saved_models/{latest,best}.*
//	<root>/<name>/<split_scheme>/records/*.csv
//	<root>/<name>/meta_logs/*
type Folder struct {
	Path   string
	unlock func() error // set by Create, which locks the folder
}

// Create makes a new experiment folder, without its configs folder, and
// locks it (see LockExperiment) until Close. An existing non-empty folder is an error: a finished
// experiment is never overwritten. Whether it is empty is checked under the
// lock, so of two runs creating one experiment exactly one goes on.
func Create(root, name string) (*Folder, error) {
	if name == "" {
		return nil, errors.New("--experiment_name is required")
	}
	path := filepath.Join(root, name)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	if err := os.Mkdir(path, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	unlock, err := LockExperiment(path)
	if err != nil {
		return nil, err
	}
	f := &Folder{Path: path, unlock: unlock}
	// What a run killed while creating the folder left is not an experiment.
	err = RemoveTemp(path)
	var empty bool
	if err == nil {
		empty, err = Empty(path)
	}
	if err == nil && !empty {
		err = fmt.Errorf("experiment folder %s already exists and is not empty; choose another --experiment_name, or use --resume_training / --evaluate", path)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Close releases the lock that Create took.
func (f *Folder) Close() error {
	if f.unlock == nil {
		return nil
	}
	err := f.unlock()
	f.unlock = nil
	return err
}

// Empty reports whether dir holds nothing but a lock file; a missing dir
// is empty.
func Empty(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if e.Name() != LockFile {
			return false, nil
		}
	}
	return true, nil
}

// Open opens an existing experiment folder (to resume, evaluate or report
// it). It takes no lock: reading a folder that a run is writing is safe.
func Open(path string) (*Folder, error) {
	if _, err := os.Stat(filepath.Join(path, "configs")); err != nil {
		return nil, fmt.Errorf("%s is not an experiment folder (no configs/ in it)", path)
	}
	return &Folder{Path: path}, nil
}

// ConfigsDir holds the resolved config, one YAML file per category.
func (f *Folder) ConfigsDir() string { return filepath.Join(f.Path, "configs") }

// ModelsDir holds a split scheme's checkpoints.
func (f *Folder) ModelsDir(scheme string) string {
	return filepath.Join(f.Path, scheme, "saved_models")
}

// RecordsDir holds a split scheme's records.
func (f *Folder) RecordsDir(scheme string) string {
	return filepath.Join(f.Path, scheme, "records")
}

// MetaLogsDir holds results aggregated over split schemes.
func (f *Folder) MetaLogsDir() string { return filepath.Join(f.Path, "meta_logs") }
