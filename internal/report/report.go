// Package report compares experiments (`bench report`) as a paper would:
// a table with one row per method and, per dataset, the test metrics
// "separated" (mean ± 95% CI half-width over folds) and "concatenated", in
// percent, the best of each column marked; figures of every experiment's
// validation metric and training loss on shared axes; a table per search
// folder. It writes Markdown, CSV, LaTeX (booktabs) and a self-contained
// HTML page.
//
// An unfinished experiment (no results in meta_logs yet) is still reported:
// its curves are drawn as far as they were recorded and its results are
// marked "missing", so a running experiment can be watched; the caller
// warns about it. A folder that is not an experiment is an error.
package report

import (
	"fmt"
	"html"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bench-ml/bench/internal/record"
)

// Formats are the report's file formats, by --format name.
var Formats = []string{"md", "csv", "tex", "html"}

// Options say what to write where.
type Options struct {
	Dir     string
	Formats []string // of Formats
	Metrics []string // the table's metric columns, PML names
}

// Report is everything a report shows.
type Report struct {
	Experiments []*Experiment
	Searches    []*Search
	Figures     []Figure
}

// Experiments of the results table and figures: the experiments given
// and the best trial of each search.
func (r *Report) tableExperiments() []*Experiment {
	exps := slices.Clone(r.Experiments)
	for _, s := range r.Searches {
		if b := s.State.Best(); b != nil && s.Trials[b.Name] != nil {
			exps = append(exps, s.Trials[b.Name])
		}
	}
	return exps
}

// Write draws the figures and writes the report files into o.Dir, each
// atomically, and returns the Markdown report.
func Write(o Options, r *Report) (string, error) {
	for _, f := range o.Formats {
		if !slices.Contains(Formats, f) {
			return "", fmt.Errorf("--format %s: want some of %s", f, strings.Join(Formats, ","))
		}
	}
	if len(o.Metrics) == 0 {
		o.Metrics = DefaultMetrics
	}
	exps := r.tableExperiments()
	if err := checkMetrics(exps, o.Metrics); err != nil {
		return "", err
	}
	var err error
	if r.Figures, err = Figures(exps, o.Dir); err != nil {
		return "", err
	}
	results := []Table{ResultsTable(exps, o.Metrics)}
	if d := DifferencesTable(exps, o.Metrics); len(d.Rows) > 0 {
		results = append(results, d)
	}
	var searches []Table
	for _, s := range r.Searches {
		searches = append(searches, s.Table())
	}
	md := markdownPage(results, searches, r.Figures)
	for _, f := range o.Formats {
		var data []byte
		switch f {
		case "md":
			data = []byte(md)
		case "csv":
			if data, err = CSV(exps, o.Metrics); err != nil {
				return "", err
			}
		case "tex":
			data = []byte(latexPage(results, searches, r.Figures))
		case "html":
			data = []byte(htmlPage(results, searches, r.Figures))
		}
		if err := record.WriteFileAtomic(filepath.Join(o.Dir, "report."+f), data); err != nil {
			return "", err
		}
	}
	return md, nil
}

// checkMetrics refuses a metric no finished experiment reports: a typo
// would otherwise give a column of dashes.
func checkMetrics(exps []*Experiment, metrics []string) error {
	reported := map[string]bool{}
	for _, e := range exps {
		for m := range e.Results.Separated {
			reported[m] = true
		}
	}
	if len(reported) == 0 {
		return nil // nothing finished yet: nothing to check against
	}
	for _, m := range metrics {
		if !reported[m] {
			return fmt.Errorf("--metrics %s: no experiment reports it; they report %s", m, strings.Join(slices.Sorted(maps.Keys(reported)), ", "))
		}
	}
	return nil
}

func markdownPage(results, searches []Table, figs []Figure) string {
	var b strings.Builder
	b.WriteString("# bench report\n\n")
	for i, t := range results {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(t.Markdown())
	}
	for _, f := range figs {
		fmt.Fprintf(&b, "\n![%s](%s.png)\n", f.Title, f.Base)
	}
	for _, s := range searches {
		b.WriteString("\n" + s.Markdown())
	}
	return b.String()
}

func latexPage(results, searches []Table, figs []Figure) string {
	var b strings.Builder
	b.WriteString("% bench report: \\input{report.tex} in a document with \\usepackage{booktabs,graphicx}\n")
	for _, t := range results {
		b.WriteString(t.LaTeX())
	}
	for _, f := range figs {
		fmt.Fprintf(&b, "\\begin{figure}\n\\centering\n\\includegraphics[width=\\linewidth]{%s.png}\n\\caption{%s}\n\\end{figure}\n",
			f.Base, texEscape(f.Title))
	}
	for _, s := range searches {
		b.WriteString(s.LaTeX())
	}
	return b.String()
}

// htmlPage is one self-contained page: the tables and the figures' SVG
// inline, no script, nothing fetched.
func htmlPage(results, searches []Table, figs []Figure) string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>bench report</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; margin: 1em 0; }
caption { caption-side: top; text-align: left; max-width: 60em; padding-bottom: .5em; }
th, td { padding: .25em .6em; border-bottom: 1px solid #ccc; }
td { text-align: right; font-variant-numeric: tabular-nums; }
thead th { border-bottom: 2px solid #000; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>bench report</h1>
`)
	for _, t := range results {
		b.WriteString(t.HTML())
	}
	for _, f := range figs {
		svg := string(f.SVG)
		if i := strings.Index(svg, "<svg"); i >= 0 {
			svg = svg[i:] // the XML prolog is not allowed inside HTML
		}
		fmt.Fprintf(&b, "<figure>\n%s\n<figcaption>%s</figcaption>\n</figure>\n", svg, html.EscapeString(f.Title))
	}
	for _, s := range searches {
		b.WriteString(s.HTML())
	}
	b.WriteString("</body>\n</html>\n")
	return b.String()
}
