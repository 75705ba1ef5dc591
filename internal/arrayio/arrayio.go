// Package arrayio reads and writes the arrays that bench exchanges with
// other tools, embeddings and labels, as NumPy .npy or as .csv, chosen by
// the file extension. Errors start with the file name.
package arrayio

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sbinet/npyio"
	"gonum.org/v1/gonum/mat"
)

// matrix is a rows x cols array of float64, row-major; float32 reports
// that the file held float32 values, which data holds exactly.
type matrix struct {
	rows, cols int
	data       []float64
	float32    bool
}

// ReadMatrix reads a 2-D array and returns its values row-major with its
// numbers of rows and columns (a 1-D .npy array is one column). A .npy
// file may hold any real or integer dtype, in C or Fortran order; a .csv
// file has one row per line, comma-separated, and may start with a header
// line with no number in it. Every value must be finite.
func ReadMatrix(path string) (data []float64, rows, cols int, err error) {
	data, rows, cols, _, err = ReadMatrixPrecision(path)
	return data, rows, cols, err
}

// ReadMatrixPrecision is ReadMatrix that also reports whether the file is a
// float32 .npy array, so that a caller can compute in the precision the
// values were made in.
func ReadMatrixPrecision(path string) (data []float64, rows, cols int, single bool, err error) {
	m, err := readMatrix(path)
	if err != nil {
		return nil, 0, 0, false, fmt.Errorf("%s: %w", path, err)
	}
	return m.data, m.rows, m.cols, m.float32, nil
}

// ReadLabels reads integer labels: a 1-D array, or a 2-D array with one
// row or one column. Floating-point values must be whole numbers.
func ReadLabels(path string) ([]int, error) {
	m, err := readMatrix(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.rows != 1 && m.cols != 1 {
		return nil, fmt.Errorf("%s: %d x %d array, want one row or one column of labels", path, m.rows, m.cols)
	}
	labels := make([]int, len(m.data))
	for i, v := range m.data {
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return nil, fmt.Errorf("%s: label %d is %v, not an integer", path, i, v)
		}
		labels[i] = int(v)
	}
	return labels, nil
}

// WriteMatrix writes the rows x cols row-major data as a float64 .npy
// array or as .csv with the shortest decimal form of each value that reads
// back exactly. The file appears complete or not at all.
func WriteMatrix(path string, data []float64, rows, cols int) error {
	if rows <= 0 || cols <= 0 || len(data) != rows*cols {
		return fmt.Errorf("%s: cannot write %d values as a %d x %d matrix", path, len(data), rows, cols)
	}
	return writeAtomic(path, func(w io.Writer, ext string) error {
		if ext == ".npy" {
			return npyio.Write(w, mat.NewDense(rows, cols, data))
		}
		cw := csv.NewWriter(w)
		rec := make([]string, cols)
		for i := range rows {
			for j, v := range data[i*cols : (i+1)*cols] {
				rec[j] = strconv.FormatFloat(v, 'g', -1, 64)
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
}

// WriteLabels writes labels as a 1-D int64 .npy array or as a .csv column.
func WriteLabels(path string, labels []int) error {
	return writeAtomic(path, func(w io.Writer, ext string) error {
		if ext == ".npy" {
			v := make([]int64, len(labels))
			for i, l := range labels {
				v[i] = int64(l)
			}
			return npyio.Write(w, v)
		}
		var b strings.Builder
		for _, l := range labels {
			b.WriteString(strconv.Itoa(l))
			b.WriteByte('\n')
		}
		_, err := io.WriteString(w, b.String())
		return err
	})
}

func extension(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".npy", ".csv":
		return ext, nil
	default:
		return "", fmt.Errorf("unsupported file extension %q, want .npy or .csv", ext)
	}
}

func readMatrix(path string) (matrix, error) {
	ext, err := extension(path)
	if err != nil {
		return matrix{}, err
	}
	// The whole file is read at once: npyio reads element by element and
	// does not retry short reads, which a file reader may return.
	b, err := os.ReadFile(path)
	if err != nil {
		return matrix{}, unwrapPath(err)
	}
	m := matrix{}
	if ext == ".npy" {
		m, err = readNPY(b)
	} else {
		m, err = readCSV(b)
	}
	if err != nil {
		return m, err
	}
	// Every metric and loss turns NaN or Inf into a plausible number.
	for i, v := range m.data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return matrix{}, fmt.Errorf("row %d, column %d is %v: values must be finite", i/m.cols+1, i%m.cols+1, v)
		}
	}
	return m, nil
}

// unwrapPath drops the path that os errors repeat, since callers prefix it.
func unwrapPath(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err
	}
	return err
}

func readCSV(b []byte) (matrix, error) {
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	var m matrix
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return matrix{}, err
		}
		line, _ := cr.FieldPos(0)
		vals := make([]float64, len(rec))
		nonNumeric := 0
		var bad error
		for j, f := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				nonNumeric++
				if bad == nil {
					bad = fmt.Errorf("line %d, column %d: %q is not a number", line, j+1, f)
				}
			}
			vals[j] = v
		}
		if bad != nil {
			if m.rows == 0 && line == 1 && nonNumeric == len(rec) {
				continue // a header line
			}
			return matrix{}, bad
		}
		if m.rows == 0 {
			m.cols = len(rec)
		} else if len(rec) != m.cols {
			return matrix{}, fmt.Errorf("line %d has %d values, earlier lines %d", line, len(rec), m.cols)
		}
		m.data = append(m.data, vals...)
		m.rows++
	}
	if m.rows == 0 {
		return matrix{}, fmt.Errorf("no data")
	}
	return m, nil
}

// writeAtomic writes through a temporary file renamed over path once
// complete, so that a failed write never leaves a truncated array.
func writeAtomic(path string, write func(w io.Writer, ext string) error) error {
	ext, err := extension(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f, ext); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp's 0600 is for secrets
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}
