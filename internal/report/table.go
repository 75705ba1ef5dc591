package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// headline are the metrics a metric-learning comparison reads first, in
// the order the tables show them; recall_at_k follow in order of k, then
// any other metric by name.
var headline = []string{"mean_average_precision_at_r", "r_precision", "precision_at_1"}

// shortNames label metric columns in the Markdown table.
var shortNames = map[string]string{
	"mean_average_precision_at_r": "MAP@R",
	"r_precision":                 "R-precision",
	"precision_at_1":              "P@1",
	"mean_average_precision":      "MAP",
	"mean_reciprocal_rank":        "MRR",
}

// Markers for values the Markdown table cannot show.
const (
	missing = "missing" // the experiment has no results yet
	absent  = "—"       // the experiment does not report this metric
)

// metrics lists every metric any experiment reports, in table order.
func metrics(exps []*Experiment) []string {
	seen := map[string]bool{}
	for _, e := range exps {
		for k := range e.Separated {
			seen[k] = true
		}
		for k := range e.Concatenated {
			seen[k] = true
		}
	}
	rank := func(m string) (int, int) {
		if i := slices.Index(headline, m); i >= 0 {
			return 0, i
		}
		if k, ok := recallK(m); ok {
			return 1, k
		}
		return 2, 0
	}
	names := slices.Sorted(maps.Keys(seen))
	slices.SortStableFunc(names, func(a, b string) int {
		ga, ia := rank(a)
		gb, ib := rank(b)
		if ga != gb {
			return ga - gb
		}
		return ia - ib
	})
	return names
}

func recallK(m string) (int, bool) {
	s, ok := strings.CutPrefix(m, "recall_at_")
	if !ok {
		return 0, false
	}
	k, err := strconv.Atoi(s)
	return k, err == nil
}

func shortName(m string) string {
	if s, ok := shortNames[m]; ok {
		return s
	}
	if k, ok := recallK(m); ok {
		return fmt.Sprintf("R@%d", k)
	}
	return m
}

// Markdown is the comparison table: one row per experiment, its metric loss
// and miner, the number of folds, then every metric on the test set as
// "separated" (mean ± 95% CI half-width over folds) and "concatenated".
func Markdown(exps []*Experiment) string {
	names := metrics(exps)
	header := []string{"experiment", "metric loss", "miner", "folds"}
	for _, m := range names {
		header = append(header, shortName(m))
	}
	for _, m := range names {
		header = append(header, shortName(m)+" concat.")
	}
	var b strings.Builder
	writeRow := func(cells []string) {
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	writeRow(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
	}
	writeRow(sep)
	for _, e := range exps {
		row := []string{escape(e.Name), e.MetricLoss, e.Miner, strconv.Itoa(len(e.Folds))}
		for _, m := range names {
			row = append(row, separatedCell(e, m))
		}
		for _, m := range names {
			row = append(row, concatenatedCell(e, m))
		}
		writeRow(row)
	}
	return b.String()
}

func separatedCell(e *Experiment, m string) string {
	if e.Separated == nil {
		return missing
	}
	s, ok := e.Separated[m]
	switch {
	case !ok:
		return absent
	case math.IsNaN(s.HalfWidth):
		return fmt.Sprintf("%.4f", s.Mean)
	default:
		return fmt.Sprintf("%.4f ± %.4f", s.Mean, s.HalfWidth)
	}
}

func concatenatedCell(e *Experiment, m string) string {
	if e.Concatenated == nil {
		return missing
	}
	v, ok := e.Concatenated[m]
	if !ok {
		return absent
	}
	return fmt.Sprintf("%.4f", v)
}

// escape keeps a folder name from breaking the Markdown table.
func escape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// CSV is the table of Markdown for machines: full precision, the PML metric
// names, and empty cells where a value is missing or absent.
func CSV(exps []*Experiment) ([]byte, error) {
	names := metrics(exps)
	header := []string{"experiment", "path", "metric_loss", "miner", "folds"}
	for _, m := range names {
		header = append(header, "separated_"+m+"_mean", "separated_"+m+"_ci95_halfwidth")
	}
	for _, m := range names {
		header = append(header, "concatenated_"+m)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(header)
	for _, e := range exps {
		row := []string{e.Name, e.Path, e.MetricLoss, e.Miner, strconv.Itoa(len(e.Folds))}
		for _, m := range names {
			s, ok := e.Separated[m]
			if !ok {
				row = append(row, "", "")
				continue
			}
			row = append(row, formatFloat(s.Mean), formatFloat(s.HalfWidth))
		}
		for _, m := range names {
			v, ok := e.Concatenated[m]
			if !ok {
				row = append(row, "")
				continue
			}
			row = append(row, formatFloat(v))
		}
		w.Write(row)
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// formatFloat writes v exactly, and NaN (no spread with one fold) as empty.
func formatFloat(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
