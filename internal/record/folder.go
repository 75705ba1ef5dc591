package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Folder is an experiment folder (SPEC section 7):
//
//	<root>/<name>/configs/<category>.yaml
//	<root>/<name>/<split_scheme>/saved_models/{latest,best}.*
//	<root>/<name>/<split_scheme>/records/*.csv
//	<root>/<name>/meta_logs/*
type Folder struct{ Path string }

// Create makes a new experiment folder. An existing non-empty folder is an
// error: a finished experiment is never overwritten.
func Create(root, name string) (*Folder, error) {
	if name == "" {
		return nil, errors.New("--experiment_name is required")
	}
	path := filepath.Join(root, name)
	entries, err := os.ReadDir(path)
	if err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("experiment folder %s already exists and is not empty; choose another --experiment_name, or use --resume_training / --evaluate", path)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(path, "configs"), 0o755); err != nil {
		return nil, err
	}
	return &Folder{Path: path}, nil
}

// Open opens an existing experiment folder (to resume or evaluate it).
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

// WriteJSON writes v as indented JSON, atomically.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(data, '\n'))
}

// ReadJSON reads a file written by WriteJSON.
func ReadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
