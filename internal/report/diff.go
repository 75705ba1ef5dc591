package report

import (
	"cmp"
	"math"
	"slices"

	"github.com/bench-ml/bench/internal/eval"
)

// DifferencesTable answers "by how much, with what confidence": for each
// dataset and metric, the best method's lead over the runner-up on the
// test set, paired by fold (each fold's models are tested on the same
// images, so the fold-to-fold spread that both share cancels), as mean ±
// 95% CI half-width in percentage points. The lead is significant at 95%
// when the interval excludes 0. Methods whose folds differ are not paired.
func DifferencesTable(exps []*Experiment, metrics []string) Table {
	t := Table{Header: []string{"dataset", "metric", "best", "runner-up", "lead (pp)", "significant at 95%"}, Lead: 4,
		Note: "lead: mean ± 95% CI half-width (n folds) of the per-fold difference"}
	for _, d := range distinct(exps, func(e *Experiment) string { return e.Dataset }) {
		for _, m := range metrics {
			var ranked []*Experiment
			for _, e := range exps {
				if _, ok := e.Results.Separated[m]; ok && e.Dataset == d && e.Results.Test != nil {
					ranked = append(ranked, e)
				}
			}
			if len(ranked) < 2 {
				continue
			}
			slices.SortStableFunc(ranked, func(a, b *Experiment) int {
				return cmp.Compare(b.Results.Separated[m].Mean, a.Results.Separated[m].Mean)
			})
			best, second := ranked[0], ranked[1]
			row := []Cell{text(d), text(shortName(m)), text(rowLabel(best, exps)), text(rowLabel(second, exps))}
			diffs, ok := paired(best, second, m)
			if !ok {
				t.Rows = append(t.Rows, append(row, text("not paired: other folds"), text(absent)))
				continue
			}
			s := eval.Aggregate(diffs)["d"]
			lead := interval(s)
			significant := "n/a (1 fold)"
			if !math.IsNaN(s.HalfWidth) {
				significant = map[bool]string{true: "yes", false: "no"}[math.Abs(s.Mean) > s.HalfWidth]
			}
			t.Rows = append(t.Rows, append(row, text(lead.Text), text(significant)))
		}
	}
	t.Caption = "Differences on the test set, separated results: for each dataset and metric, the best method's lead over the " +
		"runner-up, paired by fold, in percentage points: " + eval.Interval + ". Significant: the interval excludes 0."
	return t
}

// paired is the per-fold differences a - b of metric m, keyed "d"; false
// when the experiments' split schemes differ.
func paired(a, b *Experiment, m string) ([]map[string]float64, bool) {
	fa, fb := a.Results.Test.Folds, b.Results.Test.Folds
	if len(fa) != len(fb) || len(fa) == 0 {
		return nil, false
	}
	out := make([]map[string]float64, len(fa))
	for i := range fa {
		va, okA := fa[i].Metrics[m]
		vb, okB := fb[i].Metrics[m]
		if fa[i].SplitScheme != fb[i].SplitScheme || !okA || !okB {
			return nil, false
		}
		out[i] = map[string]float64{"d": va - vb}
	}
	return out, true
}
