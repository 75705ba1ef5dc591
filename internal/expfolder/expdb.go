package expfolder

import (
	"database/sql"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bench-ml/bench/internal/record"
)

// ExperimentDB is the name of an experiment's database in its folder.
const ExperimentDB = "experiment.db"

// Schema is the experiment database (README "The experiment database"):
// long tables, one row per value, so that a global database holds
// experiments whatever their losses, miners and metrics. fold is the split
// scheme's position (0, 1, ...), split_scheme its folder name.
const Schema = `
CREATE TABLE IF NOT EXISTS experiments (
	experiment TEXT PRIMARY KEY, path TEXT NOT NULL, embedding_size INTEGER, updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hyperparameters (
	experiment TEXT NOT NULL, name TEXT NOT NULL, value);
CREATE TABLE IF NOT EXISTS iterations (
	experiment TEXT NOT NULL, fold INTEGER NOT NULL, split_scheme TEXT NOT NULL,
	epoch INTEGER NOT NULL, iteration INTEGER NOT NULL, name TEXT NOT NULL, value REAL);
CREATE TABLE IF NOT EXISTS accuracies (
	experiment TEXT NOT NULL, fold INTEGER NOT NULL, split_scheme TEXT NOT NULL,
	split TEXT NOT NULL, epoch INTEGER NOT NULL, metric TEXT NOT NULL, value REAL);
CREATE TABLE IF NOT EXISTS test_results (
	experiment TEXT NOT NULL, fold INTEGER NOT NULL, split_scheme TEXT NOT NULL, metric TEXT NOT NULL, value REAL);
CREATE TABLE IF NOT EXISTS aggregates (
	experiment TEXT NOT NULL, kind TEXT NOT NULL, metric TEXT NOT NULL,
	mean REAL, stderr REAL, ci95_halfwidth REAL, ci95_low REAL, ci95_high REAL, n INTEGER);
CREATE INDEX IF NOT EXISTS iterations_by_fold ON iterations (experiment, fold, name);
CREATE INDEX IF NOT EXISTS accuracies_by_fold ON accuracies (experiment, fold, split, metric);
`

// experimentTables are the tables holding rows of an experiment.
var experimentTables = []string{"experiments", "hyperparameters", "iterations", "accuracies", "test_results", "aggregates"}

// WriteExperimentDB writes what the experiment folder holds (the records
// of every split scheme, in order, and the results in meta_logs) with its
// resolved config hparams into its experiment.db and, when global is not
// "", into the database global, replacing the experiment's earlier rows
// there in one transaction. It reads the files rather than the trainer's
// memory, so a resumed run's truncated records carry over.
func WriteExperimentDB(f *record.Folder, schemes []string, hparams map[string]any, global string) error {
	rows, err := experimentRows(f, schemes, hparams)
	if err != nil {
		return err
	}
	paths := []string{filepath.Join(f.Path, ExperimentDB)}
	if global != "" {
		paths = append(paths, global)
	}
	for _, p := range paths {
		if err := writeExperimentRows(p, rows); err != nil {
			return err
		}
	}
	return nil
}

// dbRows are the rows of one experiment, by table.
type dbRows struct {
	name, path string
	tables     map[string][][]any
}

func (r *dbRows) add(table string, values ...any) {
	r.tables[table] = append(r.tables[table], append([]any{r.name}, values...))
}

func experimentRows(f *record.Folder, schemes []string, hparams map[string]any) (*dbRows, error) {
	abs, err := filepath.Abs(f.Path)
	if err != nil {
		return nil, err
	}
	r := &dbRows{name: filepath.Base(abs), path: abs, tables: map[string][][]any{}}
	for _, k := range slices.Sorted(maps.Keys(hparams)) {
		r.add("hyperparameters", k, hparams[k])
	}
	for fold, scheme := range schemes {
		dir := f.RecordsDir(scheme)
		losses, err := record.LoadTable(filepath.Join(dir, "losses.csv"))
		if err != nil {
			return nil, err
		}
		err = losses.Each([]string{"epoch", "iteration"}, func(key []int64, name string, v float64) {
			r.add("iterations", fold, scheme, key[0], key[1], name, v)
		})
		if err != nil {
			return nil, err
		}
		accs, err := filepath.Glob(filepath.Join(dir, "accuracies_*.csv"))
		if err != nil {
			return nil, err
		}
		for _, file := range accs {
			split := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "accuracies_"), ".csv")
			t, err := record.LoadTable(file)
			if err != nil {
				return nil, err
			}
			err = t.Each([]string{"epoch"}, func(key []int64, metric string, v float64) {
				r.add("accuracies", fold, scheme, split, key[0], metric, v)
			})
			if err != nil {
				return nil, err
			}
		}
	}
	res, err := ReadResults(f.MetaLogsDir())
	if err != nil {
		return nil, err
	}
	var embSize any
	if res.Test != nil {
		embSize = res.Test.EmbeddingSize
		for _, fr := range res.Test.Folds {
			fold := slices.Index(schemes, fr.SplitScheme)
			for _, m := range slices.Sorted(maps.Keys(fr.Metrics)) {
				r.add("test_results", fold, fr.SplitScheme, m, fr.Metrics[m])
			}
		}
	}
	for _, m := range slices.Sorted(maps.Keys(res.Separated)) {
		s := res.Separated[m]
		r.add("aggregates", "separated", m, s.Mean, null(s.StdErr), null(s.HalfWidth), null(s.CILow), null(s.CIHigh), s.N)
	}
	for _, m := range slices.Sorted(maps.Keys(res.Concatenated)) {
		r.add("aggregates", "concatenated", m, res.Concatenated[m], nil, nil, nil, nil, len(schemes))
	}
	for _, m := range slices.Sorted(maps.Keys(res.Untrained)) {
		r.add("aggregates", "untrained", m, res.Untrained[m], nil, nil, nil, nil, 1)
	}
	r.add("experiments", r.path, embSize, time.Now().UTC().Format(time.RFC3339))
	return r, nil
}

// null is v for SQL, NaN (no spread with one fold) as NULL.
func null(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

// writeExperimentRows replaces the experiment's rows in the database at
// path, in one transaction. Another experiment of the same name from
// another folder is an error: a global database names experiments
// uniquely, as powerful_benchmarker's did.
func writeExperimentRows(path string, r *dbRows) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return record.InTransaction(path, func(tx *sql.Tx) error { return replaceRows(tx, r) })
}

func replaceRows(tx *sql.Tx, r *dbRows) error {
	// The database's schema version is SQLite's user_version; a database
	// of the bench before versions has 0, read as 1.
	var version int
	if err := tx.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version != 0 && version != Version {
		return fmt.Errorf("schema version %d unknown (this bench reads %d)", version, Version)
	}
	if _, err := tx.Exec(Schema + fmt.Sprintf("PRAGMA user_version = %d;", Version)); err != nil {
		return err
	}
	var other string
	switch err := tx.QueryRow("SELECT path FROM experiments WHERE experiment = ?", r.name).Scan(&other); {
	case err == sql.ErrNoRows:
	case err != nil:
		return err
	case other != r.path:
		return fmt.Errorf("it holds another experiment named %s (%s); give this one another --experiment_name or use another --global_db_path", r.name, other)
	}
	for _, table := range experimentTables {
		if _, err := tx.Exec("DELETE FROM "+table+" WHERE experiment = ?", r.name); err != nil {
			return err
		}
		rows := r.tables[table]
		if len(rows) == 0 {
			continue
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(rows[0])), ", ")
		insert, err := tx.Prepare("INSERT INTO " + table + " VALUES (" + marks + ")")
		if err != nil {
			return err
		}
		for _, row := range rows {
			if _, err := insert.Exec(row...); err != nil {
				insert.Close()
				return fmt.Errorf("table %s: %w", table, err)
			}
		}
		insert.Close()
	}
	return nil
}
