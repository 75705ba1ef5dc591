package cli

import (
	"encoding/csv"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/search"
)

// everyTrainer are the config_general files, on top of default smoke, that
// select each trainer.
var everyTrainer = []struct {
	trainer string
	configs []string
}{
	{"MetricLossOnly", nil},
	{"TrainWithClassifier", []string{"train_with_classifier"}},
	{"CascadedEmbeddings", []string{"cascaded"}},
	{"DeepAdversarialMetricLearning", []string{"daml", "daml_light"}},
}

// TestReportAndSearchEveryTrainer makes a real smoke run and a one-trial
// search of every trainer, then reports them all at once: every
// experiment's row holds the numbers of its meta_logs, every search its
// trial, whose objective is the mean of its folds' best validation metric.
func TestReportAndSearchEveryTrainer(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	root := t.TempDir()
	tiny := []string{"--num_epochs_train", "1", "--iterations_per_epoch", "2"}
	var folders []string
	for _, tc := range everyTrainer {
		general := append([]string{"--config_general", "default", "smoke"}, tc.configs...)
		exp := strings.ToLower(tc.trainer)
		args := append(append([]string{"--experiment_name", exp}, general...), tiny...)
		if out, err := bench(t, runArgs(t, root, args...)...); err != nil {
			t.Fatalf("%s: %v\n%s", tc.trainer, err, out)
		}
		saved, err := config.LoadSaved(filepath.Join(root, exp, "configs"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := saved.Keys("trainer"); len(got) != 1 || got[0] != tc.trainer {
			t.Fatalf("%s: the saved config's trainer is %v", exp, got)
		}

		args = append(append([]string{"search", "--root_experiment_folder", root, "--root_config_folder", "../configs",
			"--experiment_name", "search_" + exp, "--bayes_opt_iters", "1", "--num_init_trials", "1",
			"--optimizers~APPLY~3", "{lr~LOG_BAYESIAN~: [1e-4, 1e-2]}"}, general...), tiny...)
		if out, err := bench(t, args...); err != nil {
			t.Fatalf("search of %s: %v\n%s", tc.trainer, err, out)
		}
		var st search.State
		if err := expfolder.ReadJSON(filepath.Join(root, "search_"+exp, "search.json"), &st); err != nil {
			t.Fatal(err)
		}
		trial := &record.Folder{Path: filepath.Join(root, "search_"+exp, "trial_0")}
		splits, err := expfolder.ReadSplits(trial.Path)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, sp := range splits {
			done, err := expfolder.ReadDone(trial, sp.Name)
			if err != nil || done == nil {
				t.Fatalf("%s %s: done.json %v, %v", trial.Path, sp.Name, done, err)
			}
			sum += done.BestMetric
		}
		if len(st.Trials) != 1 || st.Trials[0].Status != search.Done || st.Trials[0].Objective == nil ||
			*st.Trials[0].Objective != sum/float64(len(splits)) {
			t.Errorf("search of %s: trials %+v, want one done with objective %v", tc.trainer, st.Trials, sum/float64(len(splits)))
		}
		folders = append(folders, filepath.Join(root, exp), filepath.Join(root, "search_"+exp))
	}

	dir := filepath.Join(t.TempDir(), "report")
	stdout, stderr, err := benchStreams(t, append(append([]string{"report"}, folders...), "--out", dir)...)
	if err != nil {
		t.Fatalf("report: %v\n%s", err, stderr)
	}
	rows, err := csv.NewReader(mustRead(t, filepath.Join(dir, "report.csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	seen := map[string]int{}
	for _, r := range rows[1:] {
		path := r[col["path"]]
		res, err := expfolder.ReadResults(filepath.Join(path, "meta_logs"))
		if err != nil {
			t.Fatal(err)
		}
		m := r[col["metric"]]
		sep, errS := strconv.ParseFloat(r[col["separated_mean"]], 64)
		cat, errC := strconv.ParseFloat(r[col["concatenated"]], 64)
		if errS != nil || errC != nil || sep != res.Separated[m].Mean || cat != res.Concatenated[m] {
			t.Errorf("report.csv %s %s: separated %s, concatenated %s; meta_logs say %v, %v",
				path, m, r[col["separated_mean"]], r[col["concatenated"]], res.Separated[m].Mean, res.Concatenated[m])
		}
		seen[path]++
	}
	for _, tc := range everyTrainer {
		exp := strings.ToLower(tc.trainer)
		for _, path := range []string{filepath.Join(root, exp), filepath.Join(root, "search_"+exp, "trial_0")} {
			if seen[path] != 3 {
				t.Errorf("report.csv has %d rows of %s, want 3 (P@1, R-Precision, MAP@R)", seen[path], path)
			}
		}
		if !strings.Contains(stdout, "Search search_"+exp+":") {
			t.Errorf("the report has no table of search_%s:\n%s", exp, stdout)
		}
	}
	if strings.Contains(stdout, "missing") && strings.Contains(stderr, "unfinished") {
		t.Errorf("a finished experiment reported as unfinished:\n%s", stderr)
	}
}

// TestReportUnversionedExperiment reports and shows the status of an
// experiment written by a bench before schema versions: its files, without
// schema_version and in their old layout, are read as version 1.
func TestReportUnversionedExperiment(t *testing.T) {
	const root = "../testdata/expfolder"
	exp := filepath.Join(root, "cascaded")
	dir := filepath.Join(t.TempDir(), "report")
	if _, stderr, err := benchStreams(t, "report", exp, "--out", dir); err != nil {
		t.Fatalf("report: %v\n%s", err, stderr)
	}
	// The old layout, read here without expfolder: a bare map.
	var separated map[string]map[string]float64
	readJSON(t, filepath.Join(exp, "meta_logs", "separated.json"), &separated)
	rows, err := csv.NewReader(mustRead(t, filepath.Join(dir, "report.csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("report.csv has %d rows, want a header and 3", len(rows))
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	for _, r := range rows[1:] {
		m, got := r[col["metric"]], r[col["separated_mean"]]
		if want := strconv.FormatFloat(separated[m]["mean"], 'g', -1, 64); got != want {
			t.Errorf("report.csv %s: separated mean %s, the old separated.json %s", m, got, want)
		}
	}
	out, err := bench(t, "status", "--root_experiment_folder", root, "--experiment_name", "cascaded")
	if err != nil || strings.Count(out, " done ") != 3 {
		t.Errorf("status: %v\n%s\nwant both folds and the aggregate done", err, out)
	}
}
