package expfolder

import (
	"database/sql"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/record"
)

// TestNaNIsNull writes results holding NaN and ±Inf and reads them back:
// NaN is null in the file, not dropped, and NaN again in memory.
func TestNaNIsNull(t *testing.T) {
	dir := t.TempDir()
	nan := math.NaN()
	in := Results{
		Separated:    eval.Aggregate([]map[string]float64{{"precision_at_1": 0.3, "AMI": nan}}),
		Concatenated: map[string]float64{"precision_at_1": nan, "r_precision": 0.25},
		Untrained:    map[string]float64{"precision_at_1": math.Inf(1)},
		Test: &TestResults{EmbeddingSize: 4, Folds: []FoldResult{
			{SplitScheme: "s0", Metrics: Metrics{"precision_at_1": nan}}}},
	}
	if err := WriteResults(dir, in); err != nil {
		t.Fatal(err)
	}
	sep, _ := os.ReadFile(filepath.Join(dir, "separated.json"))
	for _, want := range []string{`"schema_version": 1`, `"stderr": null`, `"AMI": {`, `"mean": null`} {
		if !strings.Contains(string(sep), want) {
			t.Errorf("separated.json has no %s:\n%s", want, sep)
		}
	}
	cat, _ := os.ReadFile(filepath.Join(dir, "concatenated.json"))
	if !strings.Contains(string(cat), `"precision_at_1": null`) {
		t.Errorf("concatenated.json drops or mangles NaN:\n%s", cat)
	}
	out, err := ReadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s := out.Separated["precision_at_1"]; s.Mean != 0.3 || s.N != 1 || !math.IsNaN(s.StdErr) || !math.IsNaN(s.CIHigh) {
		t.Errorf("separated precision_at_1 read back as %+v", s)
	}
	if !math.IsNaN(out.Separated["AMI"].Mean) || !math.IsNaN(out.Concatenated["precision_at_1"]) ||
		out.Concatenated["r_precision"] != 0.25 || !math.IsInf(out.Untrained["precision_at_1"], 1) ||
		!math.IsNaN(out.Test.Folds[0].Metrics["precision_at_1"]) || out.Test.EmbeddingSize != 4 {
		t.Errorf("read back as %+v", out)
	}
}

// TestUnknownVersion: every reader refuses a version it does not know, in
// one line naming the file.
func TestUnknownVersion(t *testing.T) {
	dir := t.TempDir()
	f := &record.Folder{Path: dir}
	write := func(name, text string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := record.WriteFileAtomic(path, []byte(text)); err != nil {
			t.Fatal(err)
		}
		return path
	}
	check := func(path string, err error) {
		t.Helper()
		want := path + ": schema version 7 unknown (this bench reads 1)"
		if err == nil || err.Error() != want {
			t.Errorf("got %v, want %s", err, want)
		}
	}
	path := write("splits.json", `{"schema_version": 7, "split_schemes": "whatever version 7 holds"}`)
	_, err := ReadSplits(dir)
	check(path, err)
	path = write("s0/done.json", `{"schema_version": 7}`)
	_, err = ReadDone(f, "s0")
	check(path, err)
	path = write("meta_logs/separated.json", `{"schema_version": 7, "metrics": []}`)
	_, err = ReadResults(f.MetaLogsDir())
	check(path, err)
	path = CheckpointPath(f, "s0", "best")
	if err := record.WriteCheckpoint(path, &record.Checkpoint{State: []byte(`{"schema_version": 7}`)}); err != nil {
		t.Fatal(err)
	}
	_, _, err = ReadCheckpoint(path, "best")
	check(path+" state", err)

	db := filepath.Join(dir, "global.db")
	if err := record.InTransaction(db, func(tx *sql.Tx) error {
		_, err := tx.Exec("PRAGMA user_version = 7")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	err = WriteExperimentDB(smallExperiment(t, dir, "x"), []string{"s0", "s1"}, nil, db)
	check(db, err)
}

// TestUnversionedFiles reads the files of a bench before schema versions
// as version 1: a bare splits array, flat metric maps, a flat done.json.
func TestUnversionedFiles(t *testing.T) {
	dir := t.TempDir()
	f := &record.Folder{Path: dir}
	for name, text := range map[string]string{
		"splits.json":                 `[{"name": "s0", "train": [1, 2], "val": [3], "test": [4]}]`,
		"s0/done.json":                `{"epoch": 4, "best_epoch": 3, "best_metric": 0.5}`,
		"meta_logs/separated.json":    `{"precision_at_1": {"mean": 0.5, "stderr": null, "ci95_halfwidth": null, "ci95_low": null, "ci95_high": null, "n": 1}}`,
		"meta_logs/concatenated.json": `{"precision_at_1": 0.6}`,
		"meta_logs/test.json":         `{"embedding_size": 8, "folds": [{"split_scheme": "s0", "metrics": {"precision_at_1": 0.5}}]}`,
	} {
		if err := record.WriteFileAtomic(filepath.Join(dir, name), []byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	splits, err := ReadSplits(dir)
	if err != nil || !reflect.DeepEqual(splits, []data.Split{{Name: "s0", Train: []int{1, 2}, Val: []int{3}, Test: []int{4}}}) {
		t.Errorf("splits %+v, %v", splits, err)
	}
	done, err := ReadDone(f, "s0")
	if err != nil || *done != (FoldState{Epoch: 4, BestEpoch: 3, BestMetric: 0.5}) {
		t.Errorf("done %+v, %v", done, err)
	}
	res, err := ReadResults(f.MetaLogsDir())
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Separated["precision_at_1"]; s.Mean != 0.5 || s.N != 1 || !math.IsNaN(s.HalfWidth) ||
		res.Concatenated["precision_at_1"] != 0.6 || res.Test.Folds[0].Metrics["precision_at_1"] != 0.5 {
		t.Errorf("results %+v", res)
	}
}

// TestCheckpointStateBestMetric: a fold whose every evaluation was NaN
// keeps best_metric -Inf, which its checkpoint must hold; a state without
// best_metric is refused.
func TestCheckpointStateBestMetric(t *testing.T) {
	f := &record.Folder{Path: t.TempDir()}
	path := CheckpointPath(f, "s0", "latest")
	c, err := EncodeCheckpoint(&CheckpointState{Fold: FoldState{Epoch: 1, BestMetric: math.Inf(-1)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := record.WriteCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}
	p, done, started, err := FoldProgress(f, "s0")
	if err != nil || done || !started || p.Epoch != 1 || !math.IsInf(p.BestMetric, -1) {
		t.Errorf("progress %+v done %v started %v, %v", p, done, started, err)
	}
	if err := record.WriteCheckpoint(path, &record.Checkpoint{State: []byte(`{"fold": {"epoch": 1}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadCheckpoint(path, "latest"); err == nil || !strings.Contains(err.Error(), "best_metric") {
		t.Errorf("a state without best_metric: %v", err)
	}
}
