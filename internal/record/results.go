package record

import (
	"errors"
	"io/fs"
	"maps"

	"path/filepath"
	"slices"

	"github.com/bench-ml/bench/internal/eval"
)

// Results are an experiment's test results in meta_logs, the one
// description of those files: bench run writes them, bench report, bench
// embed and the databases read them.
//
//	separated.{csv,json}     Separated: each metric over folds (mean, SE, 95% CI)
//	concatenated.{csv,json}  Concatenated: the folds' embeddings side by side
//	untrained.{csv,json}     Untrained: the untrained model (check_untrained_accuracy)
//	test.json                EmbeddingSize and Folds: each fold's best model
type Results struct {
	Separated    map[string]eval.Summary
	Concatenated map[string]float64
	Untrained    map[string]float64
	Test         *TestResults
}

// TestResults are the test metrics of each fold's best model.
type TestResults struct {
	// EmbeddingSize is the width of one fold's embeddings (of the trunk's
	// output with use_trunk_output); concatenated, it is times the folds.
	EmbeddingSize int `json:"embedding_size"`
	// Folds are in split scheme order.
	Folds []FoldResult `json:"folds"`
}

// FoldResult is one fold's test metrics.
type FoldResult struct {
	SplitScheme string             `json:"split_scheme"`
	Metrics     map[string]float64 `json:"metrics"`
}

// WriteResults writes the results that are not nil into the meta_logs
// folder dir, each file atomically; test.json last, so that its presence
// means the others were written.
func WriteResults(dir string, r Results) error {
	if r.Separated != nil {
		tab := NewTable(filepath.Join(dir, "separated.csv"))
		for _, k := range slices.Sorted(maps.Keys(r.Separated)) {
			v := r.Separated[k]
			tab.AddLabeled("metric", k, map[string]float64{"mean": v.Mean, "stderr": v.StdErr,
				"ci95_halfwidth": v.HalfWidth, "ci95_low": v.CILow, "ci95_high": v.CIHigh, "n": float64(v.N)},
				"mean", "stderr", "ci95_halfwidth", "ci95_low", "ci95_high", "n")
		}
		if err := tab.Flush(); err != nil {
			return err
		}
		if err := WriteJSON(filepath.Join(dir, "separated.json"), r.Separated); err != nil {
			return err
		}
	}
	for name, m := range map[string]map[string]float64{"concatenated": r.Concatenated, "untrained": r.Untrained} {
		if m == nil {
			continue
		}
		tab := NewTable(filepath.Join(dir, name+".csv"))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			tab.AddLabeled("metric", k, map[string]float64{"value": m[k]}, "value")
		}
		if err := tab.Flush(); err != nil {
			return err
		}
		if err := WriteJSON(filepath.Join(dir, name+".json"), m); err != nil {
			return err
		}
	}
	if r.Test != nil {
		return WriteJSON(filepath.Join(dir, "test.json"), r.Test)
	}
	return nil
}

// ReadResults reads the results in the meta_logs folder dir; a missing
// file leaves its field nil (an unfinished experiment).
func ReadResults(dir string) (Results, error) {
	var r Results
	for file, v := range map[string]any{
		"separated.json": &r.Separated, "concatenated.json": &r.Concatenated,
		"untrained.json": &r.Untrained, "test.json": &r.Test,
	} {
		err := ReadJSON(filepath.Join(dir, file), v)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Results{}, err
		}
	}
	return r, nil
}
