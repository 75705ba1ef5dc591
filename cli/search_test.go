package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/search"
)

// searchArgs are the flags of a tiny search on the smoke config, whose
// search ranges are the optimisers' learning rates and the loss's margin.
func searchArgs(root string, extra ...string) []string {
	return append([]string{"search", "--root_experiment_folder", root, "--root_config_folder", "../configs",
		"--experiment_name", "s", "--config_general", "default", "smoke", "search_smoke",
		"--num_epochs_train", "1", "--iterations_per_epoch", "5", "--check_untrained_accuracy", "false"}, extra...)
}

// TestSearchSmoke runs a two-trial search end to end, checks that each
// trial trained with its values and that the objective is the validation
// metric, then extends the search by one trial.
func TestSearchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end search")
	}
	root := t.TempDir()
	out, err := bench(t, searchArgs(root, "--bayes_opt_iters", "2")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	dir := filepath.Join(root, "s")
	var st search.State
	readJSON(t, filepath.Join(dir, "search.json"), &st)
	// in tree order
	paths := []string{"loss_funcs.metric_loss.ContrastiveLoss.neg_margin",
		"optimizers.trunk_optimizer.Adam.lr", "optimizers.embedder_optimizer.Adam.lr"}
	if len(st.Space) != len(paths) || len(st.Trials) != 2 {
		t.Fatalf("search.json: %d ranges and %d trials, want %d and 2", len(st.Space), len(st.Trials), len(paths))
	}
	for i, p := range paths {
		if st.Space[i].Path != p {
			t.Errorf("range %d is %s, want %s", i, st.Space[i].Path, p)
		}
	}
	for _, tr := range st.Trials {
		folder := filepath.Join(dir, tr.Name)
		saved, err := config.LoadSaved(filepath.Join(folder, "configs"), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			if got, _ := saved.Get(p); got != tr.Values[p] {
				t.Errorf("%s trained with %s = %v, its values say %v", tr.Name, p, got, tr.Values[p])
			}
		}
		// The objective is the mean of the folds' best validation metric,
		// read here independently of search.ValidationObjective.
		sum := 0.0
		for _, fold := range []string{"Test50_50_Partitions2_0", "Test50_50_Partitions2_1"} {
			c, err := record.ReadCheckpoint(filepath.Join(folder, fold, "saved_models/best.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			var best struct {
				Fold struct {
					BestMetric float64 `json:"best_metric"`
				} `json:"fold"`
			}
			if err := json.Unmarshal(c.State, &best); err != nil {
				t.Fatal(err)
			}
			sum += best.Fold.BestMetric
		}
		if tr.Status != search.Done || tr.Objective == nil || *tr.Objective != sum/2 {
			t.Errorf("%s: %+v, want done with objective %v", tr.Name, tr, sum/2)
		}
		if _, err := os.Stat(filepath.Join(folder, "meta_logs/separated.json")); err != nil {
			t.Errorf("%s was not tested: %v", tr.Name, err)
		}
	}
	var best map[string]any
	readJSON(t, filepath.Join(dir, "best.json"), &best)
	if best["metric"] != "mean_average_precision_at_r" || best["trial"] == nil {
		t.Errorf("best.json: %v", best)
	}
	if csv := readFile(t, filepath.Join(dir, "trials.csv")); strings.Count(csv, "\n") != 3 {
		t.Errorf("trials.csv:\n%s\nwant a header and 2 rows", csv)
	}

	// Run again with one trial more: only trial_2 runs.
	out, err = bench(t, searchArgs(root, "--bayes_opt_iters", "3")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(out, "trial=trial_0 number=") || !strings.Contains(out, "msg=trial trial=trial_2 number=3 of=3") {
		t.Errorf("the extended search should run trial_2 only:\n%s", out)
	}
	var more search.State
	readJSON(t, filepath.Join(dir, "search.json"), &more)
	if len(more.Trials) != 3 || !reflect.DeepEqual(more.Trials[:2], st.Trials) {
		t.Errorf("extended trials %+v, first two were %+v", more.Trials, st.Trials)
	}
}

func TestSearchErrors(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "s", "configs"), 0o755)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no --bayes_opt_iters", searchArgs(root), "--bayes_opt_iters N is required"},
		{"bad --bayes_opt_iters", searchArgs(root, "--bayes_opt_iters", "0"), "--bayes_opt_iters: want a whole number of at least 1"},
		{"bad --num_init_trials", searchArgs(root, "--bayes_opt_iters", "3", "--num_init_trials", "x"), "--num_init_trials: want a whole number"},
		{"resuming", searchArgs(root, "--bayes_opt_iters", "3", "--resume_training", "latest"), "run the same search command again"},
		{"no search ranges", []string{"search", "--root_config_folder", "../configs", "--root_experiment_folder", root,
			"--experiment_name", "x", "--bayes_opt_iters", "2"}, "no search ranges"},
		{"a bad value besides the ranges", searchArgs(root, "--bayes_opt_iters", "2", "--patience", "-1"), "patience"},
		{"another experiment's folder", searchArgs(root, "--bayes_opt_iters", "2"), "is not a search"},
	} {
		_, err := bench(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want one line with %q", c.name, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "x")); err == nil {
		t.Error("a search without ranges made its folder")
	}
}
