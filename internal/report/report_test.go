package report

import (
	"bytes"
	"encoding/csv"
	"image"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/report/reporttest"
)

func TestLoad(t *testing.T) {
	root := t.TempDir()
	path := reporttest.Write(t, root, "triplet", reporttest.Experiment{
		Loss: "TripletMarginLoss", Miner: "BatchHardMiner", Folds: 2, Epochs: 3, Iterations: 4, Finished: true, Score: 0.5,
	})
	e, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "triplet" || e.MetricLoss != "TripletMarginLoss" || e.Miner != "BatchHardMiner" || e.PrimaryMetric != "mean_average_precision_at_r" {
		t.Errorf("got name %q, loss %q, miner %q, primary metric %q", e.Name, e.MetricLoss, e.Miner, e.PrimaryMetric)
	}
	if len(e.Missing()) != 0 {
		t.Errorf("a finished experiment misses %v", e.Missing())
	}
	if len(e.Folds) != 2 {
		t.Fatalf("got %d folds, want 2", len(e.Folds))
	}
	for i, f := range e.Folds {
		if f.Name != reporttest.FoldName(2, i) {
			t.Errorf("fold %d is named %q", i, f.Name)
		}
		wantVal := Curve{X: []float64{0, 1, 2, 3}}
		for ep := range 4 {
			wantVal.Y = append(wantVal.Y, reporttest.ValMetric(i, ep))
		}
		if !reflect.DeepEqual(f.Val, wantVal) {
			t.Errorf("fold %d val curve %v, want %v", i, f.Val, wantVal)
		}
		if f.Loss.Len() != 12 || f.Loss.X[11] != 12 || f.Loss.Y[11] != reporttest.Loss(i, 12) {
			t.Errorf("fold %d loss curve %v", i, f.Loss)
		}
	}
	want := reporttest.Metrics(0.5)
	if len(e.Separated) != len(want) || len(e.Concatenated) != len(want) {
		t.Fatalf("got %d separated and %d concatenated metrics, want %d", len(e.Separated), len(e.Concatenated), len(want))
	}
	for k, v := range want {
		s := e.Separated[k]
		if s.Mean != v || math.Abs(s.HalfWidth-0.1) > 1e-12 || s.N != 2 {
			t.Errorf("separated %s = %+v, want mean %v ± 0.1 over 2 folds", k, s, v)
		}
		if e.Concatenated[k] != v+0.01 {
			t.Errorf("concatenated %s = %v, want %v", k, e.Concatenated[k], v+0.01)
		}
	}
}

func TestLoadOneFoldHasNoInterval(t *testing.T) {
	path := reporttest.Write(t, t.TempDir(), "one", reporttest.Experiment{
		Loss: "ContrastiveLoss", Folds: 1, Epochs: 1, Iterations: 2, Finished: true, Score: 0.3,
	})
	e, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if e.Miner != "none" {
		t.Errorf("miner %q, want none", e.Miner)
	}
	if s := e.Separated["r_precision"]; s.Mean != 0.4 || !math.IsNaN(s.HalfWidth) || s.N != 1 {
		t.Errorf("separated r_precision = %+v, want mean 0.4, no interval, 1 fold", s)
	}
}

func TestLoadNamesDotByItsFolder(t *testing.T) {
	path := reporttest.Write(t, t.TempDir(), "here", reporttest.Experiment{Loss: "ContrastiveLoss", Folds: 1, Epochs: 1, Iterations: 1})
	t.Chdir(path)
	e, err := Load(".")
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "here" {
		t.Errorf("name %q, want here", e.Name)
	}
}

func TestLoadUnfinished(t *testing.T) {
	path := reporttest.Write(t, t.TempDir(), "running", reporttest.Experiment{
		Loss: "ContrastiveLoss", Folds: 2, Epochs: 2, Iterations: 3,
	})
	e, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if e.Separated != nil || e.Concatenated != nil {
		t.Errorf("unfinished experiment has results %v %v", e.Separated, e.Concatenated)
	}
	want := []string{"meta_logs/separated.json", "meta_logs/concatenated.json"}
	if !reflect.DeepEqual(e.Missing(), want) {
		t.Errorf("missing %v, want %v", e.Missing(), want)
	}
	if len(e.Folds) != 2 || e.Folds[1].Val.Len() != 3 || e.Folds[1].Loss.Len() != 6 {
		t.Errorf("curves of an unfinished experiment not read: %+v", e.Folds)
	}
}

func TestLoadErrors(t *testing.T) {
	valid := func(t *testing.T) string {
		return reporttest.Write(t, t.TempDir(), "x", reporttest.Experiment{
			Loss: "ContrastiveLoss", Folds: 1, Epochs: 1, Iterations: 2, Finished: true, Score: 0.5,
		})
	}
	for _, c := range []struct {
		name string
		// spoil breaks a valid experiment folder and returns the path to
		// load and what the error must mention.
		spoil func(t *testing.T, dir string) (path string, want []string)
	}{
		{"missing folder", func(t *testing.T, dir string) (string, []string) {
			p := filepath.Join(dir, "nope")
			return p, []string{p, "not an experiment folder"}
		}},
		{"not an experiment", func(t *testing.T, dir string) (string, []string) {
			p := t.TempDir()
			return p, []string{p, "not an experiment folder"}
		}},
		{"no loss config", func(t *testing.T, dir string) (string, []string) {
			f := filepath.Join(dir, "configs", "config_loss_and_miners.yaml")
			os.Remove(f)
			return dir, []string{f}
		}},
		{"no metric loss", func(t *testing.T, dir string) (string, []string) {
			f := filepath.Join(dir, "configs", "config_loss_and_miners.yaml")
			os.WriteFile(f, []byte("loss_funcs: {}\n"), 0o644)
			return dir, []string{f, "loss_funcs.metric_loss"}
		}},
		{"corrupt separated", func(t *testing.T, dir string) (string, []string) {
			f := filepath.Join(dir, "meta_logs", "separated.json")
			os.WriteFile(f, []byte(`{"precision_at_1": {"mean": `), 0o644)
			return dir, []string{f}
		}},
		{"no primary metric column", func(t *testing.T, dir string) (string, []string) {
			f := filepath.Join(dir, reporttest.FoldName(1, 0), "records", "accuracies_val.csv")
			os.WriteFile(f, []byte("epoch,precision_at_1\n0,0.5\n"), 0o644)
			return dir, []string{f, `"mean_average_precision_at_r"`}
		}},
		{"bad number", func(t *testing.T, dir string) (string, []string) {
			f := filepath.Join(dir, reporttest.FoldName(1, 0), "records", "losses.csv")
			os.WriteFile(f, []byte("iteration,total_loss\n1,0.5\n2,x\n"), 0o644)
			return dir, []string{f, "line 3"}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path, want := c.spoil(t, valid(t))
			_, err := Load(path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	exps := []*Experiment{
		{
			Name: "a|b", MetricLoss: "ContrastiveLoss", Miner: "none", Folds: make([]Fold, 2),
			Separated: map[string]Summary{
				"recall_at_10":                {0.9, 0.05, 2},
				"recall_at_2":                 {0.8, 0.05, 2},
				"mean_average_precision_at_r": {0.5, 0.125, 2},
				"NMI":                         {0.7, 0.01, 2},
			},
			Concatenated: map[string]float64{"recall_at_10": 0.91, "recall_at_2": 0.81, "mean_average_precision_at_r": 0.51, "NMI": 0.71},
		},
		{
			Name: "one", MetricLoss: "TripletMarginLoss", Miner: "BatchHardMiner", Folds: make([]Fold, 1),
			Separated:    map[string]Summary{"mean_average_precision_at_r": {0.25, math.NaN(), 1}},
			Concatenated: map[string]float64{"mean_average_precision_at_r": 0.25},
		},
		{Name: "running", MetricLoss: "NTXentLoss", Miner: "none", Folds: make([]Fold, 3)},
	}
	want := `| experiment | metric loss | miner | folds | MAP@R | R@2 | R@10 | NMI | MAP@R concat. | R@2 concat. | R@10 concat. | NMI concat. |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
| a\|b | ContrastiveLoss | none | 2 | 0.5000 ± 0.1250 | 0.8000 ± 0.0500 | 0.9000 ± 0.0500 | 0.7000 ± 0.0100 | 0.5100 | 0.8100 | 0.9100 | 0.7100 |
| one | TripletMarginLoss | BatchHardMiner | 1 | 0.2500 | — | — | — | 0.2500 | — | — | — |
| running | NTXentLoss | none | 3 | missing | missing | missing | missing | missing | missing | missing | missing |
`
	if got := Markdown(exps); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	data, err := CSV(exps)
	if err != nil {
		t.Fatal(err)
	}
	wantCSV := `experiment,path,metric_loss,miner,folds,separated_mean_average_precision_at_r_mean,separated_mean_average_precision_at_r_ci95_halfwidth,separated_recall_at_2_mean,separated_recall_at_2_ci95_halfwidth,separated_recall_at_10_mean,separated_recall_at_10_ci95_halfwidth,separated_NMI_mean,separated_NMI_ci95_halfwidth,concatenated_mean_average_precision_at_r,concatenated_recall_at_2,concatenated_recall_at_10,concatenated_NMI
a|b,,ContrastiveLoss,none,2,0.5,0.125,0.8,0.05,0.9,0.05,0.7,0.01,0.51,0.81,0.91,0.71
one,,TripletMarginLoss,BatchHardMiner,1,0.25,,,,,,,,0.25,,,
running,,NTXentLoss,none,3,,,,,,,,,,,,
`
	if string(data) != wantCSV {
		t.Errorf("CSV got\n%s\nwant\n%s", data, wantCSV)
	}
}

func TestWrite(t *testing.T) {
	root := t.TempDir()
	var exps []*Experiment
	for _, f := range []struct {
		name string
		e    reporttest.Experiment
	}{
		{"contrastive", reporttest.Experiment{Loss: "ContrastiveLoss", Folds: 2, Epochs: 3, Iterations: 50, Finished: true, Score: 0.5}},
		{"triplet", reporttest.Experiment{Loss: "TripletMarginLoss", Miner: "BatchHardMiner", Folds: 2, Epochs: 2, Iterations: 50}},
	} {
		e, err := Load(reporttest.Write(t, root, f.name, f.e))
		if err != nil {
			t.Fatal(err)
		}
		exps = append(exps, e)
	}
	out := filepath.Join(t.TempDir(), "report")
	if err := Write(out, exps); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		Markdown(exps),
		"| contrastive | ContrastiveLoss | none | 2 | 0.5000 ± 0.1000 | 0.6000 ± 0.1000 | 0.7000 ± 0.1000 | 0.7000 ± 0.1000 | 0.8000 ± 0.1000 | 0.8500 ± 0.1000 | 0.7500 ± 0.1000 | 0.5100 |",
		"| triplet | TripletMarginLoss | BatchHardMiner | 2 | missing |",
		"![contrastive_val_mean_average_precision_at_r](contrastive_val_mean_average_precision_at_r.png)",
		"![triplet_train_loss](triplet_train_loss.png)",
	} {
		if !strings.Contains(string(md), w) {
			t.Errorf("report.md lacks %q:\n%s", w, md)
		}
	}
	rows, err := csv.NewReader(mustOpen(t, filepath.Join(out, "report.csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][0] != "contrastive" || rows[2][0] != "triplet" {
		t.Errorf("report.csv rows %v", rows)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 6 {
		t.Errorf("want report.md, report.csv and 4 plots, got %v", entries)
	}
	for _, e := range exps {
		for _, f := range []string{e.Name + "_val_mean_average_precision_at_r.png", e.Name + "_train_loss.png"} {
			img, format, err := image.Decode(mustOpen(t, filepath.Join(out, f)))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if b := img.Bounds(); format != "png" || b.Dx() < 100 || b.Dy() < 100 {
				t.Errorf("%s: %s image of %v", f, format, b)
			}
		}
	}
}

func TestWriteSkipsEmptyPlots(t *testing.T) {
	e := &Experiment{Name: "new", MetricLoss: "ContrastiveLoss", Miner: "none", PrimaryMetric: defaultPrimaryMetric, Folds: []Fold{{Name: "f0"}}}
	out := t.TempDir()
	files, err := Plot(e, out)
	if err != nil || len(files) != 0 {
		t.Fatalf("got files %v, error %v; want none", files, err)
	}
}

func TestWriteRefusesSameNames(t *testing.T) {
	a := &Experiment{Path: "/x/exp", Name: "exp"}
	b := &Experiment{Path: "/y/exp", Name: "exp"}
	err := Write(t.TempDir(), []*Experiment{a, b})
	if err == nil || !strings.Contains(err.Error(), "/x/exp") || !strings.Contains(err.Error(), "/y/exp") {
		t.Fatalf("want an error naming both folders, got %v", err)
	}
}

func TestReadCurveSkipsEmptyAndNonFinite(t *testing.T) {
	f := filepath.Join(t.TempDir(), "losses.csv")
	os.WriteFile(f, []byte("iteration,total_loss,lr_1\n1,0.5,\n2,,0.1\n3,NaN,0.1\n4,+Inf,0.1\n5,0.25,0.1\n"), 0o644)
	c, err := readCurve(f, "iteration", "total_loss")
	if err != nil {
		t.Fatal(err)
	}
	want := Curve{X: []float64{1, 5}, Y: []float64{0.5, 0.25}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %v, want %v", c, want)
	}
	if c, err := readCurve(filepath.Join(t.TempDir(), "none.csv"), "a", "b"); err != nil || c.Len() != 0 {
		t.Errorf("a missing file gives %v, %v; want an empty curve", c, err)
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

func mustOpen(t *testing.T, path string) *bytes.Reader {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(data)
}
