package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/arrayio"
)

// benchMain runs a command line as main does, and returns what it wrote
// to stdout and stderr and its exit code.
func benchMain(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// smallEmbeddings writes 8 embeddings of 4 classes, for metrics and loss.
func smallEmbeddings(t *testing.T) (emb, labels string) {
	dir := t.TempDir()
	emb, labels = filepath.Join(dir, "e.npy"), filepath.Join(dir, "l.csv")
	data := []float64{1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9, -1, 0, -0.9, -0.1, 0, -1, -0.1, -0.9}
	if err := arrayio.WriteMatrix(emb, data, 8, 2); err != nil {
		t.Fatal(err)
	}
	if err := arrayio.WriteLabels(labels, []int{0, 0, 1, 1, 2, 2, 3, 3}); err != nil {
		t.Fatal(err)
	}
	return emb, labels
}

// TestOutputStreams: each command prints its results, and only them, to
// stdout; logs and progress go to stderr.
func TestOutputStreams(t *testing.T) {
	emb, labels := smallEmbeddings(t)
	cases := []struct {
		args       []string
		stdout     []string // parts stdout must hold
		stderr     []string // parts stderr must hold; nil: stderr must be empty
		stdoutOnly bool
	}{
		{[]string{"configs", "show", "--config_general", "default", "smoke"}, []string{"# config_general\n", "# config_eval\n"}, nil, true},
		{[]string{"configs", "list"}, []string{"config_general:\n", "  smoke "}, nil, true},
		{[]string{"datasets", "list"}, []string{"Glyphs\n", "Omniglot\n"}, nil, true},
		{[]string{"datasets", "prepare", "{Glyphs: {images_per_class: 2, charset: abc}}"}, []string{"Glyphs: 6 images, 3 classes"},
			[]string{"checking Glyphs 6/6 "}, false},
		{[]string{"metrics", "--embeddings", emb, "--labels", labels}, []string{`"precision_at_1": 1`}, nil, true},
		{[]string{"loss", "--embeddings", emb, "--labels", labels, "--loss", "{ContrastiveLoss: {}}"}, []string{`"value":`}, nil, true},
		{[]string{"--version"}, []string{"bench ", "revision ", "go1."}, nil, true},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args[:min(2, len(c.args))], " "), func(t *testing.T) {
			stdout, stderr, code := benchMain(c.args...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			for _, want := range c.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout does not hold %q:\n%s", want, stdout)
				}
			}
			if c.stderr == nil && stderr != "" {
				t.Errorf("stderr should be empty, got:\n%s", stderr)
			}
			for _, want := range c.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr does not hold %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stdout, "level=") {
				t.Errorf("a log record went to stdout:\n%s", stdout)
			}
		})
	}
}

// TestExitCodes: user errors exit 1 with one line on stderr and nothing on
// stdout; an interruption maps to 130.
func TestExitCodes(t *testing.T) {
	for _, args := range [][]string{
		{"configs", "show", "--config_general", "nope"},
		{"metrics", "--embeddings", "missing.npy", "--labels", "missing.csv"},
		{"nosuchcommand"},
		{"datasets", "prepare", "{Nope: {}}"},
	} {
		stdout, stderr, code := benchMain(args...)
		if code != exitUserError || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "bench: ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and one line on stderr", args, code, stdout, stderr)
		}
	}
	for err, want := range map[error]int{
		nil:              exitOK,
		context.Canceled: exitInterrupted,
		fmt.Errorf("fold 1: %w", context.Canceled): exitInterrupted,
		os.ErrNotExist: exitUserError,
	} {
		if got := exitCode(err); got != want {
			t.Errorf("exitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

// TestFlagSpellings: every command takes its flags in snake_case and in
// kebab-case; an unknown flag gets a suggestion.
func TestFlagSpellings(t *testing.T) {
	emb, labels := smallEmbeddings(t)
	root := t.TempDir()
	for _, sep := range []string{"_", "-"} {
		f := func(name string) string { return "--" + strings.ReplaceAll(name, "_", sep) }
		cases := []struct {
			args []string
			want string // in stdout, or in the error for commands that fail on purpose
		}{
			{[]string{"configs", "show", f("config_general"), "default", "smoke", f("root_config_folder"), root}, "iterations_per_epoch: "},
			{[]string{"configs", "list", f("root_config_folder"), root}, "config_general:"},
			{[]string{"datasets", "prepare", "{Glyphs: {images_per_class: 2, charset: ab}}", f("dataset_root"), root, "--quiet"}, "Glyphs: 4 images"},
			{[]string{"metrics", "--embeddings", emb, "--labels", labels, f("reference_labels"), labels, "--reference", emb, f("recall_k"), "1,2"}, `"precision_at_1"`},
			{[]string{"loss", "--embeddings", emb, "--labels", labels, "--loss", "{ContrastiveLoss: {}}", f("grad_out"), filepath.Join(root, "g"+sep+".npy")}, `"value"`},
			{[]string{"run", f("experiment_name"), "x", f("root_experiment_folder"), root, f("config_general"), "nope"}, "config_general/nope.yaml: no such config"},
			{[]string{"eval", f("experiment_name"), "nope", f("root_experiment_folder"), root}, "no experiment at " + filepath.Join(root, "nope")},
			{[]string{"search", f("experiment_name"), "s", f("root_experiment_folder"), root, f("num_init_trials"), "2"}, "--bayes_opt_iters N is required"},
			{[]string{"report", filepath.Join(root, "nothing"), "--out", filepath.Join(root, "r")}, "nothing"},
		}
		for _, c := range cases {
			stdout, stderr, _ := benchMain(c.args...)
			if !strings.Contains(stdout+stderr, c.want) {
				t.Errorf("%v: want %q in its output\nstdout:\n%s\nstderr:\n%s", c.args, c.want, stdout, stderr)
			}
			if strings.Contains(stderr, "unknown flag") {
				t.Errorf("%v: %s", c.args, stderr)
			}
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"metrics", "--embedings", emb}, `unknown flag --embedings for "bench metrics" (did you mean --embeddings?)`},
		{[]string{"configs", "list", "--root-config-foldr", root}, "(did you mean --root_config_folder?)"},
		{[]string{"run", "--experiment-nam", "x"}, "unknown flag --experiment_nam (did you mean --experiment_name?)"},
	} {
		_, stderr, code := benchMain(c.args...)
		if code != exitUserError || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, code, stderr, c.want)
		}
	}
}

// TestCompletion: shell completion of config names (built in and from
// --root_config_folder), run flags and their values, and the scripts.
func TestCompletion(t *testing.T) {
	folder := t.TempDir()
	if err := os.MkdirAll(filepath.Join(folder, "config_general"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "config_general", "mine.yaml"), []byte("# My profile.\nseed: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "run", "--config_general", ""}, []string{"default\tHow training runs.", "smoke\tA tiny end-to-end run", ":4\n"}},
		{[]string{"__complete", "run", "--root-config-folder", folder, "--config-general", "default", ""}, []string{"mine\tMy profile.", "daml\t"}},
		{[]string{"__complete", "configs", "show", "--config_loss_and_miners", ""}, []string{"triplet_batch_hard\t"}},
		{[]string{"__complete", "search", "--config_dataset", "o"}, []string{"omniglot\t"}},
		{[]string{"__complete", "eval", "--experiment-n"}, []string{"--experiment_name\n"}},
		{[]string{"__complete", "run", "--resume_training", ""}, []string{"latest\n", "best\n"}},
		{[]string{"__complete", "run", "--dataset_root", ""}, []string{":16\n"}}, // folders only
		{[]string{"__complete", "metrics", "--ref"}, []string{"--reference\t", "--reference_labels\t", "--ref_includes_query\t"}},
		{[]string{"__complete", "conf"}, []string{"configs\t"}},
		{[]string{"completion", "bash"}, []string{"bash completion V2 for bench"}},
	}
	for _, c := range cases {
		stdout, stderr, code := benchMain(c.args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", c.args, code, stderr)
		}
		for _, want := range c.want {
			if !strings.Contains(stdout, want) {
				t.Errorf("%v: want %q in\n%s", c.args, want, stdout)
			}
		}
	}
}
