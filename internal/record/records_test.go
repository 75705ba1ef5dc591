package record

import (
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/record/eventtest"
)

// fill adds epochs from..to of a fold with two iterations an epoch; the
// learning rate column appears at epoch 2.
func fill(losses, acc *Table, from, to int, offset float64) {
	for e := from; e <= to; e++ {
		for i := 2*e - 1; i <= 2*e; i++ {
			row := map[string]float64{"iteration": float64(i), "epoch": float64(e), "total_loss": offset + 1/float64(i)}
			if e >= 2 {
				row["lr_0"] = 0.01 / float64(e)
			}
			losses.Add(row, "iteration", "epoch", "total_loss")
		}
		acc.Add(map[string]float64{"epoch": float64(e), "precision_at_1": offset + 0.1*float64(e)}, "epoch", "precision_at_1")
	}
}

func newFoldRecords(dir string) (*Records, *Table, *Table) {
	r := NewRecords(dir)
	return r, r.Table("losses", "iteration"), r.Table("accuracies_val", "epoch")
}

// queryAll reads a SQLite table as rows of values, NULL as NaN.
func queryAll(t *testing.T, db *sql.DB, table string) [][]float64 {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table + " ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]float64
	for rows.Next() {
		vals := make([]sql.NullFloat64, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]float64, len(cols))
		for i, v := range vals {
			row[i] = math.NaN()
			if v.Valid {
				row[i] = v.Float64
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func openDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func sameRows(a, b [][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			x, y := a[i][j], b[i][j]
			if x != y && !(math.IsNaN(x) && math.IsNaN(y)) {
				return false
			}
		}
	}
	return true
}

func TestRecordsSQLiteRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r, losses, acc := newFoldRecords(dir)
	fill(losses, acc, 1, 1, 0)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	fill(losses, acc, 2, 2, 0)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, dir)
	nan := math.NaN()
	wantLosses := [][]float64{ // iteration, epoch, total_loss, lr_0
		{1, 1, 1, nan},
		{2, 1, 0.5, nan},
		{3, 2, 1.0 / 3, 0.005},
		{4, 2, 0.25, 0.005},
	}
	if got := queryAll(t, db, "losses"); !sameRows(got, wantLosses) {
		t.Errorf("losses: got %v, want %v", got, wantLosses)
	}
	wantAcc := [][]float64{{1, 0.1}, {2, 0.2}}
	if got := queryAll(t, db, "accuracies_val"); !sameRows(got, wantAcc) {
		t.Errorf("accuracies_val: got %v, want %v", got, wantAcc)
	}
	var types []string
	rows, err := db.Query("SELECT name, type FROM pragma_table_info('losses')")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		types = append(types, name+" "+typ)
	}
	rows.Close()
	if want := []string{"iteration INTEGER", "epoch INTEGER", "total_loss REAL", "lr_0 REAL"}; !reflect.DeepEqual(types, want) {
		t.Errorf("columns %v, want %v", types, want)
	}
}

// A failing flush must leave the previous flush whole: the error comes
// from the second table, after the first was already rewritten inside the
// transaction.
func TestRecordsSQLiteFlushIsOneTransaction(t *testing.T) {
	dir := t.TempDir()
	r, losses, acc := newFoldRecords(dir)
	losses.Add(map[string]float64{"iteration": 1, "epoch": 1, "total_loss": 1})
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	csvBefore, _ := os.ReadFile(filepath.Join(dir, "losses.csv"))
	db := openDB(t, dir)
	// An index may not share a table's name: creating accuracies_val fails.
	if _, err := db.Exec(`CREATE TABLE other (x REAL); CREATE INDEX accuracies_val ON other(x)`); err != nil {
		t.Fatal(err)
	}
	fill(losses, acc, 1, 3, 0)
	err := r.Flush()
	if err == nil || !strings.Contains(err.Error(), "records.db") || !strings.Contains(err.Error(), "accuracies_val") {
		t.Fatalf("want an error naming records.db and accuracies_val, got %v", err)
	}
	if got := queryAll(t, db, "losses"); len(got) != 1 {
		t.Errorf("the failed flush changed losses to %d rows, want the 1 of the previous flush", len(got))
	}
	if csvAfter, _ := os.ReadFile(filepath.Join(dir, "losses.csv")); string(csvAfter) != string(csvBefore) {
		t.Errorf("the failed flush rewrote losses.csv")
	}
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"accuracies_val.csv", "losses.csv", "records.db", "tensorboard"}; !reflect.DeepEqual(names, want) {
		t.Errorf("files %v, want %v: something was left behind", names, want)
	}
}

// A resumed run drops what was recorded after its checkpoint, in the CSV
// files, the database and the events alike.
func TestRecordsResume(t *testing.T) {
	dir := t.TempDir()
	r, losses, acc := newFoldRecords(dir)
	fill(losses, acc, 1, 3, 0)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}

	r, losses, acc = newFoldRecords(dir)
	if err := r.Resume("epoch", func(v float64) bool { return v <= 2 }); err != nil {
		t.Fatal(err)
	}
	if losses.Len() != 4 || acc.Len() != 2 {
		t.Fatalf("resume kept %d loss and %d accuracy rows, want 4 and 2", losses.Len(), acc.Len())
	}
	fill(losses, acc, 3, 3, 10) // epoch 3 again, with other values
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}

	want := NewRecords(t.TempDir())
	wl, wa := want.Table("losses", "iteration"), want.Table("accuracies_val", "epoch")
	fill(wl, wa, 1, 2, 0)
	fill(wl, wa, 3, 3, 10)
	for _, c := range []struct{ got, want *Table }{{losses, wl}, {acc, wa}} {
		if err := c.want.Flush(); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(c.got.path)
		exp, _ := os.ReadFile(c.want.path)
		if string(got) != string(exp) {
			t.Errorf("%s after resume:\n%s\nwant\n%s", c.got.path, got, exp)
		}
	}
	db := openDB(t, dir)
	if got := queryAll(t, db, "losses"); len(got) != 6 || got[5][2] != 10+1.0/6 {
		t.Errorf("database losses after resume: %v", got)
	}
	if got := queryAll(t, db, "accuracies_val"); !sameRows(got, [][]float64{{1, 0.1}, {2, 0.2}, {3, 10.3}}) {
		t.Errorf("database accuracies after resume: %v", got)
	}

	// The events too: one file, as the uninterrupted run's, without the
	// dropped epoch 3.
	files := eventFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("want the events in one new file, got %v", files)
	}
	if err := want.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, exp := eventSteps(t, files[0]), eventSteps(t, eventFiles(t, want.dir)[0]); !reflect.DeepEqual(got, exp) {
		t.Errorf("resumed run's events %v, want %v", got, exp)
	}
}

// eventSteps lists the scalars of an event file as tag@step=value.
func eventSteps(t *testing.T, path string) []string {
	var steps []string
	for _, e := range eventtest.Read(t, path) {
		for tag, v := range e.Values {
			steps = append(steps, fmt.Sprintf("%s@%d=%g", tag, e.Step, v))
		}
	}
	sort.Strings(steps)
	return steps
}

func eventFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "tensorboard", "events.out.tfevents.*"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files) // TensorBoard's reading order, which must be the writing order
	return files
}

func TestRecordsTensorBoardEvents(t *testing.T) {
	dir := t.TempDir()
	r, losses, acc := newFoldRecords(dir)
	fill(losses, acc, 1, 1, 0)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err != nil { // nothing new: nothing written
		t.Fatal(err)
	}
	fill(losses, acc, 2, 2, 0)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	files := eventFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("want one event file, got %v", files)
	}
	host, _ := os.Hostname()
	if !strings.HasSuffix(files[0], "."+host) {
		t.Errorf("%s does not end with the host name %s", files[0], host)
	}
	events := eventtest.Read(t, files[0])
	if len(events) == 0 || events[0].FileVersion != "brain.Event:2" {
		t.Fatalf("the first event is not the file version: %+v", events)
	}
	type point struct {
		step  int64
		value float32
	}
	got := map[string][]point{}
	for _, e := range events[1:] {
		if e.WallTime < 1e9 {
			t.Errorf("wall time %v is not a Unix time", e.WallTime)
		}
		for tag, v := range e.Values {
			got[tag] = append(got[tag], point{e.Step, v})
		}
	}
	want := map[string][]point{
		"losses/epoch":                  {{1, 1}, {2, 1}, {3, 2}, {4, 2}},
		"losses/total_loss":             {{1, 1}, {2, 0.5}, {3, 1.0 / 3}, {4, 0.25}},
		"losses/lr_0":                   {{3, 0.005}, {4, 0.005}},
		"accuracies_val/precision_at_1": {{1, 0.1}, {2, 0.2}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("scalars\n%v\nwant\n%v", got, want)
	}
}

// TFRecord's checksum: CRC-32C, whose check value for "123456789" is
// 0xe3069283, rotated right by 15 bits plus 0xa282ead8.
func TestMaskedCRC(t *testing.T) {
	if got := maskedCRC([]byte("123456789")); got != 0xc78ab0e5 {
		t.Errorf("maskedCRC = %#x, want 0xc78ab0e5", got)
	}
}

// BenchmarkRecordsFlush flushes records of 100,000 iterations and 50,000
// evaluations: the tables are rewritten whole as CSV and SQLite, the new
// epoch appended as events.
func BenchmarkRecordsFlush(b *testing.B) {
	r, losses, acc := newFoldRecords(b.TempDir())
	fill(losses, acc, 1, 50000, 0)
	if err := r.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fill(losses, acc, 50001+i, 50001+i, 0)
		if err := r.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}
