package record

import (
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Records are the record tables of one split scheme, in its records folder.
// Flush writes them three ways: each table as <name>.csv, all of them into
// records.db (SQLite, one table each), and the rows added since the last
// Flush as TensorBoard scalars under tensorboard/.
type Records struct {
	dir    string
	tables []*namedTable
	events string // this run's event file, created by the first Flush with rows
}

// namedTable is a table with what SQLite and TensorBoard need besides the CSV.
type namedTable struct {
	*Table
	name string
	step string // the column TensorBoard plots against
	sent int    // rows already in an event file
}

// NewRecords makes an empty set of records in dir.
func NewRecords(dir string) *Records { return &Records{dir: dir} }

// Table adds a table called name (the CSV file's base name, the SQLite
// table and the TensorBoard tag prefix) whose rows are steps of the column
// step.
func (r *Records) Table(name, step string) *Table {
	t := &namedTable{Table: NewTable(filepath.Join(r.dir, name+".csv")), name: name, step: step}
	r.tables = append(r.tables, t)
	return t.Table
}

// Resume reloads every table from its CSV file, keeps the rows for which
// keep is true, reading column, and writes the records back at once: a
// resumed run's records end exactly where its checkpoint does, so that
// they grow into an uninterrupted run's. The CSV files and the database
// are rewritten; the TensorBoard events, which cannot be cut, are
// replaced by one new event file of the kept rows (stamped now).
func (r *Records) Resume(column string, keep func(v float64) bool) error {
	for _, t := range r.tables {
		loaded, err := LoadTable(t.path)
		if err != nil {
			return err
		}
		*t.Table = *loaded
		t.Truncate(column, keep)
		t.sent = 0
	}
	old, err := filepath.Glob(filepath.Join(r.dir, "tensorboard", eventFilePrefix+"*"))
	if err != nil {
		return err
	}
	if err := r.Flush(); err != nil {
		return err
	}
	// Killed here, the next resume replaces both files again.
	for _, path := range old {
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes the records. The event file is written first: a run killed
// during Flush then resumes with its CSV files behind the events, which
// loses no event, rather than ahead of them, which would.
func (r *Records) Flush() error {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return err
	}
	if err := r.flushEvents(); err != nil {
		return err
	}
	if err := writeSQLite(filepath.Join(r.dir, "records.db"), r.tables); err != nil {
		return err
	}
	for _, t := range r.tables {
		if err := t.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// flushEvents appends one event per new row, tagged <table>/<column>, at
// the row's step.
func (r *Records) flushEvents() error {
	wall := float64(time.Now().UnixNano()) / 1e9
	var buf []byte
	for _, t := range r.tables {
		step, ok := t.index[t.step]
		if !ok {
			continue
		}
		for _, row := range t.rows[t.sent:] {
			if step >= len(row) {
				continue // added before its step column: nowhere to plot it
			}
			s, err := strconv.ParseFloat(row[step], 64)
			if err != nil {
				continue
			}
			var values []scalar
			for i, cell := range row {
				if v, err := strconv.ParseFloat(cell, 64); err == nil && i != step {
					values = append(values, scalar{t.name + "/" + t.columns[i], float32(v)})
				}
			}
			buf = appendRecord(buf, scalarsEvent(wall, int64(s), values))
		}
	}
	if len(buf) == 0 {
		return nil
	}
	if r.events == "" {
		path, err := createEventFile(filepath.Join(r.dir, "tensorboard"), wall)
		if err != nil {
			return err
		}
		r.events = path
	}
	if err := appendFile(r.events, buf); err != nil {
		return err
	}
	for _, t := range r.tables {
		t.sent = t.Len()
	}
	return nil
}
