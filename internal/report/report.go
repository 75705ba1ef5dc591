// Package report compares finished experiments (`bench report`): a table of
// their test results and their configs' metric loss and miner, and plots
// of each fold's validation metric and training loss.
//
// An unfinished experiment (no results in meta_logs yet) is still reported:
// its curves are plotted as far as they were recorded and its results are
// marked "missing", so a running experiment can be watched; the caller
// warns about it. A folder that is not an experiment is an error.
package report

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/bench-ml/bench/internal/record"
)

// Legend explains the cells of the Markdown table.
const Legend = `Results on the test set. A metric column holds the "separated" result, the mean over folds ± the half-width of its 95% confidence interval (the mean alone with one fold); a "concat." column the result of the folds' embeddings concatenated. "` + missing + `": the experiment is unfinished; "` + absent + `": the experiment does not report that metric.`

// Write writes the report into dir: report.md (the table, its legend and
// the plots), report.csv and the PNG plots. Every file is written
// atomically.
func Write(dir string, exps []*Experiment) error {
	if err := checkNames(exps); err != nil {
		return err
	}
	var md strings.Builder
	md.WriteString("# bench report\n\n" + Markdown(exps) + "\n" + Legend + "\n")
	for _, e := range exps {
		files, err := Plot(e, dir)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Path, err)
		}
		fmt.Fprintf(&md, "\n## %s\n\n`%s`: %s, miner %s\n", e.Name, e.Path, e.MetricLoss, e.Miner)
		for _, f := range files {
			fmt.Fprintf(&md, "\n![%s](%s)\n", strings.TrimSuffix(f, ".png"), f)
		}
	}
	if err := record.WriteFileAtomic(filepath.Join(dir, "report.md"), []byte(md.String())); err != nil {
		return err
	}
	data, err := CSV(exps)
	if err != nil {
		return err
	}
	return record.WriteFileAtomic(filepath.Join(dir, "report.csv"), data)
}

// checkNames refuses two experiments with the same folder name, whose plot
// files would overwrite each other.
func checkNames(exps []*Experiment) error {
	seen := map[string]string{}
	for _, e := range exps {
		if other, ok := seen[e.Name]; ok {
			return fmt.Errorf("experiments %s and %s have the same name %q: their plots would overwrite each other; report them separately", other, e.Path, e.Name)
		}
		seen[e.Name] = e.Path
	}
	return nil
}
