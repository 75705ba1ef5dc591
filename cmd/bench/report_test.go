package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/report/reporttest"
)

func TestReportCommand(t *testing.T) {
	root := t.TempDir()
	done := reporttest.Write(t, root, "done", reporttest.Experiment{
		Loss: "ContrastiveLoss", Folds: 2, Epochs: 2, Iterations: 10, Finished: true, Score: 0.5,
	})
	running := reporttest.Write(t, root, "running", reporttest.Experiment{
		Loss: "TripletMarginLoss", Miner: "BatchHardMiner", Folds: 2, Epochs: 1, Iterations: 10,
	})
	out := filepath.Join(root, "out")
	stdout, stderr, err := benchStreams(t, "report", done, running, "--out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	lines := strings.Split(stdout, "\n")
	wantLines := []string{
		"| experiment | metric loss | miner | folds | MAP@R | R-precision | P@1 | R@1 | R@2 | R@10 | MRR | MAP@R concat. |",
		"| --- | --- |",
		"| done | ContrastiveLoss | none | 2 | 0.5000 ± 0.1000 | 0.6000 ± 0.1000 |",
		"| running | TripletMarginLoss | BatchHardMiner | 2 | missing | missing |",
	}
	for i, w := range wantLines {
		if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
			t.Errorf("stdout line %d does not start with %q:\n%s", i+1, w, stdout)
		}
	}
	wantErr := `level=WARN msg="unfinished experiment: its results are shown as missing" folder=` + running + ` missing="meta_logs/separated.json, meta_logs/concatenated.json"`
	if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, wantErr) {
		t.Errorf("stderr:\n%s\nwant one line holding\n%s", stderr, wantErr)
	}
	if !strings.HasSuffix(stdout, "report: "+filepath.Join(out, "report.md")+"\n") {
		t.Errorf("stdout does not end with the report's path:\n%s", stdout)
	}
	for _, f := range []string{"report.md", "report.csv", "done_val_mean_average_precision_at_r.png", "done_train_loss.png",
		"running_val_mean_average_precision_at_r.png", "running_train_loss.png"} {
		if info, err := os.Stat(filepath.Join(out, f)); err != nil || info.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}

func TestReportDefaultOut(t *testing.T) {
	dir := t.TempDir()
	exp := reporttest.Write(t, dir, "exp", reporttest.Experiment{
		Loss: "ContrastiveLoss", Folds: 1, Epochs: 1, Iterations: 4, Finished: true, Score: 0.5,
	})
	t.Chdir(dir)
	if _, stderr, err := benchStreams(t, "report", exp); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "report", "report.md")); err != nil {
		t.Error(err)
	}
}

func TestReportErrors(t *testing.T) {
	root := t.TempDir()
	exp := reporttest.Write(t, root, "exp", reporttest.Experiment{
		Loss: "ContrastiveLoss", Folds: 1, Epochs: 1, Iterations: 4, Finished: true, Score: 0.5,
	})
	notExp := filepath.Join(root, "not_an_experiment")
	if err := os.Mkdir(notExp, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no folder", []string{"report"}, "at least one experiment folder"},
		{"not an experiment", []string{"report", exp, notExp}, notExp + " is not an experiment folder"},
		{"missing folder", []string{"report", filepath.Join(root, "nope")}, filepath.Join(root, "nope")},
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
