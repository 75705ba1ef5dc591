// Package expfolder is the experiment folder's file formats: one typed
// schema per file, each with its schema version, used by every command
// that writes or reads the folder (run, eval, aggregate, report, search,
// status). README "The experiment folder" lists the files.
//
// Every JSON file is an object whose "schema_version" is Version. A file
// written by an earlier bench, without the field, is read as version 1,
// which is the layout those files had (a bare array or map is read as the
// field that now holds it). A reader refuses any other version in one line
// naming the file. NaN, which JSON cannot hold, is written as null and read
// back as NaN; ±Inf as the strings "Infinity" and "-Infinity".
package expfolder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/bench-ml/bench/internal/record"
)

// Version is the schema version of the files this bench writes and the only
// one it reads.
const Version = 1

// Header is the version field every JSON file of the folder starts with.
type Header struct {
	SchemaVersion int `json:"schema_version"`
}

func (h *Header) header() *Header { return h }

// File is a file format of the folder: a struct embedding Header.
type File interface{ header() *Header }

// legacyField names the field that holds what a file written before
// schema versions held at its top level (a bare array or map).
type legacyField interface{ legacyField() string }

// WriteJSON writes v as indented JSON, at the current Version, atomically.
func WriteJSON(path string, v File) error {
	v.header().SchemaVersion = Version
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return record.WriteFileAtomic(path, append(data, '\n'))
}

// ReadJSON reads a file written by WriteJSON, or by a bench before schema
// versions (read as version 1); any other version is an error naming the
// file. A missing file is an error satisfying errors.Is(err, fs.ErrNotExist).
func ReadJSON(path string, v File) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return Decode(path, data, v)
}

// Decode decodes the bytes data of the file path as ReadJSON does.
func Decode(path string, data []byte, v File) error {
	var head struct {
		Version *json.RawMessage `json:"schema_version"`
	}
	trimmed := bytes.TrimSpace(data)
	isObject := len(trimmed) > 0 && trimmed[0] == '{'
	if isObject {
		if err := json.Unmarshal(trimmed, &head); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	switch {
	case head.Version != nil:
		var n int
		if err := json.Unmarshal(*head.Version, &n); err != nil || n != Version {
			return fmt.Errorf("%s: schema version %s unknown (this bench reads %d)", path, *head.Version, Version)
		}
	default: // written before schema versions: version 1
		if l, ok := v.(legacyField); ok {
			data = append(append([]byte(`{"`+l.legacyField()+`":`), trimmed...), '}')
		}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	v.header().SchemaVersion = Version
	return nil
}

// Number is a float64 in JSON: NaN as null, ±Inf as "Infinity" and
// "-Infinity", which JSON's numbers cannot hold.
type Number float64

// MarshalJSON writes n, NaN as null.
func (n Number) MarshalJSON() ([]byte, error) {
	v := float64(n)
	switch {
	case math.IsNaN(v):
		return []byte("null"), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (n *Number) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "null":
		*n = Number(math.NaN())
		return nil
	case `"Infinity"`:
		*n = Number(math.Inf(1))
		return nil
	case `"-Infinity"`:
		*n = Number(math.Inf(-1))
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("%s is not a number", b)
	}
	*n = Number(v)
	return nil
}

// Metrics are metric values by name, NaN kept as null (a metric of a
// diverged model is NaN, not missing).
type Metrics map[string]float64

// MarshalJSON writes the values as Numbers.
func (m Metrics) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	out := make(map[string]Number, len(m))
	for k, v := range m {
		out[k] = Number(v)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	var in map[string]Number
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	if in == nil {
		*m = nil
		return nil
	}
	*m = make(Metrics, len(in))
	for k, v := range in {
		(*m)[k] = float64(v)
	}
	return nil
}
