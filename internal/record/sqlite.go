package record

import (
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // pure Go: no cgo, builds on a fresh machine
)

// writeSQLite replaces the tables of the database at path by tables, in one
// transaction: a killed or failed write leaves the previous flush whole.
// Rewriting rather than appending keeps the database a copy of the CSV
// files, so a resumed run's truncation carries over without a rule of its own.
func writeSQLite(path string, tables []*namedTable) error {
	return InTransaction(path, func(tx *sql.Tx) error {
		for _, t := range tables {
			if err := writeSQLiteTable(tx, t); err != nil {
				return fmt.Errorf("table %s: %w", t.name, err)
			}
		}
		return nil
	})
}

// InTransaction runs fn in one transaction on the database at path,
// committed if fn succeeds, else rolled back; errors name the file. A
// database may be shared by runs writing at once (a global database): a
// transaction takes the write lock when it begins (immediate), so that two
// cannot deadlock upgrading a read lock, and waits for the other's rather
// than fail.
func InTransaction(path string, fn func(tx *sql.Tx) error) (err error) {
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(60000)&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func writeSQLiteTable(tx *sql.Tx, t *namedTable) error {
	name := quoteIdent(t.name)
	if _, err := tx.Exec("DROP TABLE IF EXISTS " + name); err != nil {
		return err
	}
	if len(t.columns) == 0 {
		return nil
	}
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = quoteIdent(c) + " " + sqlType(c)
	}
	if _, err := tx.Exec("CREATE TABLE " + name + " (" + strings.Join(cols, ", ") + ")"); err != nil {
		return err
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")
	insert, err := tx.Prepare("INSERT INTO " + name + " VALUES (" + marks + ")")
	if err != nil {
		return err
	}
	defer insert.Close()
	args := make([]any, len(cols))
	for _, r := range t.rows {
		for i := range args {
			args[i] = nil // a row written before its column appeared
			if i < len(r) {
				args[i] = sqlValue(r[i], t.columns[i])
			}
		}
		if _, err := insert.Exec(args...); err != nil {
			return err
		}
	}
	return nil
}

// integerColumns count steps: INTEGER in SQLite, so that they compare and
// join as integers.
var integerColumns = []string{"epoch", "iteration"}

func sqlType(column string) string {
	if slices.Contains(integerColumns, column) {
		return "INTEGER"
	}
	return "REAL"
}

// sqlValue is a CSV cell as SQLite stores it: empty is NULL, a step an
// integer, and text that is not a number (a hand-edited file) is kept as
// text, not dropped.
func sqlValue(cell, column string) any {
	if cell == "" {
		return nil
	}
	v, err := strconv.ParseFloat(cell, 64)
	switch {
	case err != nil:
		return cell
	case sqlType(column) == "INTEGER" && v == math.Trunc(v):
		return int64(v)
	}
	return v
}

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
