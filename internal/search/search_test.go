package search

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/record"
)

// peak has its maximum, 0, at lr = 1e-3, margin = 0.3 and m = 5.
func peak(_ string, v map[string]float64) (float64, error) {
	f := 0.0
	if lr, ok := v[lrRange.Path]; ok {
		f -= math.Pow(math.Log10(lr)+3, 2)
	}
	if margin, ok := v[marginRange.Path]; ok {
		f -= 10 * math.Pow(margin-0.3, 2)
	}
	if m, ok := v[mRange.Path]; ok {
		f -= 0.1 * math.Pow(m-5, 2)
	}
	return f, nil
}

func options(t *testing.T, space Space, iters int) Options {
	return Options{Dir: filepath.Join(t.TempDir(), "s"), Space: space, Iters: iters, Seed: 3, Metric: "mean_average_precision_at_r"}
}

// bestOf is the best objective of the first n trials.
func bestOf(st *State, n int) float64 {
	best := math.Inf(-1)
	for _, t := range st.Trials[:n] {
		best = math.Max(best, *t.Objective)
	}
	return best
}

// The Gaussian process finds the peak much more closely than the initial
// design, in one and in three dimensions of the three kinds.
func TestSearchFindsThePeak(t *testing.T) {
	for _, c := range []struct {
		name  string
		space Space
		iters int
		tol   float64
	}{
		{"1-D log", Space{lrRange}, 12, 1e-3},
		{"3-D", Space{lrRange, marginRange, mRange}, 30, 0.02},
	} {
		st, err := Run(options(t, c.space, c.iters), ObjectiveFunc(peak))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		initial, final := bestOf(st, DefaultNumInit), bestOf(st, c.iters)
		if final < -c.tol || final <= initial {
			t.Errorf("%s: best %.4f after the design, %.4f at the end: want above %v", c.name, initial, final, -c.tol)
		}
		t.Logf("%s: best %.4f after the design, %.4f after %d trials", c.name, initial, final, c.iters)
	}
}

func TestSearchWritesResults(t *testing.T) {
	o := options(t, Space{marginRange, mRange}, 7)
	st, err := Run(o, ObjectiveFunc(peak))
	if err != nil {
		t.Fatal(err)
	}
	saved, err := expfolder.ReadSearch(o.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(saved, &st.Search) {
		t.Errorf("search.json holds\n%+v\nRun returned\n%+v", *saved, st.Search)
	}
	ranked := st.ranked()
	for i, tr := range st.Trials {
		if tr.Name != fmt.Sprintf("trial_%d", i) || tr.Status != Done || tr.Values[mRange.Path] != math.Round(tr.Values[mRange.Path]) {
			t.Errorf("trial %d: %+v", i, tr)
		}
	}
	var best expfolder.Best
	if err := expfolder.ReadJSON(filepath.Join(o.Dir, expfolder.BestFile), &best); err != nil {
		t.Fatal(err)
	}
	if best.Trial != ranked[0].Name || best.Objective != *ranked[0].Objective || best.Folder != filepath.Join(o.Dir, ranked[0].Name) {
		t.Errorf("best.json %v, want %s with %v", best, ranked[0].Name, *ranked[0].Objective)
	}
	csv, err := os.ReadFile(filepath.Join(o.Dir, trialsFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if want := "trial,objective," + marginRange.Path + "," + mRange.Path; lines[0] != want || len(lines) != 8 {
		t.Fatalf("trials.csv:\n%s\nwant header %s and 7 rows", csv, want)
	}
	for i, tr := range ranked {
		if !strings.HasPrefix(lines[i+1], tr.Name+",") {
			t.Errorf("trials.csv row %d is %q, want %s (best first)", i+1, lines[i+1], tr.Name)
		}
	}
}

// A search stopped after some trials and run again with more ends with the
// trials an uninterrupted search makes: the same seed, the same trials.
func TestSearchResumes(t *testing.T) {
	space := Space{lrRange, marginRange}
	whole, err := Run(options(t, space, 8), ObjectiveFunc(peak))
	if err != nil {
		t.Fatal(err)
	}
	o := options(t, space, 6)
	if _, err := Run(o, ObjectiveFunc(peak)); err != nil {
		t.Fatal(err)
	}
	o.Iters = 8
	var ran []string
	resumed, err := Run(o, ObjectiveFunc(func(name string, v map[string]float64) (float64, error) {
		ran = append(ran, name)
		return peak(name, v)
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ran, []string{"trial_6", "trial_7"}) {
		t.Errorf("the resumed search ran %v, want trial_6 and trial_7 only", ran)
	}
	if !reflect.DeepEqual(resumed.Trials, whole.Trials) {
		t.Errorf("resumed trials\n%+v\nuninterrupted\n%+v", resumed.Trials, whole.Trials)
	}
}

// A trial that fails (as a killed one) stays "running" in the state; the
// next run evaluates it again with the same values, leaving its folder to
// the objective to continue from.
func TestSearchRerunsAnUnfinishedTrial(t *testing.T) {
	o := options(t, Space{marginRange}, 3)
	var failedValues map[string]float64
	_, err := Run(o, ObjectiveFunc(func(name string, v map[string]float64) (float64, error) {
		if name == "trial_1" {
			failedValues = v
			os.MkdirAll(filepath.Join(o.Dir, name, "configs"), 0o755)
			return 0, errors.New("killed")
		}
		return peak(name, v)
	}))
	if err == nil || !strings.Contains(err.Error(), "trial_1") || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("want the trial's error, naming it, got %v", err)
	}
	st, err := expfolder.ReadSearch(o.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Trials) != 2 || st.Trials[1].Status != Running {
		t.Fatalf("state after the failure: %+v", st.Trials)
	}
	_, err = Run(o, ObjectiveFunc(func(name string, v map[string]float64) (float64, error) {
		if name == "trial_1" {
			// The folder is the objective's to continue from.
			if _, err := os.Stat(filepath.Join(o.Dir, name, "configs")); err != nil {
				t.Errorf("trial_1's folder is gone: %v", err)
			}
			if !reflect.DeepEqual(v, failedValues) {
				t.Errorf("trial_1 re-ran with %v, first with %v", v, failedValues)
			}
		}
		if name == "trial_0" {
			t.Error("trial_0 ran again")
		}
		return peak(name, v)
	}))
	if err != nil {
		t.Fatal(err)
	}
}

// A trial whose training diverged (NaN) is recorded as such, ranks last,
// and the search goes on.
func TestSearchDivergedTrial(t *testing.T) {
	o := options(t, Space{lrRange}, 8)
	o.NumInit = 3
	st, err := Run(o, ObjectiveFunc(func(name string, v map[string]float64) (float64, error) {
		if v[lrRange.Path] > 1e-3 {
			return math.NaN(), nil
		}
		return peak(name, v)
	}))
	if err != nil {
		t.Fatal(err)
	}
	diverged := 0
	for _, tr := range st.Trials {
		if (tr.Status == Diverged) != (tr.Values[lrRange.Path] > 1e-3) || (tr.Objective == nil) != (tr.Status == Diverged) {
			t.Errorf("%+v", tr)
		}
		if tr.Status == Diverged {
			diverged++
		}
	}
	if ranked := st.ranked(); diverged == 0 || ranked[len(ranked)-1].Status != Diverged {
		t.Errorf("want diverged trials, ranked last: %+v", ranked)
	}
}

func TestSearchErrors(t *testing.T) {
	notSearch := t.TempDir()
	os.WriteFile(filepath.Join(notSearch, "splits.json"), []byte("[]"), 0o644)
	done := options(t, Space{lrRange}, 2)
	if _, err := Run(done, ObjectiveFunc(peak)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(o *Options)
		want string
	}{
		{"no ranges", func(o *Options) { o.Space = nil }, "no search ranges"},
		{"no iterations", func(o *Options) { o.Iters = 0 }, "--bayes_opt_iters must be at least 1"},
		{"another experiment's folder", func(o *Options) { o.Dir = notSearch }, "is not a search"},
		{"another space", func(o *Options) { o.Dir = done.Dir; o.Space = Space{marginRange} }, "search range"},
		{"another range", func(o *Options) { o.Dir = done.Dir; d := lrRange; d.High = 1; o.Space = Space{d} }, "search range"},
		{"another seed", func(o *Options) { o.Dir = done.Dir; o.Space = done.Space; o.Seed = 9 }, "seed 3"},
		{"another design", func(o *Options) { o.Dir = done.Dir; o.Space = done.Space; o.NumInit = 1 }, "--num_init_trials 2"},
	} {
		o := options(t, Space{lrRange}, 2)
		c.edit(&o)
		_, err := Run(o, ObjectiveFunc(peak))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

func TestValidationObjective(t *testing.T) {
	dir := t.TempDir()
	write := func(path, text string) {
		t.Helper()
		if err := record.WriteFileAtomic(filepath.Join(dir, path), []byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	write("splits.json", `[{"name": "f0", "train": [1]}, {"name": "f1"}]`)
	checkpoint := func(path, state string) {
		t.Helper()
		if err := record.WriteCheckpoint(filepath.Join(dir, path), &record.Checkpoint{State: []byte(state)}); err != nil {
			t.Fatal(err)
		}
	}
	checkpoint("f0/saved_models/best.safetensors", `{"fold": {"epoch": 2, "best_epoch": 2, "best_metric": 0.25}, "optimizers": {}}`)
	if _, err := ValidationObjective(dir); err == nil || !strings.Contains(err.Error(), "f1") {
		t.Errorf("a fold without a checkpoint: got %v, want an error naming it", err)
	}
	checkpoint("f1/saved_models/best.safetensors", `{"fold": {"epoch": 3}}`)
	if _, err := ValidationObjective(dir); err == nil || !strings.Contains(err.Error(), "best_metric") {
		t.Errorf("a checkpoint without best_metric: got %v", err)
	}
	write("f1/saved_models/best.safetensors", "not a checkpoint")
	if _, err := ValidationObjective(dir); err == nil || !strings.Contains(err.Error(), "f1/saved_models/best.safetensors") {
		t.Errorf("a damaged checkpoint: got %v", err)
	}
	checkpoint("f1/saved_models/best.safetensors", `{"fold": {"best_metric": 0.5}}`)
	if got, err := ValidationObjective(dir); err != nil || got != 0.375 {
		t.Errorf("ValidationObjective = %v, %v; want the mean 0.375", got, err)
	}
}

func TestSearchRefusesAnUnknownLiar(t *testing.T) {
	o := options(t, Space{marginRange}, 3)
	o.Liar = "pessimist"
	if _, err := Run(o, ObjectiveFunc(peak)); err == nil || !strings.Contains(err.Error(), "--liar") {
		t.Errorf("want an error naming --liar, got %v", err)
	}
}
