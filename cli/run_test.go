package cli

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/bench-ml/bench/internal/expfolder"
)

// benchStreams runs the command line in-process and returns its standard
// output and standard error apart.
func benchStreams(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

// bench runs the command line in-process and returns all it printed.
func bench(t *testing.T, args ...string) (string, error) {
	t.Helper()
	stdout, stderr, err := benchStreams(t, args...)
	return stdout + stderr, err
}

// runArgs are the flags that point a run at the repository's configs and a
// temporary experiment root.
func runArgs(t *testing.T, root string, extra ...string) []string {
	return append([]string{"run", "--root_experiment_folder", root, "--root_config_folder", "../configs"}, extra...)
}

// TestSmokeRun is the end-to-end run CI relies on: the smoke config trains
// two folds, tests them and aggregates, and training beats the untrained
// model on the test set.
func TestSmokeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	root := t.TempDir()
	stdout, stderr, err := benchStreams(t, runArgs(t, root, "--experiment_name", "smoke", "--config_general", "default", "smoke")...)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, stdout, stderr)
	}
	// The summary states the interval as every table does.
	if !regexp.MustCompile(`test mean_average_precision_at_r: separated 0\.\d{4} ± 0\.\d{4} \(mean ± 95% CI half-width, 2 folds\), concatenated 0\.\d{4}\n`).MatchString(stdout) {
		t.Errorf("no final summary in the stated convention:\n%s", stdout)
	}
	exp := filepath.Join(root, "smoke")
	// Results to stdout, the log and progress to stderr.
	wantOut := "test mean_average_precision_at_r: separated "
	if !strings.HasPrefix(stdout, "untrained test: ") || !strings.Contains(stdout, wantOut) ||
		!strings.HasSuffix(stdout, "results: "+filepath.Join(exp, "meta_logs")+"\n") || strings.Count(stdout, "\n") != 3 {
		t.Errorf("stdout should hold the untrained and trained test results and the results folder, only:\n%s", stdout)
	}
	for _, want := range []string{"level=INFO msg=experiment folder=" + exp, "msg=evaluated fold=Test50_50_Partitions2_0 epoch=1 val=",
		"Test50_50_Partitions2_1 epoch 1/4 25/25 ", " loss 0.", " img/s experiment ETA ", "embedding 288/288 ", "neighbour search 288/288 "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not hold %q:\n%s", want, stderr)
		}
	}
	var want []string
	for _, c := range []string{"general", "dataset", "models", "loss_and_miners", "transforms", "optimizers", "eval"} {
		want = append(want, "configs/config_"+c+".yaml")
	}
	for _, fold := range []string{"Test50_50_Partitions2_0", "Test50_50_Partitions2_1"} {
		want = append(want, fold+"/saved_models/best.safetensors", fold+"/saved_models/latest.safetensors",
			fold+"/records/losses.csv", fold+"/records/accuracies_val.csv",
			fold+"/records/records.db")
	}
	want = append(want, "splits.json", "meta_logs/separated.csv", "meta_logs/separated.json",
		"meta_logs/concatenated.csv", "meta_logs/concatenated.json", "meta_logs/untrained.json", "meta_logs/test.json", "experiment.db")
	for _, f := range want {
		if _, err := os.Stat(filepath.Join(exp, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	for _, fold := range []string{"Test50_50_Partitions2_0", "Test50_50_Partitions2_1"} {
		checkRecords(t, filepath.Join(exp, fold, "records"))
	}
	res, err := expfolder.ReadResults(filepath.Join(exp, "meta_logs"))
	if err != nil {
		t.Fatal(err)
	}
	got, before := res.Separated["mean_average_precision_at_r"].Mean, res.Untrained["mean_average_precision_at_r"]
	if !(got > before) {
		t.Errorf("test MAP@R after training %.4f, untrained %.4f: training did not help", got, before)
	}
	t.Logf("test MAP@R: untrained %.4f, trained %.4f", before, got)

	// The saved configs alone reproduce the run's config.
	again, err := bench(t, "configs", "show", "--reproduce_results", exp)
	if err != nil {
		t.Fatalf("configs show --reproduce_results: %v", err)
	}
	saved, _ := os.ReadFile(filepath.Join(exp, "configs/config_general.yaml"))
	if !strings.Contains(again, string(saved)) {
		t.Errorf("the saved config_general does not read back as itself:\n%s\nvs\n%s", saved, again)
	}

	// eval re-tests the saved best models: the same numbers.
	results := readFile(t, filepath.Join(exp, "meta_logs/separated.json"))
	if out, err := bench(t, "eval", "--root_experiment_folder", root, "--experiment_name", "smoke"); err != nil {
		t.Fatalf("eval: %v\n%s", err, out)
	}
	if after := readFile(t, filepath.Join(exp, "meta_logs/separated.json")); after != results {
		t.Errorf("eval changed the test results:\n%s\nvs\n%s", after, results)
	}

	// provenance.json holds the run, then the evaluation.
	var prov expfolder.Provenance
	readJSON(t, filepath.Join(exp, expfolder.ProvenanceFile), &prov)
	if len(prov.Runs) != 2 {
		t.Fatalf("provenance.json has %d runs, want the run and the evaluation: %+v", len(prov.Runs), prov)
	}
	for i, r := range prov.Runs {
		if r.Outcome != "finished" || r.End == nil || r.End.Before(r.Start) || r.GoVersion != runtime.Version() ||
			r.OS != runtime.GOOS || r.Arch != runtime.GOARCH || r.Threads != runtime.GOMAXPROCS(0) || r.Version == "" ||
			!slices.Equal(r.Command, os.Args) {
			t.Errorf("provenance run %d: %+v", i, r)
		}
	}
	if !prov.Runs[1].Start.After(prov.Runs[0].Start) {
		t.Errorf("provenance runs out of order: %+v", prov.Runs)
	}

	// The name is now taken.
	_, err = bench(t, runArgs(t, root, "--experiment_name", "smoke", "--config_general", "default", "smoke")...)
	if err == nil || !strings.Contains(err.Error(), exp) {
		t.Errorf("reusing the name: want an error naming %s, got %v", exp, err)
	}
}

// checkRecords checks that a fold's records were also written as one
// TensorBoard event file and a database holding what losses.csv holds.
func checkRecords(t *testing.T, dir string) {
	t.Helper()
	events, _ := filepath.Glob(filepath.Join(dir, "tensorboard", "events.out.tfevents.*"))
	if len(events) != 1 {
		t.Errorf("%s: want one TensorBoard event file, got %v", dir, events)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows int
	if err := db.QueryRow("SELECT count(*) FROM losses").Scan(&rows); err != nil {
		t.Fatalf("%s/records.db: %v", dir, err)
	}
	lines := strings.Count(readFile(t, filepath.Join(dir, "losses.csv")), "\n") - 1 // the header
	if rows != lines || rows == 0 {
		t.Errorf("%s: records.db has %d losses, losses.csv %d", dir, rows, lines)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestRunErrors checks that bad input gives one clear error naming what to
// fix, and writes nothing.
func TestRunErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown loss", []string{"--loss_funcs", "{metric_loss~OVERRIDE~:", "{TripletMarginLos:", "{}}}"},
			[]string{"--loss_funcs", "loss_funcs.metric_loss.TripletMarginLos", `did you mean "TripletMarginLoss"`}},
		{"two types merged", []string{"--loss_funcs", "{metric_loss: {TripletMarginLoss: {}}}"},
			[]string{"loss_funcs.metric_loss", "ContrastiveLoss, TripletMarginLoss", "metric_loss~OVERRIDE~"}},
		{"unknown loss parameter", []string{"--loss_funcs", "{metric_loss: {ContrastiveLoss: {pos_margn: 0}}}"},
			[]string{"loss_funcs.metric_loss.ContrastiveLoss.pos_margn", `did you mean "pos_margin"`}},
		{"typo in a top-level key", []string{"--set", "patiense=3"},
			[]string{"patiense"}},
		{"wrong type", []string{"--patience", "soon"},
			[]string{"--patience", "patience", "want an integer"}},
		{"out of range", []string{"--batch_size", "1"},
			[]string{"batch_size", "must be >= 2"}},
		{"unbalanced brackets", []string{"--models", "{trunk:", "{ConvNet: {}}"},
			[]string{"--models"}},
		{"missing config file", []string{"--config_models", "defualt"},
			[]string{"config_models", "defualt", `did you mean "default"`}},
		{"missing dataset folder", []string{"--dataset~OVERRIDE~", "{Omniglot: {}}", "--dataset_root", "/nonexistent"},
			[]string{"/nonexistent"}},
		{"batch size not a multiple of m", []string{"--sampler", "{MPerClassSampler: {m: 5}}"},
			[]string{"--sampler", "sampler.MPerClassSampler", "batch_size 32", "m (5)"}},
		{"no experiment name", []string{}, []string{"--experiment_name"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			args := c.args
			if c.name != "no experiment name" {
				args = append([]string{"--experiment_name", "x"}, args...)
			}
			_, err := bench(t, runArgs(t, root, args...)...)
			if err == nil {
				t.Fatal("want an error")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("want one line, got %q", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if entries, _ := os.ReadDir(root); len(entries) > 0 {
				t.Errorf("an invalid config wrote %v", entries)
			}
		})
	}
}

func TestEvalOfMissingExperiment(t *testing.T) {
	root := t.TempDir()
	for _, args := range [][]string{
		{"eval", "--root_experiment_folder", root, "--experiment_name", "nope"},
		{"run", "--root_experiment_folder", root, "--experiment_name", "nope", "--resume_training", "latest"},
	} {
		_, err := bench(t, args...)
		if err == nil || !strings.Contains(err.Error(), "no experiment at "+filepath.Join(root, "nope")) {
			t.Errorf("%v: got %v", args, err)
		}
	}
}

func TestConfigsShowFillsDefaults(t *testing.T) {
	out, err := bench(t, "configs", "show", "--root_config_folder", "../configs",
		"--optimizers~APPLY~3", "{lr: 0.01}")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# config_general", "num_epochs_train:", "pos_margin: 0", "neg_margin: 1", "lr: 0.01", "betas:"} {
		if !strings.Contains(out, want) {
			t.Errorf("configs show lacks %q:\n%s", want, out)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{}, {"run", "--help"}, {"configs", "show", "--help"}} {
		out, err := bench(t, args...)
		if err != nil || !strings.Contains(out, "Usage") {
			t.Errorf("bench %v: err %v, output %q", args, err, out)
		}
	}
}

// TestReproducibleAndResumable checks that one seed gives the same numbers,
// and that a run stopped after 2 epochs and resumed to 4 ends exactly where
// an uninterrupted 4-epoch run does (model, optimiser state, batches,
// transforms and the miner's draws all continue as if it had not stopped).
func TestReproducibleAndResumable(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	// Each keeps state across steps that must survive the resume.
	for name, state := range map[string][]string{
		"sampling miner":     {"--mining_funcs", "{tuple_miner: {DistanceWeightedMiner: {}}}"},
		"loss histogram":     {"--loss_funcs", "{metric_loss~OVERRIDE~: {DynamicSoftMarginLoss: {momentum: 0.3}}}"},
		"random triplets":    {"--loss_funcs", "{metric_loss~OVERRIDE~: {TripletMarginLoss: {triplets_per_anchor: 3}}}"},
		"cross-batch memory": {"--loss_funcs", "{metric_loss~OVERRIDE~: {CrossBatchMemory: {loss: {ContrastiveLoss: {}}, memory_size: 64}}}"},
		// MarginLoss's beta, learnt through the wrapper by metric_loss_optimizer.
		"cross-batch memory, learnt beta": {"--loss_funcs", "{metric_loss~OVERRIDE~: {CrossBatchMemory: {loss: {MarginLoss: {learn_beta: true, nu: 0.1}}, memory_size: 64}}}",
			"--optimizers", "{metric_loss_optimizer: {SGD: {lr: 0.01}}}"},
	} {
		t.Run(name, func(t *testing.T) { reproducibleAndResumable(t, state) })
	}
}

func reproducibleAndResumable(t *testing.T, state []string) {
	root := t.TempDir()
	smoke := append([]string{"--config_general", "default", "smoke", "--patience", "10"}, state...)
	run := func(name string, extra ...string) {
		t.Helper()
		args := append([]string{"--experiment_name", name}, append(append([]string{}, smoke...), extra...)...)
		if out, err := bench(t, runArgs(t, root, args...)...); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
	}
	run("a")
	run("b")
	run("c", "--num_epochs_train", "2")
	out, err := bench(t, "run", "--root_experiment_folder", root, "--experiment_name", "c",
		"--resume_training", "latest", "--merge_argparse_when_resuming", "--num_epochs_train", "4")
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	read := func(name, file string) string {
		data, err := os.ReadFile(filepath.Join(root, name, file))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	for _, file := range []string{"meta_logs/separated.json", "meta_logs/concatenated.json", "splits.json"} {
		if read("a", file) != read("b", file) {
			t.Errorf("same seed, different %s", file)
		}
		if read("a", file) != read("c", file) {
			t.Errorf("resumed run differs from the uninterrupted one in %s:\n%s\nvs\n%s", file, read("c", file), read("a", file))
		}
	}
	// The records too: the resumed fold's losses continue the interrupted
	// ones, and its events are rewritten into one file.
	fold := "Test50_50_Partitions2_0/records/"
	if read("a", fold+"losses.csv") != read("c", fold+"losses.csv") {
		t.Errorf("resumed run's losses.csv differs from the uninterrupted one's")
	}
	if events, _ := filepath.Glob(filepath.Join(root, "c", fold, "tensorboard", "*")); len(events) != 1 {
		t.Errorf("want one event file, got %v", events)
	}
	if diffs, _ := filepath.Glob(filepath.Join(root, "c", "configs", "resume_training_config_diffs_*")); len(diffs) != 1 {
		t.Errorf("the resumed config change was not recorded as a diff: %v", diffs)
	}
}

// The classifier head defaults to one Linear layer to the classes, not to
// the embedder's default layers.
func TestClassifierDefaults(t *testing.T) {
	out, err := bench(t, "configs", "show", "--root_config_folder", "../configs",
		"--trainer~OVERRIDE~", "{TrainWithClassifier: {}}")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(out, "classifier:")
	if i < 0 || !strings.Contains(out[i:], "layer_sizes: []") || !strings.Contains(out, "CrossEntropyLoss") {
		t.Errorf("classifier defaults missing:\n%s", out)
	}
}

func TestDatasetsCommands(t *testing.T) {
	out, err := bench(t, "datasets", "list")
	if err != nil || !strings.Contains(out, "Glyphs") || !strings.Contains(out, "Omniglot") {
		t.Fatalf("datasets list: %v\n%s", err, out)
	}
	out, err = bench(t, "datasets", "prepare", "{Glyphs: {images_per_class: 3, image_size: 16}}")
	if err != nil || !strings.Contains(out, "282 images, 94 classes") {
		t.Fatalf("datasets prepare: %v\n%s", err, out)
	}
	_, err = bench(t, "datasets", "prepare", "{Omniglot: {}}", "--dataset_root", "/nonexistent")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent") {
		t.Fatalf("want an error naming the folder, got %v", err)
	}
}
