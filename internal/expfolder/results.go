package expfolder

import (
	"errors"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/record"
)

// Results are an experiment's test results in meta_logs: bench run and
// bench eval write them; bench report, bench embed's checks and the
// databases read them. A nil field has no file.
//
//	separated.{csv,json}          Separated: each metric over folds (mean, SE, 95% CI)
//	separated_<split>.json        SeparatedSplits: the same on splits_to_eval (bench eval)
//	concatenated.{csv,json}       Concatenated: the folds' embeddings side by side
//	untrained.{csv,json}          Untrained: the untrained model (check_untrained_accuracy)
//	untrained_trunk.json          UntrainedTrunk: its trunk alone (bench eval)
//	test.json                     Test: each fold's best model, the embedding size
type Results struct {
	Separated       map[string]eval.Summary
	SeparatedSplits map[string]map[string]eval.Summary // by split
	Concatenated    map[string]float64
	Untrained       map[string]float64
	UntrainedTrunk  map[string]float64
	Test            *TestResults
}

// TestResults are meta_logs/test.json: the test metrics of each fold's best
// model.
type TestResults struct {
	Header
	// EmbeddingSize is the width of one fold's embeddings (of the trunk's
	// output with use_trunk_output); concatenated, it is times the folds.
	EmbeddingSize int `json:"embedding_size"`
	// Folds are in split scheme order.
	Folds []FoldResult `json:"folds"`
}

// FoldResult is one fold's test metrics.
type FoldResult struct {
	SplitScheme string  `json:"split_scheme"`
	Metrics     Metrics `json:"metrics"`
}

// metricsFile is a file of metric values: concatenated.json,
// untrained.json, untrained_trunk.json, <split_scheme>/test.json.
type metricsFile struct {
	Header
	Metrics Metrics `json:"metrics"`
}

func (metricsFile) legacyField() string { return "metrics" }

// summariesFile is separated.json or separated_<split>.json: a summary per
// metric, under the column names of separated.csv.
type summariesFile struct {
	Header
	Metrics map[string]Metrics `json:"metrics"`
}

func (summariesFile) legacyField() string { return "metrics" }

// summaryColumns are a summary's fields in separated.csv and
// separated.json.
var summaryColumns = []string{"mean", "stderr", "ci95_halfwidth", "ci95_low", "ci95_high", "n"}

func summaryRow(s eval.Summary) map[string]float64 {
	return map[string]float64{"mean": s.Mean, "stderr": s.StdErr, "ci95_halfwidth": s.HalfWidth,
		"ci95_low": s.CILow, "ci95_high": s.CIHigh, "n": float64(s.N)}
}

func summaryOf(r map[string]float64) eval.Summary {
	return eval.Summary{Mean: r["mean"], StdErr: r["stderr"], HalfWidth: r["ci95_halfwidth"],
		CILow: r["ci95_low"], CIHigh: r["ci95_high"], N: int(r["n"])}
}

// WriteResults writes the results that are not nil into the meta_logs
// folder dir, each file atomically; test.json last, so that its presence
// means the others were written.
func WriteResults(dir string, r Results) error {
	if r.Separated != nil {
		if err := writeSummaries(dir, "separated", r.Separated, true); err != nil {
			return err
		}
	}
	for split, s := range r.SeparatedSplits {
		if err := writeSummaries(dir, "separated_"+split, s, false); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		m    map[string]float64
		csv  bool
	}{{"concatenated", r.Concatenated, true}, {"untrained", r.Untrained, true}, {"untrained_trunk", r.UntrainedTrunk, false}} {
		if f.m == nil {
			continue
		}
		if f.csv {
			tab := record.NewTable(filepath.Join(dir, f.name+".csv"))
			for _, k := range slices.Sorted(maps.Keys(f.m)) {
				tab.AddLabeled("metric", k, map[string]float64{"value": f.m[k]}, "value")
			}
			if err := tab.Flush(); err != nil {
				return err
			}
		}
		if err := WriteJSON(filepath.Join(dir, f.name+".json"), &metricsFile{Metrics: f.m}); err != nil {
			return err
		}
	}
	if r.Test != nil {
		return WriteJSON(filepath.Join(dir, "test.json"), r.Test)
	}
	return nil
}

func writeSummaries(dir, name string, s map[string]eval.Summary, csv bool) error {
	file := summariesFile{Metrics: map[string]Metrics{}}
	tab := record.NewTable(filepath.Join(dir, name+".csv"))
	for _, k := range slices.Sorted(maps.Keys(s)) {
		row := summaryRow(s[k])
		file.Metrics[k] = row
		tab.AddLabeled("metric", k, row, summaryColumns...)
	}
	if csv {
		if err := tab.Flush(); err != nil {
			return err
		}
	}
	return WriteJSON(filepath.Join(dir, name+".json"), &file)
}

// ReadResults reads the results in the meta_logs folder dir; a missing
// file leaves its field nil (an unfinished experiment).
func ReadResults(dir string) (Results, error) {
	var r Results
	var err error
	if r.Separated, err = readSummaries(filepath.Join(dir, "separated.json")); err != nil {
		return Results{}, err
	}
	splits, err := filepath.Glob(filepath.Join(dir, "separated_*.json"))
	if err != nil {
		return Results{}, err
	}
	for _, path := range splits {
		s, err := readSummaries(path)
		if err != nil {
			return Results{}, err
		}
		if r.SeparatedSplits == nil {
			r.SeparatedSplits = map[string]map[string]eval.Summary{}
		}
		r.SeparatedSplits[strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "separated_"), ".json")] = s
	}
	for name, m := range map[string]*map[string]float64{"concatenated": &r.Concatenated, "untrained": &r.Untrained,
		"untrained_trunk": &r.UntrainedTrunk} {
		if *m, err = readMetrics(filepath.Join(dir, name+".json")); err != nil {
			return Results{}, err
		}
	}
	var test TestResults
	switch err := ReadJSON(filepath.Join(dir, "test.json"), &test); {
	case err == nil:
		r.Test = &test
	case !errors.Is(err, fs.ErrNotExist):
		return Results{}, err
	}
	return r, nil
}

func readSummaries(path string) (map[string]eval.Summary, error) {
	var f summariesFile
	if err := ReadJSON(path, &f); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	out := make(map[string]eval.Summary, len(f.Metrics))
	for k, row := range f.Metrics {
		out[k] = summaryOf(row)
	}
	return out, nil
}

// readMetrics reads a file of metric values; nil when it is missing.
func readMetrics(path string) (map[string]float64, error) {
	var f metricsFile
	if err := ReadJSON(path, &f); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	if f.Metrics == nil {
		return map[string]float64{}, nil
	}
	return f.Metrics, nil
}

// WriteFoldTest writes <split_scheme>/test.json: the test metrics of a
// fold's best model, which its own job computed (bench run --fold).
func WriteFoldTest(f *record.Folder, scheme string, m map[string]float64) error {
	return WriteJSON(filepath.Join(f.Path, scheme, "test.json"), &metricsFile{Metrics: m})
}
