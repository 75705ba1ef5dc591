package report

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/expfolder"
)

// finished is an experiment with the given separated means (half-width
// 0.01 over 3 folds) and concatenated values (means + 0.05).
func finished(name, method, dataset, trunk string, size int, means map[string]float64) *Experiment {
	e := &Experiment{Name: name, Path: "/x/" + name, Method: method, Dataset: dataset, Trunk: trunk, Folds: make([]Fold, 3),
		PrimaryMetric: "mean_average_precision_at_r"}
	e.Results.Separated = map[string]eval.Summary{}
	e.Results.Concatenated = map[string]float64{}
	e.Results.Test = &expfolder.TestResults{EmbeddingSize: size}
	for m, v := range means {
		e.Results.Separated[m] = eval.Summary{Mean: v, HalfWidth: 0.01, StdErr: 0.004, CILow: v - 0.01, CIHigh: v + 0.01, N: 3}
		e.Results.Concatenated[m] = v + 0.05
	}
	return e
}

func TestResultsTable(t *testing.T) {
	exps := []*Experiment{
		finished("c_g", "ContrastiveLoss", "Glyphs", "ConvNet", 32, map[string]float64{"precision_at_1": 0.5, "mean_average_precision_at_r": 0.2}),
		finished("t_g", "TripletMarginLoss + BatchHardMiner", "Glyphs", "ConvNet", 32, map[string]float64{"precision_at_1": 0.6, "mean_average_precision_at_r": 0.1}),
		finished("c_o", "ContrastiveLoss", "Omniglot", "ConvNet", 32, map[string]float64{"precision_at_1": 0.3}),
		{Name: "t_o", Method: "TripletMarginLoss + BatchHardMiner", Dataset: "Omniglot", Trunk: "ConvNet", Folds: make([]Fold, 3)},
	}
	tab := ResultsTable(exps, []string{"precision_at_1", "mean_average_precision_at_r"})
	md := tab.Markdown()
	want := []string{
		"| Method (% test; separated: mean ± 95% CI half-width (3 folds)) | Glyphs P@1 | Glyphs MAP@R | Glyphs P@1 concat. | Glyphs MAP@R concat. | Omniglot P@1 | Omniglot MAP@R | Omniglot P@1 concat. | Omniglot MAP@R concat. |",
		"| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
		"| ContrastiveLoss | 50.00 ± 1.00 | **20.00 ± 1.00** | 55.00 | **25.00** | **30.00 ± 1.00** | — | **35.00** | — |",
		"| TripletMarginLoss + BatchHardMiner | **60.00 ± 1.00** | 10.00 ± 1.00 | **65.00** | 15.00 | missing | missing | missing | missing |",
	}
	if !strings.Contains(md, strings.Join(want, "\n")+"\n") {
		t.Errorf("Markdown\n%s\nwant the rows\n%s", md, strings.Join(want, "\n"))
	}
	// The caption states the convention and what all rows share; nothing
	// shared is a column.
	for _, w := range []string{eval.Interval, "All experiments: trunk ConvNet, embedding size 32, folds 3."} {
		if !strings.Contains(tab.Caption, w) {
			t.Errorf("caption %q lacks %q", tab.Caption, w)
		}
	}
	if tab.Lead != 1 || len(tab.Groups) != 4 || tab.Groups[0].Label != "Glyphs, separated: mean ± 95% CI half-width (3 folds)" {
		t.Errorf("lead %d, groups %v", tab.Lead, tab.Groups)
	}

	// Another trunk: trunk becomes a column, the caption keeps the rest.
	exps[1].Trunk = "ResNet"
	tab = ResultsTable(exps[:2], []string{"precision_at_1"})
	if got := strings.Join(tab.Header, "|"); got != "Method|trunk|Glyphs P@1|Glyphs P@1 concat." {
		t.Errorf("header %s", got)
	}
	if tab.Rows[1][1].Text != "ResNet" || strings.Contains(tab.Caption, "trunk") {
		t.Errorf("row %v, caption %q", tab.Rows[1], tab.Caption)
	}
}

func TestRenderLaTeXAndHTML(t *testing.T) {
	exps := []*Experiment{
		finished("a", "ContrastiveLoss", "Glyphs", "ConvNet", 32, map[string]float64{"precision_at_1": 0.5}),
		finished("b", "NTXentLoss", "Glyphs", "ConvNet", 32, map[string]float64{"precision_at_1": 0.4}),
	}
	exps[1].Results.Separated["precision_at_1"] = eval.Summary{Mean: 0.4, HalfWidth: math.NaN(), N: 1}
	tab := ResultsTable(exps, []string{"precision_at_1"})
	tex := tab.LaTeX()
	for _, w := range []string{
		`\begin{tabular}{lrr}`, `\toprule`, `\multicolumn{1}{c}{Glyphs, separated: mean $\pm$ 95\% CI half-width (3 folds)} & \multicolumn{1}{c}{Glyphs, concatenated} \\`,
		`\cmidrule(lr){2-2} \cmidrule(lr){3-3}`, `Method & P@1 & P@1 \\`, `ContrastiveLoss & \textbf{50.00 $\pm$ 1.00} & \textbf{55.00} \\`,
		`NTXentLoss & 40.00 & 45.00 \\`, `\bottomrule`,
	} {
		if !strings.Contains(tex, w) {
			t.Errorf("LaTeX lacks %s:\n%s", w, tex)
		}
	}
	h := tab.HTML()
	for _, w := range []string{`<th colspan="1">Glyphs, separated: mean ± 95% CI half-width (3 folds)</th>`,
		`<tr><th>ContrastiveLoss</th><td><strong>50.00 ± 1.00</strong></td><td><strong>55.00</strong></td></tr>`} {
		if !strings.Contains(h, w) {
			t.Errorf("HTML lacks %s:\n%s", w, h)
		}
	}
}

func TestBand(t *testing.T) {
	b := band([]Curve{{X: []float64{0, 1, 2}, Y: []float64{1, 2, 3}}, {X: []float64{0, 1}, Y: []float64{3, 0}}})
	want := Band{Mean: Curve{[]float64{0, 1, 2}, []float64{2, 1, 3}}, Low: Curve{[]float64{0, 1, 2}, []float64{1, 0, 3}},
		High: Curve{[]float64{0, 1, 2}, []float64{3, 2, 3}}}
	for i, pair := range [][2]Curve{{b.Mean, want.Mean}, {b.Low, want.Low}, {b.High, want.High}} {
		if !slices.Equal(pair[0].X, pair[1].X) || !slices.Equal(pair[0].Y, pair[1].Y) {
			t.Errorf("curve %d: %v, want %v", i, pair[0], pair[1])
		}
	}
}

func TestSmooth(t *testing.T) {
	for _, c := range []struct {
		y      []float64
		window int
		want   []float64
	}{
		{[]float64{1, 2, 3, 4, 5}, 1, []float64{1, 2, 3, 4, 5}},
		{[]float64{1, 2, 3, 4, 5}, 2, []float64{1, 1.5, 2.5, 3.5, 4.5}},
		{[]float64{4, 2, 0, 6}, 3, []float64{4, 3, 2, 8.0 / 3}},
		{[]float64{1, 3}, 5, []float64{1, 2}},
	} {
		x := make([]float64, len(c.y))
		got := smooth(Curve{X: x, Y: c.y}, c.window)
		for i := range c.want {
			if math.Abs(got.Y[i]-c.want[i]) > 1e-12 {
				t.Errorf("smooth(%v, %d) = %v, want %v", c.y, c.window, got.Y, c.want)
				break
			}
		}
	}
	for _, c := range []struct{ n, want int }{{0, 1}, {19, 1}, {40, 4}, {1000, 100}} {
		if got := smoothingWindow(c.n); got != c.want {
			t.Errorf("smoothingWindow(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

func TestDifferencesTable(t *testing.T) {
	withFolds := func(e *Experiment, p1 ...float64) *Experiment {
		e.Results.Test.Folds = nil
		for i, v := range p1 {
			e.Results.Test.Folds = append(e.Results.Test.Folds, expfolder.FoldResult{SplitScheme: "s" + string(rune('0'+i)),
				Metrics: map[string]float64{"precision_at_1": v}})
		}
		e.Results.Separated = eval.Aggregate(foldMaps(e.Results.Test.Folds))
		return e
	}
	exps := []*Experiment{
		withFolds(finished("a", "A", "Glyphs", "ConvNet", 32, nil), 0.50, 0.40, 0.60),
		withFolds(finished("b", "B", "Glyphs", "ConvNet", 32, nil), 0.55, 0.46, 0.64),
		withFolds(finished("c", "C", "Glyphs", "ConvNet", 32, nil), 0.1, 0.1, 0.1),
		withFolds(finished("d", "A", "Omniglot", "ConvNet", 32, nil), 0.5, 0.9),
		withFolds(finished("e", "B", "Omniglot", "ConvNet", 32, nil), 0.6, 0.7),
	}
	tab := DifferencesTable(exps, []string{"precision_at_1"})
	// Glyphs: B - A = 0.05, 0.06, 0.04: mean 5 pp, SE 0.5774 pp, t(2) =
	// 4.302652729911275: ± 2.48 pp, significant. Omniglot: A - B = -0.1,
	// 0.2: mean 5 pp, SE 15 pp, t(1) = 12.7062: ± 190.59, not.
	want := [][]string{
		{"Glyphs", "P@1", "B", "A", "5.00 ± 2.48", "yes"},
		{"Omniglot", "P@1", "A", "B", "5.00 ± 190.59", "no"},
	}
	if len(tab.Rows) != len(want) {
		t.Fatalf("rows %v", tab.Rows)
	}
	for i, w := range want {
		for j, c := range tab.Rows[i] {
			if c.Text != w[j] {
				t.Errorf("row %d column %s: %q, want %q", i, tab.Header[j], c.Text, w[j])
			}
		}
	}
}

func foldMaps(folds []expfolder.FoldResult) []map[string]float64 {
	out := make([]map[string]float64, len(folds))
	for i, f := range folds {
		out[i] = f.Metrics
	}
	return out
}
