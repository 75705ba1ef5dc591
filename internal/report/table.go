package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/bench-ml/bench/internal/eval"
)

// DefaultMetrics are the paper's columns: R@1 is not among them, as it
// always equals P@1.
var DefaultMetrics = []string{"precision_at_1", "r_precision", "mean_average_precision_at_r"}

// shortNames label metric columns.
var shortNames = map[string]string{
	"mean_average_precision_at_r": "MAP@R",
	"r_precision":                 "R-Precision",
	"precision_at_1":              "P@1",
	"mean_average_precision":      "MAP",
	"mean_reciprocal_rank":        "MRR",
}

func shortName(m string) string {
	if s, ok := shortNames[m]; ok {
		return s
	}
	if k, ok := strings.CutPrefix(m, "recall_at_"); ok {
		return "R@" + k
	}
	return m
}

// Markers for cells without a number.
const (
	missing = "missing" // the experiment is unfinished
	absent  = "—"       // no experiment of this method on this dataset, or no such metric
)

// Table is a rendered-agnostic table: a caption, a first header row of
// column groups, the column headers, and the rows; Markdown, LaTeX and HTML
// draw it.
type Table struct {
	Caption string
	// Groups span the columns after the first Lead ones; their spans add
	// up to the remaining columns.
	Lead int
	// Note states, in the first header cell of a one-header-row format,
	// how to read the cells: the interval convention.
	Note   string
	Groups []Group
	Header []string
	Rows   [][]Cell
}

// Group is a header over Span consecutive columns.
type Group struct {
	Label string
	Span  int
}

// Cell is one table cell; Best marks the best value of its column.
type Cell struct {
	Text string
	Best bool
	// value orders a column to find its best; NaN for no number.
	value float64
}

func text(s string) Cell { return Cell{Text: s, value: math.NaN()} }

// percent formats a fraction as a percentage with two decimals.
func percent(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) }

// interval is the cell of a result over folds, in percent: "mean ±
// half-width", the mean alone with one fold.
func interval(s eval.Summary) Cell {
	if math.IsNaN(s.HalfWidth) {
		return Cell{Text: percent(s.Mean), value: s.Mean}
	}
	return Cell{Text: percent(s.Mean) + " ± " + percent(s.HalfWidth), value: s.Mean}
}

// markBest marks, in each column from the first data column on, the cells
// whose value shows as the highest: values equal once rounded tie.
func markBest(rows [][]Cell, from int) {
	if len(rows) < 2 {
		return
	}
	for c := from; c < len(rows[0]); c++ {
		best := math.Inf(-1)
		for _, r := range rows {
			if v := r[c].value; !math.IsNaN(v) {
				best = math.Max(best, roundPercent(v))
			}
		}
		for _, r := range rows {
			if v := r[c].value; !math.IsNaN(v) && roundPercent(v) == best {
				r[c].Best = true
			}
		}
	}
}

func roundPercent(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// ResultsTable is the paper's table: one row per method, for each dataset
// the metrics "separated" (mean ± 95% CI half-width over folds) then
// "concatenated", in percent, the best of each column marked. The trunk,
// embedding size and number of folds go in the caption when every
// experiment shares them, otherwise in columns of their own.
func ResultsTable(exps []*Experiment, metrics []string) Table {
	var methods, datasets []string
	byKey := map[[2]string]*Experiment{}
	for _, e := range exps {
		key := [2]string{rowLabel(e, exps), e.Dataset}
		if !slices.Contains(methods, key[0]) {
			methods = append(methods, key[0])
		}
		if !slices.Contains(datasets, key[1]) {
			datasets = append(datasets, key[1])
		}
		byKey[key] = e
	}
	trunks := distinct(exps, func(e *Experiment) string { return e.Trunk })
	sizes := distinct(exps, func(e *Experiment) string { return sizeText(e.EmbeddingSize()) })
	folds := distinct(exps, func(e *Experiment) string { return strconv.Itoa(len(e.Folds)) })
	var t Table
	t.Header = []string{"Method"}
	extra := []struct {
		name   string
		values []string
		of     func(*Experiment) string
	}{
		{"trunk", trunks, func(e *Experiment) string { return e.Trunk }},
		{"embedding size", sizes, func(e *Experiment) string { return sizeText(e.EmbeddingSize()) }},
		{"folds", folds, func(e *Experiment) string { return strconv.Itoa(len(e.Folds)) }},
	}
	var described []string
	for _, x := range extra {
		if len(x.values) == 1 {
			described = append(described, x.name+" "+x.values[0])
		} else {
			t.Header = append(t.Header, x.name)
		}
	}
	t.Lead = len(t.Header)
	n := "n folds"
	if len(folds) == 1 {
		n = folds[0] + " folds"
	}
	t.Note = "% test; separated: mean ± 95% CI half-width (" + n + ")"
	for _, d := range datasets {
		t.Groups = append(t.Groups, Group{d + ", separated: mean ± 95% CI half-width (" + n + ")", len(metrics)},
			Group{d + ", concatenated", len(metrics)})
		for _, kind := range []string{"", " concat."} {
			for _, m := range metrics {
				t.Header = append(t.Header, d+" "+shortName(m)+kind)
			}
		}
	}
	for _, m := range methods {
		row := []Cell{text(m)}
		for _, x := range extra {
			if len(x.values) > 1 {
				v := absent
				for _, d := range slices.Backward(datasets) {
					if e := byKey[[2]string{m, d}]; e != nil && x.of(e) != "" {
						v = x.of(e)
					}
				}
				row = append(row, text(v))
			}
		}
		for _, d := range datasets {
			e := byKey[[2]string{m, d}]
			row = append(row, resultCells(e, metrics)...)
		}
		t.Rows = append(t.Rows, row)
	}
	markBest(t.Rows, t.Lead)
	t.Caption = fmt.Sprintf("Test set accuracy (%%), one row per method (metric loss + miner). Separated: each fold's best model "+
		"(chosen on validation) tested alone, %s; concatenated: the folds' L2-normalised embeddings side by side, "+
		"evaluated once. Best of each column in bold; %q: the experiment is unfinished; %q: not run or not measured.",
		eval.Interval, missing, absent)
	if len(described) > 0 {
		t.Caption += " All experiments: " + strings.Join(described, ", ") + "."
	}
	return t
}

// resultCells are an experiment's separated then concatenated cells.
func resultCells(e *Experiment, metrics []string) []Cell {
	var sep, cat []Cell
	for _, m := range metrics {
		switch {
		case e == nil:
			sep, cat = append(sep, text(absent)), append(cat, text(absent))
		case !e.Finished():
			sep, cat = append(sep, text(missing)), append(cat, text(missing))
		default:
			if s, ok := e.Results.Separated[m]; ok {
				sep = append(sep, interval(s))
			} else {
				sep = append(sep, text(absent))
			}
			if v, ok := e.Results.Concatenated[m]; ok {
				cat = append(cat, Cell{Text: percent(v), value: v})
			} else {
				cat = append(cat, text(absent))
			}
		}
	}
	return append(sep, cat...)
}

// rowLabel is the experiment's method, with its folder name when another
// experiment of the same method on the same dataset would share the row.
func rowLabel(e *Experiment, exps []*Experiment) string {
	for _, o := range exps {
		if o != e && o.Method == e.Method && o.Dataset == e.Dataset {
			return e.Method + " (" + e.Name + ")"
		}
	}
	return e.Method
}

// sizeText is an embedding size, "" while unknown.
func sizeText(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// distinct lists the known ("" is not) values of the experiments, in order.
func distinct(exps []*Experiment, of func(*Experiment) string) []string {
	var out []string
	for _, e := range exps {
		if v := of(e); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
