package report

import (
	"bytes"
	"encoding/csv"
	"html"
	"math"
	"strconv"
	"strings"
)

// Markdown draws the table with its caption above it. Markdown has one
// header row, so each column header names its group (dataset and kind);
// the first header cell states the interval convention.
func (t Table) Markdown() string {
	var b strings.Builder
	b.WriteString(t.Caption + "\n\n")
	header := append([]string{}, t.Header...)
	if t.Note != "" {
		header[0] += " (" + t.Note + ")"
	}
	row := func(cells []string) {
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	row(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
		if i >= t.Lead {
			sep[i] = "---:"
		}
	}
	b.WriteString("| " + strings.Join(sep, " | ") + " |\n")
	for _, r := range t.Rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = c.Text
			if c.Best {
				cells[i] = "**" + c.Text + "**"
			}
		}
		row(cells)
	}
	return b.String()
}

// LaTeX draws the table with booktabs: the groups as \multicolumn headers
// with \cmidrule under them, the best of each column in bold, ± in math.
func (t Table) LaTeX() string {
	var b strings.Builder
	b.WriteString("% \\usepackage{booktabs}\n\\begin{table}\n\\centering\n\\small\n")
	b.WriteString("\\caption{" + texEscape(t.Caption) + "}\n")
	b.WriteString("\\begin{tabular}{" + strings.Repeat("l", t.Lead) + strings.Repeat("r", len(t.Header)-t.Lead) + "}\n\\toprule\n")
	if len(t.Groups) > 0 {
		var groups, rules []string
		groups = append(groups, strings.Repeat(" & ", t.Lead-1))
		col := t.Lead + 1
		for _, g := range t.Groups {
			groups = append(groups, "\\multicolumn{"+strconv.Itoa(g.Span)+"}{c}{"+texEscape(g.Label)+"}")
			rules = append(rules, "\\cmidrule(lr){"+strconv.Itoa(col)+"-"+strconv.Itoa(col+g.Span-1)+"}")
			col += g.Span
		}
		b.WriteString(strings.Join(groups, " & ") + " \\\\\n" + strings.Join(rules, " ") + "\n")
	}
	header := make([]string, len(t.Header))
	for i, h := range t.Header {
		header[i] = texEscape(h)
		if i >= t.Lead {
			header[i] = texEscape(metricHeader(h, i, t))
		}
	}
	b.WriteString(strings.Join(header, " & ") + " \\\\\n\\midrule\n")
	for _, r := range t.Rows {
		cells := make([]string, len(r))
		for i, c := range r {
			s := texEscape(c.Text)
			if c.Best {
				s = "\\textbf{" + s + "}"
			}
			cells[i] = s
		}
		b.WriteString(strings.Join(cells, " & ") + " \\\\\n")
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n\\end{table}\n")
	return b.String()
}

// metricHeader is a data column's header under its group: the metric alone,
// since the group names the dataset and the kind.
func metricHeader(h string, i int, t Table) string {
	col := t.Lead
	for _, g := range t.Groups {
		if i < col+g.Span {
			name := strings.SplitN(g.Label, ",", 2)[0]
			return strings.TrimSuffix(strings.TrimPrefix(h, name+" "), " concat.")
		}
		col += g.Span
	}
	return h
}

var texReplacer = strings.NewReplacer(`\`, `\textbackslash{}`, `&`, `\&`, `%`, `\%`, `$`, `\$`, `#`, `\#`,
	`_`, `\_`, `{`, `\{`, `}`, `\}`, `~`, `\textasciitilde{}`, `^`, `\textasciicircum{}`, "—", "---", "±", "$\\pm$")

func texEscape(s string) string { return texReplacer.Replace(s) }

// HTML draws the table: a caption, two header rows (the groups spanning
// their columns), the best of each column in bold.
func (t Table) HTML() string {
	var b strings.Builder
	b.WriteString("<table>\n<caption>" + html.EscapeString(t.Caption) + "</caption>\n<thead>\n")
	if len(t.Groups) > 0 {
		b.WriteString("<tr>")
		for range t.Lead {
			b.WriteString("<th></th>")
		}
		for _, g := range t.Groups {
			b.WriteString(`<th colspan="` + strconv.Itoa(g.Span) + `">` + html.EscapeString(g.Label) + "</th>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("<tr>")
	for i, h := range t.Header {
		if i >= t.Lead {
			h = metricHeader(h, i, t)
		}
		b.WriteString("<th>" + html.EscapeString(h) + "</th>")
	}
	b.WriteString("</tr>\n</thead>\n<tbody>\n")
	for _, r := range t.Rows {
		b.WriteString("<tr>")
		for i, c := range r {
			s := html.EscapeString(c.Text)
			if c.Best {
				s = "<strong>" + s + "</strong>"
			}
			tag := "td"
			if i == 0 {
				tag = "th"
			}
			b.WriteString("<" + tag + ">" + s + "</" + tag + ">")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")
	return b.String()
}

// CSV is the results for machines, one row per experiment and metric:
// fractions at full precision, the interval's bounds as well as its
// half-width, empty where there is no number.
func CSV(exps []*Experiment, metrics []string) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"experiment", "path", "method", "dataset", "trunk", "embedding_size", "folds", "metric",
		"separated_mean", "separated_stderr", "separated_ci95_halfwidth", "separated_ci95_low", "separated_ci95_high",
		"concatenated"})
	for _, e := range exps {
		for _, m := range metrics {
			row := []string{e.Name, e.Path, e.Method, e.Dataset, e.Trunk, strconv.Itoa(e.EmbeddingSize()), strconv.Itoa(len(e.Folds)), m}
			s, ok := e.Results.Separated[m]
			if ok {
				row = append(row, number(s.Mean), number(s.StdErr), number(s.HalfWidth), number(s.CILow), number(s.CIHigh))
			} else {
				row = append(row, "", "", "", "", "")
			}
			v, ok := e.Results.Concatenated[m]
			if !ok {
				v = math.NaN()
			}
			w.Write(append(row, number(v)))
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// number writes v exactly, and NaN (no value, or no spread with one fold)
// as empty.
func number(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
