package record

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
)

// Table is one record file (losses per iteration, metrics per evaluation),
// kept in memory and rewritten whole on Flush: records are small next to
// training time, and a rewrite through a rename can never leave a torn line.
type Table struct {
	path    string
	columns []string
	index   map[string]int
	rows    [][]string
}

// NewTable makes an empty table that Flush writes to path as CSV.
func NewTable(path string) *Table {
	return &Table{path: path, index: map[string]int{}}
}

// Add appends a row; a column seen for the first time is added to the
// header (earlier rows leave it empty).
func (t *Table) Add(row map[string]float64, order ...string) { t.add("", "", row, order) }

// AddLabeled appends a row whose first column, col, holds a text label
// (the metric name of a summary row).
func (t *Table) AddLabeled(col, label string, row map[string]float64, order ...string) {
	t.add(col, label, row, order)
}

func (t *Table) add(col, label string, row map[string]float64, order []string) {
	if col != "" {
		t.column(col)
	}
	for _, k := range order {
		t.column(k)
	}
	for k := range row {
		t.column(k)
	}
	r := make([]string, len(t.columns))
	if col != "" {
		r[t.index[col]] = label
	}
	for k, v := range row {
		r[t.index[k]] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	t.rows = append(t.rows, r)
}

func (t *Table) column(k string) {
	if _, ok := t.index[k]; !ok {
		t.index[k] = len(t.columns)
		t.columns = append(t.columns, k)
	}
}

// Len is the number of rows.
func (t *Table) Len() int { return len(t.rows) }

// Flush writes the table as CSV, atomically.
func (t *Table) Flush() error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(t.columns)
	for _, r := range t.rows {
		// Rows written before a column appeared are shorter: pad them.
		full := make([]string, len(t.columns))
		copy(full, r)
		w.Write(full)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return WriteFileAtomic(t.path, buf.Bytes())
}

// LoadTable reads a table written by Flush, so a resumed run appends to it.
// A missing file gives an empty table.
func LoadTable(path string) (*Table, error) {
	t := NewTable(path)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return t, nil
	}
	if err != nil {
		return nil, err
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 {
		return t, nil
	}
	for _, c := range recs[0] {
		t.column(c)
	}
	t.rows = recs[1:]
	return t, nil
}

// Truncate keeps the rows for which keep is true, reading the named column;
// a resumed run uses it to drop what was recorded after its checkpoint.
func (t *Table) Truncate(column string, keep func(v float64) bool) {
	i, ok := t.index[column]
	if !ok {
		return
	}
	rows := t.rows[:0]
	for _, r := range t.rows {
		v, err := strconv.ParseFloat(r[i], 64)
		if err == nil && keep(v) {
			rows = append(rows, r)
		}
	}
	t.rows = rows
}

// Points are the values of columns x and y in the rows where both are
// finite numbers: a column added after the first rows leaves those empty,
// and a diverged loss cannot be drawn. A missing column gives none.
func (t *Table) Points(x, y string) (xs, ys []float64) {
	xi, okX := t.index[x]
	yi, okY := t.index[y]
	if !okX || !okY {
		return nil, nil
	}
	for _, r := range t.rows {
		if xi >= len(r) || yi >= len(r) {
			continue
		}
		xv, errX := strconv.ParseFloat(r[xi], 64)
		yv, errY := strconv.ParseFloat(r[yi], 64)
		if errX == nil && errY == nil && !math.IsNaN(xv+yv) && !math.IsInf(xv+yv, 0) {
			xs, ys = append(xs, xv), append(ys, yv)
		}
	}
	return xs, ys
}

// Each calls fn for every numeric cell of the table outside the key
// columns, with the row's keys as integers; a row without its keys is
// skipped, as is an empty cell.
func (t *Table) Each(keys []string, fn func(key []int64, column string, v float64)) error {
	idx := make([]int, len(keys))
	for i, k := range keys {
		var ok bool
		if idx[i], ok = t.index[k]; !ok {
			if len(t.rows) == 0 {
				return nil
			}
			return fmt.Errorf("%s: no column %q", t.path, k)
		}
	}
	key := make([]int64, len(keys))
rows:
	for line, row := range t.rows {
		for i, c := range idx {
			if c >= len(row) || row[c] == "" {
				continue rows
			}
			v, err := strconv.ParseFloat(row[c], 64)
			if err != nil || v != math.Trunc(v) {
				return fmt.Errorf("%s line %d: %s %q is not an integer", t.path, line+2, keys[i], row[c])
			}
			key[i] = int64(v)
		}
		for c, cell := range row {
			if cell == "" || slices.Contains(idx, c) {
				continue
			}
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				return fmt.Errorf("%s line %d: %s %q is not a number", t.path, line+2, t.columns[c], cell)
			}
			fn(key, t.columns[c], v)
		}
	}
	return nil
}
