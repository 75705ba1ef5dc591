package main

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bench-ml/bench/component"
)

// asBench makes the test binary act as the program: the end-to-end test
// runs it in a child process, as a user runs their own bench.
const asBench = "CUSTOM_LOSS_TEST_AS_BENCH"

func TestMain(m *testing.M) {
	if os.Getenv(asBench) == "1" {
		main()
	}
	register()
	os.Exit(m.Run())
}

// TestGradient: the gradient of CenterContrastiveLoss matches central
// finite differences of its value in float64, for a distance and a
// similarity, with all pairs and with a miner's triplets.
func TestGradient(t *testing.T) {
	labels := []int{0, 0, 1, 1, 2, 2, 0, 1}
	triplets := &component.Tuples{Triplets: true, Anchor: []int{0, 2, 4}, Positive: []int{1, 3, 5}, Negative: []int{2, 4, 7}}
	for _, tc := range []struct {
		name, loss string
		tuples     *component.Tuples
	}{
		{"Lp all pairs", "{CenterContrastiveLoss: {pos_margin: 0.05, neg_margin: 1.2}}", nil},
		{"Lp unnormalised triplets", "{CenterContrastiveLoss: {neg_margin: 3, distance: {LpDistance: {normalize_embeddings: false}}}}", triplets},
		{"cosine all pairs", "{CenterContrastiveLoss: {pos_margin: 0.9, neg_margin: 0.1, distance: {CosineSimilarity: {}}}}", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := component.Losses.New(tc.loss)
			if err != nil {
				t.Fatal(err)
			}
			const n, d, h = 8, 5, 1e-6
			rng := rand.New(rand.NewPCG(1, 2))
			emb := make([]float64, n*d)
			for i := range emb {
				emb[i] = rng.NormFloat64()
			}
			value, grad, err := l.Compute(emb, n, d, labels, tc.tuples)
			if err != nil {
				t.Fatal(err)
			}
			if value <= 0 {
				t.Fatalf("loss %g: the check needs active terms", value)
			}
			for i := range emb {
				x := emb[i]
				emb[i] = x + h
				up, _, _ := l.Compute(emb, n, d, labels, tc.tuples)
				emb[i] = x - h
				down, _, _ := l.Compute(emb, n, d, labels, tc.tuples)
				emb[i] = x
				if fd := (up - down) / (2 * h); math.Abs(fd-grad[i]) > 1e-6*max(1, math.Abs(fd)) {
					t.Errorf("d loss / d emb[%d] = %g, finite differences %g", i, grad[i], fd)
				}
			}
		})
	}
}

// TestParams: parameters are validated as a built-in loss's are.
func TestParams(t *testing.T) {
	for yaml, want := range map[string]string{
		"{CenterContrastiveLoss: {neg_margin: -1}}":                   "CenterContrastiveLoss.neg_margin",
		"{CenterContrastiveLoss: {pos_margin: 0.5, neg_margin: 0.2}}": "must be above pos_margin",
		"{CenterContrastiveLoss: {margin: 1}}":                        "margin",
		"{CenterContrastiveLoss: {distance: {NoSuchDistance: {}}}}":   "unknown distance",
	} {
		if _, err := component.Losses.New(yaml); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one naming %q", yaml, err, want)
		}
	}
}

// TestTrainsFromConfig: the program selects the loss from its config file,
// trains two folds at smoke size and saves the loss's resolved parameters
// with the experiment.
func TestTrainsFromConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	cmd := exec.Command(exe, "run", "--experiment_name", "cc", "--root_experiment_folder", root,
		"--root_config_folder", "configs", "--config_loss_and_miners", "default", "center_contrastive",
		"--config_general", "default", "smoke", "--num_epochs_train", "2", "--iterations_per_epoch", "5")
	cmd.Env = append(os.Environ(), asBench+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	saved, err := os.ReadFile(filepath.Join(root, "cc", "configs", "config_loss_and_miners.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CenterContrastiveLoss:", "neg_margin: 0.8", "pos_margin: 0", "LpDistance:"} {
		if !strings.Contains(string(saved), want) {
			t.Errorf("saved config lacks %q:\n%s", want, saved)
		}
	}
	if !strings.Contains(string(out), "mean_average_precision_at_r") {
		t.Errorf("no test results printed:\n%s", out)
	}
}
