package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/search"
)

// smokeMethodNames are the report's row labels of smokeMethods.
var smokeMethodNames = map[string]string{"contrastive": "ContrastiveLoss", "triplet": "TripletMarginLoss + BatchHardMiner"}

var smokeDatasetNames = map[string]string{"glyphs": "Glyphs", "omniglot": "Omniglot"}

// smokeReport writes the report of the four smoke experiments once per
// test and returns its folder and standard output.
func smokeReport(t *testing.T, extra ...string) (dir, stdout string) {
	t.Helper()
	root := smokeExperiments(t)
	dir = filepath.Join(t.TempDir(), "report")
	args := []string{"report"}
	for _, m := range []string{"contrastive", "triplet"} {
		for _, d := range []string{"glyphs", "omniglot"} {
			args = append(args, filepath.Join(root, m+"_"+d))
		}
	}
	stdout, stderr, err := benchStreams(t, append(append(args, "--out", dir), extra...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	return dir, stdout
}

// markdownTable is the header and rows of the first Markdown table in md,
// cells trimmed.
func markdownTable(t *testing.T, md string) (header []string, rows [][]string) {
	t.Helper()
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "| ") {
			if header != nil {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		switch {
		case header == nil:
			header = cells
		case strings.HasPrefix(cells[0], "---"):
		default:
			rows = append(rows, cells)
		}
	}
	if header == nil {
		t.Fatalf("no table in\n%s", md)
	}
	return header, rows
}

// TestReportFromSmokeRuns checks the report of real runs of two methods on
// two datasets cell by cell against their meta_logs: each separated cell
// is mean ± half-width in percent, each concatenated cell the value, the
// best of each column in bold; the CSV holds the same numbers exactly.
func TestReportFromSmokeRuns(t *testing.T) {
	root := smokeExperiments(t)
	dir, stdout := smokeReport(t)
	header, rows := markdownTable(t, stdout)
	if header[0] != "Method (% test; separated: mean ± 95% CI half-width (2 folds))" || len(header) != 1+2*2*3 || len(rows) != 2 {
		t.Fatalf("table of %d columns, %d rows:\n%s", len(header), len(rows), stdout)
	}
	if !strings.Contains(stdout, "All experiments: trunk ConvNet, embedding size 32, folds 2.") {
		t.Errorf("the caption does not state the shared trunk, embedding size and folds:\n%s", stdout)
	}
	results := map[string]record.Results{}
	for m := range smokeMethods {
		for d := range smokeDatasets {
			r, err := record.ReadResults(filepath.Join(root, m+"_"+d, "meta_logs"))
			if err != nil {
				t.Fatal(err)
			}
			results[smokeMethodNames[m]+"/"+smokeDatasetNames[d]] = r
		}
	}
	metricOf := map[string]string{"P@1": "precision_at_1", "R-Precision": "r_precision", "MAP@R": "mean_average_precision_at_r"}
	for c := 1; c < len(header); c++ {
		dataset, rest, _ := strings.Cut(header[c], " ")
		name, concat := strings.CutSuffix(rest, " concat.")
		metric := metricOf[name]
		best := math.Inf(-1)
		values := make([]float64, len(rows))
		for i, row := range rows {
			r := results[row[0]+"/"+dataset]
			var want string
			if concat {
				values[i] = r.Concatenated[metric]
				want = fmt.Sprintf("%.2f", 100*values[i])
			} else {
				s := r.Separated[metric]
				values[i] = s.Mean
				want = fmt.Sprintf("%.2f ± %.2f", 100*s.Mean, 100*s.HalfWidth)
			}
			best = math.Max(best, math.Round(values[i]*1e4))
			if got := strings.Trim(row[c], "*"); got != want {
				t.Errorf("%s, %s: %q, meta_logs give %q", row[0], header[c], got, want)
			}
		}
		for i, row := range rows {
			if bold := strings.HasPrefix(row[c], "**"); bold != (math.Round(values[i]*1e4) == best) {
				t.Errorf("%s, %s: %q, bold %v; the column's best is %v", row[0], header[c], row[c], bold, best/100)
			}
		}
	}
	checkDifferences(t, stdout, results, metricOf)
	f, err := os.Open(filepath.Join(dir, "report.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+4*3 {
		t.Fatalf("report.csv has %d rows, want a header and 12", len(recs))
	}
	for _, r := range recs[1:] {
		res := results[r[2]+"/"+r[3]]
		s := res.Separated[r[7]]
		for i, want := range []float64{s.Mean, s.StdErr, s.HalfWidth, s.CILow, s.CIHigh, res.Concatenated[r[7]]} {
			if got, err := strconv.ParseFloat(r[8+i], 64); err != nil || got != want {
				t.Errorf("report.csv %v column %s: %v, want %v", r[:8], recs[0][8+i], r[8+i], want)
			}
		}
	}
	for _, name := range []string{"val_Glyphs", "val_Omniglot", "train_loss_Glyphs", "train_loss_Omniglot"} {
		img, err := png.Decode(mustRead(t, filepath.Join(dir, name+".png")))
		if err != nil {
			t.Fatalf("%s.png: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 600 {
			t.Errorf("%s.png is %v: too small for print", name, b)
		}
		if svg, err := os.ReadFile(filepath.Join(dir, name+".svg")); err != nil || !bytes.Contains(svg, []byte("ContrastiveLoss")) ||
			!bytes.Contains(svg, []byte("TripletMarginLoss + BatchHardMiner")) {
			t.Errorf("%s.svg lacks the methods' legend (%v)", name, err)
		}
	}
	tex, err := os.ReadFile(filepath.Join(dir, "report.tex"))
	if err != nil || !bytes.Contains(tex, []byte(`\toprule`)) || !bytes.Contains(tex, []byte(`\multicolumn{3}{c}{Omniglot, concatenated}`)) {
		t.Errorf("report.tex is not the booktabs table (%v):\n%s", err, tex)
	}
}

// checkDifferences checks the differences table against the folds' test
// results: the lead of the better separated mean, paired by fold.
func checkDifferences(t *testing.T, md string, results map[string]record.Results, metricOf map[string]string) {
	t.Helper()
	i := strings.Index(md, "Differences on the test set")
	if i < 0 {
		t.Fatalf("no differences table:\n%s", md)
	}
	_, rows := markdownTable(t, md[i:])
	if len(rows) != 2*3 {
		t.Fatalf("differences: %d rows, want 6", len(rows))
	}
	for _, r := range rows {
		metric := metricOf[r[1]]
		best, second := results[r[2]+"/"+r[0]], results[r[3]+"/"+r[0]]
		if best.Separated[metric].Mean < second.Separated[metric].Mean {
			t.Errorf("%v: the best is not the better mean", r)
		}
		var d []float64
		for f := range best.Test.Folds {
			d = append(d, best.Test.Folds[f].Metrics[metric]-second.Test.Folds[f].Metrics[metric])
		}
		mean, se := (d[0]+d[1])/2, math.Abs(d[0]-d[1])/2 // two folds: SE = |d0 - d1| / 2
		hw := 12.706204736174694 * se
		if want := fmt.Sprintf("%.2f ± %.2f", 100*mean, 100*hw); r[4] != want {
			t.Errorf("%v: lead %s, want %s", r[:4], r[4], want)
		}
		if want := map[bool]string{true: "yes", false: "no"}[math.Abs(mean) > hw]; r[5] != want {
			t.Errorf("%v: significant %s, want %s", r[:4], r[5], want)
		}
	}
}

func mustRead(t *testing.T, path string) *bytes.Reader {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(data)
}

// TestReportHTMLInChromium opens the self-contained HTML page in headless
// chromium (which make test installs): the browser's DOM holds the table
// and one SVG per figure, and its screenshot shows the figures' curves in
// the palette's first colour.
func TestReportHTMLInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (make test installs it with apt-get when run as root): the HTML report is not opened in a browser")
	}
	dir, _ := smokeReport(t, "--format", "html")
	page := filepath.Join(dir, "report.html")
	run := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir()}
		out, err := exec.CommandContext(ctx, browser, append(append(flags, args...), "file://"+page)...).Output()
		if err != nil {
			t.Fatalf("chromium %v: %v", args, err)
		}
		return out
	}
	dom := string(run("--dump-dom"))
	// The results table (2 header rows, 2 methods) and the differences
	// (a header row, 2 datasets x 3 metrics).
	for what, want := range map[string]int{"<table>": 2, "<svg": 4, "<figure>": 4, "<tr>": 4 + 7} {
		if got := strings.Count(dom, what); got != want {
			t.Errorf("the browser's DOM has %d %s, want %d", got, what, want)
		}
	}
	if got := strings.Count(dom, "<strong>"); got < 12 {
		t.Errorf("the browser's DOM has %d best cells, want one or more in each of 12 columns", got)
	}
	for _, w := range []string{"TripletMarginLoss + BatchHardMiner", "Omniglot, separated: mean ± 95% CI half-width (2 folds)"} {
		if !strings.Contains(dom, w) {
			t.Errorf("the browser's DOM lacks %q", w)
		}
	}
	shot := filepath.Join(t.TempDir(), "page.png")
	run("--screenshot="+shot, "--window-size=1400,4000", "--hide-scrollbars")
	img, err := png.Decode(mustRead(t, shot))
	if err != nil {
		t.Fatal(err)
	}
	orange, dark := countPixels(img)
	// The curves are drawn in Okabe-Ito orange; the table's text is dark.
	if orange < 500 || dark < 2000 {
		t.Errorf("screenshot: %d orange and %d dark pixels; the figures or the table did not render", orange, dark)
	}
}

// countPixels counts the pixels near Okabe-Ito orange (#E69F00) and the
// dark ones.
func countPixels(img image.Image) (orange, dark int) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			if near(r, 0xE6) && near(g, 0x9F) && bl < 0x30 {
				orange++
			}
			if r < 0x40 && g < 0x40 && bl < 0x40 {
				dark++
			}
		}
	}
	return orange, dark
}

func near(v, want uint32) bool { return v+24 >= want && v <= want+24 }

func TestReportUnfinishedAndErrors(t *testing.T) {
	root := smokeExperiments(t)
	// An experiment still running: its records and configs, no results.
	running := filepath.Join(t.TempDir(), "running")
	src := filepath.Join(root, "triplet_glyphs")
	if err := os.CopyFS(running, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(running, "meta_logs")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	stdout, stderr, err := benchStreams(t, "report", filepath.Join(root, "contrastive_glyphs"), running, "--out", out, "--format", "md")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "| TripletMarginLoss + BatchHardMiner | missing | missing |") {
		t.Errorf("the unfinished experiment's row:\n%s", stdout)
	}
	if want := `level=WARN msg="unfinished experiment: its results are shown as missing" folder=` + running; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q, want it to hold %q", stderr, want)
	}
	if _, err := os.Stat(filepath.Join(out, "val_Glyphs.png")); err != nil {
		t.Errorf("the curves so far are not drawn: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err == nil {
		t.Error("--format md wrote report.html")
	}

	notExp := filepath.Join(t.TempDir(), "not_an_experiment")
	if err := os.Mkdir(notExp, 0o755); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(root, "contrastive_glyphs")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no folder", []string{"report"}, "at least one experiment or search folder"},
		{"not an experiment", []string{"report", exp, notExp}, notExp + " is not an experiment folder"},
		{"missing folder", []string{"report", filepath.Join(root, "nope")}, filepath.Join(root, "nope")},
		{"twice", []string{"report", exp, exp}, "is given twice"},
		{"bad format", []string{"report", exp, "--format", "md,pdf"}, "--format pdf"},
		{"bad metric", []string{"report", exp, "--metrics", "precision_at_1,map_at_r"}, "--metrics map_at_r: no experiment reports it; they report mean_average_precision,"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			_, _, err := benchStreams(t, append(c.args, "--out", out)...)
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line containing %q", msg, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a failed report wrote %s", out)
			}
		})
	}
}

// TestReportSearch reports a real two-trial search and a reproduction of
// its best trial: one row per trial with its searched values and
// objective, the best marked, the reproduction named; the best trial joins
// the results table.
func TestReportSearch(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end search")
	}
	root := t.TempDir()
	if out, err := bench(t, searchArgs(root, "--bayes_opt_iters", "2")...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	dir := filepath.Join(root, "s")
	st, err := search.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	best := st.Best()
	if out, err := bench(t, "run", "--reproduce_results", filepath.Join(dir, best.Name), "--root_experiment_folder", dir,
		"--experiment_name", "reproduction0"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	stdout, stderr, err := benchStreams(t, "report", dir, "--out", filepath.Join(root, "report"), "--format", "md,html")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	searchMD := stdout[strings.Index(stdout, "Search s:"):]
	header, rows := markdownTable(t, searchMD)
	want := []string{"trial (test: mean ± 95% CI half-width (n folds))", "loss_funcs.metric_loss.ContrastiveLoss.neg_margin",
		"optimizers.trunk_optimizer.Adam.lr", "optimizers.embedder_optimizer.Adam.lr", "objective: val MAP@R (%)", "test MAP@R (%)", "status"}
	if strings.Join(header, "|") != strings.Join(want, "|") || len(rows) != 3 {
		t.Fatalf("search table header %q and %d rows:\n%s", header, len(rows), searchMD)
	}
	for i, tr := range st.Trials {
		row := rows[i]
		isBest := tr.Name == best.Name
		if name := strings.Trim(row[0], "*"); name != tr.Name || strings.HasPrefix(row[0], "**") != isBest {
			t.Errorf("row %d names %q, want %s (best: %v)", i, row[0], tr.Name, isBest)
		}
		for j, p := range want[1:4] {
			if got := row[1+j]; got != strconv.FormatFloat(tr.Values[p], 'g', 4, 64) {
				t.Errorf("%s: %s = %s, want %v", tr.Name, p, got, tr.Values[p])
			}
		}
		if got := strings.Trim(row[4], "*"); got != fmt.Sprintf("%.2f", 100**tr.Objective) {
			t.Errorf("%s: objective %s, want %v", tr.Name, got, *tr.Objective)
		}
		res, err := record.ReadResults(filepath.Join(dir, tr.Name, "meta_logs"))
		if err != nil {
			t.Fatal(err)
		}
		s := res.Separated["mean_average_precision_at_r"]
		if got := row[5]; got != fmt.Sprintf("%.2f ± %.2f", 100*s.Mean, 100*s.HalfWidth) {
			t.Errorf("%s: test %s, want %+v", tr.Name, got, s)
		}
		if wantStatus := map[bool]string{true: "done, best", false: "done"}[isBest]; row[6] != wantStatus {
			t.Errorf("%s: status %q, want %q", tr.Name, row[6], wantStatus)
		}
	}
	if r := rows[2]; r[0] != "reproduction0" || r[6] != "reproduction of "+best.Name {
		t.Errorf("reproduction row %v", r)
	}
	// The results table has the best trial's row.
	if _, rows := markdownTable(t, stdout); len(rows) != 1 || rows[0][0] != "ContrastiveLoss" {
		t.Errorf("results table rows %v, want the best trial's", rows)
	}
}
