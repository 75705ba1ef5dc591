package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bench-ml/bench/internal/search"
)

// tinyArgs is the smallest experiment that trains: 2 folds of 2 epochs.
var tinyArgs = []string{"--config_general", "default", "smoke", "--num_epochs_train", "2", "--iterations_per_epoch", "4"}

// metaLogs are the results a run aggregates over its folds.
var metaLogs = []string{"separated.json", "separated.csv", "concatenated.json", "concatenated.csv", "untrained.json"}

// sameResults checks that two experiments have byte-identical meta results.
func sameResults(t *testing.T, want, got string) {
	t.Helper()
	for _, f := range metaLogs {
		if a, b := readFile(t, filepath.Join(want, "meta_logs", f)), readFile(t, filepath.Join(got, "meta_logs", f)); a != b {
			t.Errorf("%s differs from the serial run's:\n%s\nvs\n%s", filepath.Join(got, "meta_logs", f), b, a)
		}
	}
}

// child runs this test binary as bench in another process.
func child(t *testing.T, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exec.Command(exe, args...)
}

// TestFoldJobs: folds trained by separate processes, started at once on a
// new experiment, then aggregated, and the folds run by the local
// launcher, give the meta results of a serial run byte for byte.
func TestFoldJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	root := t.TempDir()
	if out, err := bench(t, runArgs(t, root, append([]string{"--experiment_name", "serial"}, tinyArgs...)...)...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}

	// Two jobs race to create the folder: one creates it, the other joins.
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for i, fold := range []string{"0", "1"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = child(t, runArgs(t, root, append([]string{"--experiment_name", "folds", "--fold", fold}, tinyArgs...)...)...).CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil {
			t.Fatalf("fold %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	folds := filepath.Join(root, "folds")
	entries, _ := os.ReadDir(root)
	if len(entries) != 2 {
		t.Errorf("the experiment root holds %d entries, want serial and folds only (no temporary folder left)", len(entries))
	}
	// Aggregation waits for every fold.
	done := filepath.Join(folds, "Test50_50_Partitions2_1", "done.json")
	if err := os.Rename(done, done+".away"); err != nil {
		t.Fatal(err)
	}
	if _, err := bench(t, "aggregate", "--root_experiment_folder", root, "--experiment_name", "folds"); err == nil || !strings.Contains(err.Error(), "Test50_50_Partitions2_1") {
		t.Errorf("aggregating with a fold unfinished: want an error naming it, got %v", err)
	}
	if err := os.Rename(done+".away", done); err != nil {
		t.Fatal(err)
	}
	if out, err := bench(t, "aggregate", "--root_experiment_folder", root, "--experiment_name", "folds"); err != nil {
		t.Fatalf("aggregate: %v\n%s", err, out)
	}
	sameResults(t, filepath.Join(root, "serial"), folds)

	for _, c := range []struct {
		args []string
		want string
	}{
		{append([]string{"--fold", "1"}, tinyArgs...), "--resume_training latest"},
		{append([]string{"--fold", "0", "--patience", "5"}, tinyArgs...), "config_general.yaml"},
		{append([]string{"--fold", "2"}, tinyArgs...), "--fold"},
		{append([]string{"--fold", "0", "--launcher", "local"}, tinyArgs...), "--fold"},
	} {
		_, err := bench(t, runArgs(t, root, append([]string{"--experiment_name", "folds"}, c.args...)...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run %v: want an error naming %s, got %v", c.args, c.want, err)
		}
	}

	out, err := bench(t, runArgs(t, root, append([]string{"--experiment_name", "local", "--launcher", "local", "--jobs", "2"}, tinyArgs...)...)...)
	if err != nil {
		t.Fatalf("--launcher local: %v\n%s", err, out)
	}
	sameResults(t, filepath.Join(root, "serial"), filepath.Join(root, "local"))
	status, err := bench(t, "status", "--root_experiment_folder", root, "--experiment_name", "local")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(status), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "pid ") || !strings.Contains(lines[1], " done ") || !strings.HasSuffix(lines[3], "done") {
		t.Errorf("status of a finished local launch:\n%s", status)
	}
	if log := readFile(t, filepath.Join(root, "local", "logs", "fold_1.log")); !strings.Contains(log, "msg=tested fold=Test50_50_Partitions2_1") {
		t.Errorf("fold_1.log:\n%s", log)
	}
}

// TestFoldJoinsFolderOfEarlierBench: a fold job joins an experiment folder
// whose splits.json an earlier bench wrote (a bare list without
// schema_version, here also in another field order and unindented) when
// its split schemes are this run's, and
// refuses it, naming splits.json, when they are not.
func TestFoldJoinsFolderOfEarlierBench(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	root := t.TempDir()
	fold := func(n string) (string, error) {
		return bench(t, runArgs(t, root, append([]string{"--experiment_name", "x", "--fold", n}, tinyArgs...)...)...)
	}
	if out, err := fold("0"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	path := filepath.Join(root, "x", "splits.json")
	var current struct {
		SplitSchemes []struct {
			Name             string
			Train, Val, Test []int
		} `json:"split_schemes"`
	}
	if err := json.Unmarshal([]byte(readFile(t, path)), &current); err != nil {
		t.Fatal(err)
	}
	type earlierSplit struct {
		Test  []int  `json:"test"`
		Val   []int  `json:"val"`
		Train []int  `json:"train"`
		Name  string `json:"name"`
	}
	writeEarlier := func(change bool) {
		var schemes []earlierSplit
		for _, s := range current.SplitSchemes {
			schemes = append(schemes, earlierSplit{Test: slices.Clone(s.Test), Val: s.Val, Train: slices.Clone(s.Train), Name: s.Name})
		}
		if change {
			schemes[1].Train[0], schemes[1].Test[0] = schemes[1].Test[0], schemes[1].Train[0]
		}
		b, err := json.Marshal(schemes)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeEarlier(true)
	if _, err := fold("1"); err == nil || !strings.Contains(err.Error(), "another splits.json") {
		t.Errorf("other split schemes: want an error naming splits.json, got %v", err)
	}
	writeEarlier(false)
	if out, err := fold("1"); err != nil {
		t.Fatalf("the same split schemes written by an earlier bench: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(root, "x", "Test50_50_Partitions2_1", "done.json")); err != nil {
		t.Errorf("fold 1 did not finish: %v", err)
	}
}

func TestLaunchFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--launcher", "pbs"}, "want local or slurm"},
		{[]string{"--jobs", "2"}, "need --launcher"},
		{[]string{"--launcher", "local", "--jobs", "0"}, "--jobs"},
		{[]string{"--launcher", "local", "--slurm", "--time=1"}, "--slurm"},
		{[]string{"--launcher", "slurm", "--jobs", "2"}, "--jobs"},
		{[]string{"--launcher", "local", "--launcher", "slurm"}, "given twice"},
		{[]string{"--launcher"}, "needs a value"},
		{[]string{"--liar", "pessimist"}, "want kriging_believer or constant_liar"},
		{[]string{"--liar", "constant_liar"}, "are for bench search"},
		{[]string{"--launcher", "local", "--parallel", "2"}, "are for bench search"},
	} {
		_, err := bench(t, runArgs(t, t.TempDir(), append([]string{"--experiment_name", "x"}, c.args...)...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: want an error with %q, got %v", c.args, c.want, err)
		}
	}
	l, rest, err := parseLaunchArgs([]string{"--experiment_name", "x", "--launcher=slurm", "--slurm", "--time=5 --partition=a", "--patience", "2"})
	if err != nil || l.Launcher != "slurm" || strings.Join(l.Slurm, "|") != "--time=5|--partition=a" || strings.Join(rest, " ") != "--experiment_name x --patience 2" {
		t.Errorf("parseLaunchArgs: %+v %v %v", l, rest, err)
	}
	if l, _, err := parseLaunchArgs([]string{"--liar=constant_liar", "--parallel", "3"}); err != nil || l.Liar != search.ConstantLiar || l.Parallel != 3 {
		t.Errorf("parseLaunchArgs --liar: %+v %v", l, err)
	}
}
