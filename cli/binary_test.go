package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/golden"
)

var (
	buildOnce sync.Once
	binPath   string
	binErr    error
)

// binary builds bench once for the tests that run it as a user does, in a
// folder of its own (not a test's TempDir, which the first test removes).
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bench-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "bench")
		// -buildvcs=auto overrides a GOFLAGS=-buildvcs=false of the
		// machine, so the binary carries its revision as `make build`'s does.
		out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", binPath, "../cmd/bench").CombinedOutput()
		if err != nil {
			binErr = err
			t.Logf("%s", out)
		}
	})
	if binErr != nil {
		t.Fatalf("go build: %v", binErr)
	}
	return binPath
}

// asBench makes the test binary act as bench: the launchers start jobs of
// os.Executable, which in a test of an in-process command is this binary.
const asBench = "BENCH_TEST_AS_BENCH"

func TestMain(m *testing.M) {
	if os.Getenv(asBench) == "1" {
		Main()
	}
	os.Setenv(asBench, "1") // for the children only: tests run commands in-process
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	if smokeRoot != "" {
		os.RemoveAll(smokeRoot)
	}
	os.Exit(code)
}

// runBinary runs the built bench in dir with args, and returns its standard
// output and standard error apart, and its exit code.
func runBinary(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("bench %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// farAway is a temporary folder outside the repository, with no configs/
// or datasets/ folder around it.
func farAway(t *testing.T) string {
	dir, repo := t.TempDir(), golden.Path(t)
	if rel, err := filepath.Rel(repo, dir); err == nil && !strings.HasPrefix(rel, "..") {
		t.Fatalf("temporary folder %s is inside the repository %s", dir, repo)
	}
	return dir
}

// TestBinaryRunsFromAnywhere runs the default smoke experiment with the
// built binary from a folder far from the repository: its configs are
// built in, and so is the Glyphs dataset.
func TestBinaryRunsFromAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	dir := farAway(t)
	stdout, stderr, code := runBinary(t, dir, "run", "--experiment_name", "far", "--config_general", "default", "smoke", "--verbose")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// Piped, progress is plain lines, one per bar at its end here (each
	// epoch is shorter than the interval between lines), without escapes.
	if strings.Contains(stderr, "\x1b[") || strings.Contains(stderr, "\r") ||
		strings.Count(stderr, "Test50_50_Partitions2_0 epoch 1/4 25/25 loss ") != 1 {
		t.Errorf("piped progress is not one plain line per epoch:\n%s", stderr)
	}
	for _, f := range []string{"configs/config_general.yaml", "meta_logs/separated.json", "meta_logs/concatenated.json", "provenance.json"} {
		if _, err := os.Stat(filepath.Join(dir, "experiments", "far", f)); err != nil {
			t.Errorf("missing experiments/far/%s", f)
		}
	}

	if !strings.Contains(stderr, "level=DEBUG msg=\"checkpoint saved\"") {
		t.Errorf("--verbose logs no debugging detail:\n%s", stderr)
	}
	var prov expfolder.Provenance
	readJSON(t, filepath.Join(dir, "experiments", "far", expfolder.ProvenanceFile), &prov)
	if len(prov.Runs) != 1 || !slices.Equal(prov.Runs[0].Command[1:], []string{"run", "--experiment_name", "far", "--config_general", "default", "smoke", "--verbose"}) ||
		filepath.Base(prov.Runs[0].Command[0]) != "bench" {
		t.Errorf("provenance command line: %+v", prov.Runs)
	}

	// --quiet: warnings only, no progress.
	stdout, stderr, code = runBinary(t, dir, "datasets", "prepare", "{Glyphs: {images_per_class: 2}}", "--quiet")
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "Glyphs: ") {
		t.Errorf("--quiet: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// configs list names every built-in config with its summary.
	stdout, stderr, code = runBinary(t, dir, "configs", "list")
	if code != 0 || stderr != "" {
		t.Fatalf("configs list: exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"config_general:", "  smoke ", "A tiny end-to-end run", "config_dataset:", "  omniglot ", "config_eval:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("configs list does not show %q:\n%s", want, stdout)
		}
	}
}

// TestBinaryOmniglotFromAnywhere prepares the repository's Omniglot sample
// from far away, through --dataset_root.
func TestBinaryOmniglotFromAnywhere(t *testing.T) {
	stdout, stderr, code := runBinary(t, farAway(t), "datasets", "prepare", "{Omniglot: {}}", "--dataset_root", golden.Path(t, "datasets"))
	if code != 0 || !strings.HasPrefix(stdout, "Omniglot: ") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// TestRootConfigFolderOverrides: a folder's config wins over the built-in
// one of its name and adds new names; a missing folder is an error.
func TestRootConfigFolderOverrides(t *testing.T) {
	dir := farAway(t)
	if err := os.MkdirAll(filepath.Join(dir, "mine", "config_general"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mine", "config_general", "long.yaml"), []byte("# Patient training.\npatience: 9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runBinary(t, dir, "configs", "show", "--root_config_folder", "mine", "--config_general", "default", "long")
	if code != 0 || !strings.Contains(stdout, "patience: 9\n") || !strings.Contains(stdout, "trainer:") {
		t.Errorf("configs show with a folder: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	stdout, _, _ = runBinary(t, dir, "configs", "list", "--root_config_folder", "mine")
	if !strings.Contains(stdout, "Patient training. ("+filepath.Join("mine", "config_general", "long.yaml")+")") || !strings.Contains(stdout, "  smoke ") {
		t.Errorf("configs list with a folder:\n%s", stdout)
	}
	_, stderr, code = runBinary(t, dir, "configs", "show", "--root_config_folder", "nothere")
	if code == 0 || !strings.Contains(stderr, "nothere: cannot read config folder") {
		t.Errorf("missing folder: exit %d, stderr %q", code, stderr)
	}
}

// TestVersionNamesRevision: a binary built in a plain git clone names the
// commit it was built from; elsewhere it says the revision is unknown.
func TestVersionNamesRevision(t *testing.T) {
	root := golden.Path(t, ".")
	want := "revision unknown"
	if st, err := os.Stat(filepath.Join(root, ".git")); err == nil && st.IsDir() {
		head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
		if err == nil {
			want = "revision " + strings.TrimSpace(string(head))
		}
	}
	stdout, stderr, code := runBinary(t, t.TempDir(), "--version")
	if code != 0 || stderr != "" || !strings.Contains(stdout, want) {
		t.Errorf("bench --version: exit %d, stdout %q, stderr %q; want %q in stdout", code, stdout, stderr, want)
	}
}
