package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/arrayio"
)

// TestFrozenTrunkFeatureCache: a frozen trunk's outputs (freeze_trunk, or
// no trunk_optimizer) are computed once into the cache, reused by a second
// experiment and by --evaluate, and a change of what they depend on (the
// eval transforms) computes new ones.
func TestFrozenTrunkFeatureCache(t *testing.T) {
	root := t.TempDir()
	run := func(name string, extra ...string) string {
		t.Helper()
		args := runArgs(t, root, append([]string{"--experiment_name", name, "--config_general", "default", "smoke"}, extra...)...)
		out, err := bench(t, args...)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return out
	}
	out := run("a", "--freeze_trunk", "true")
	if !strings.Contains(out, "trunk outputs computed") || strings.Contains(out, "from the feature cache") {
		t.Fatalf("first run did not compute the features:\n%s", out)
	}
	cache, _ := filepath.Glob(filepath.Join(root, ".feature_cache", "*.npy"))
	if len(cache) != 1 {
		t.Fatalf("cache files %v", cache)
	}
	// No trunk optimiser: frozen too, the same features.
	if out := run("b", "--config_optimizers", "default", "frozen_trunk"); !strings.Contains(out, "from the feature cache") || !strings.Contains(out, "test") {
		t.Errorf("second run did not reuse the cache:\n%s", out)
	}
	if out, err := bench(t, "eval", "--root_experiment_folder", root, "--root_config_folder", "../configs", "--experiment_name", "a"); err != nil || !strings.Contains(out, "from the feature cache") {
		t.Errorf("eval: %v\n%s", err, out)
	}
	for _, fold := range []string{"Test50_50_Partitions2_0", "Test50_50_Partitions2_1"} {
		if _, err := os.Stat(filepath.Join(root, "b", fold, "saved_models", "best.safetensors")); err != nil {
			t.Error(err)
		}
	}
	run("c", "--freeze_trunk", "true", "--transforms", "{eval~OVERRIDE~: {Resize: {size: 20}}, train~OVERRIDE~: {Resize: {size: 20}}}")
	if cache, _ := filepath.Glob(filepath.Join(root, ".feature_cache", "*.npy")); len(cache) != 2 {
		t.Errorf("other transforms: cache files %v", cache)
	}
}

// TestFeatureCacheAugmentations: feature_cache.augmentations: K caches K
// randomly transformed versions of every image beside the eval outputs,
// keyed by K too; a second run reuses both files and trains the same model;
// a trained trunk refuses the key.
func TestFeatureCacheAugmentations(t *testing.T) {
	root := t.TempDir()
	random := "{train~OVERRIDE~: {RandomResizedCrop: {size: 24, scale: [0.3, 1.0]}, RandomHorizontalFlip: {}}}"
	run := func(name, k string) string {
		t.Helper()
		args := runArgs(t, root, "--experiment_name", name, "--config_general", "default", "smoke",
			"--freeze_trunk", "true", "--transforms", random, "--feature_cache", "{augmentations: "+k+"}")
		out, err := bench(t, args...)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return out
	}
	glob := func(pattern string) []string {
		files, _ := filepath.Glob(filepath.Join(root, ".feature_cache", pattern))
		return files
	}
	if out := run("a", "3"); strings.Count(out, "trunk outputs computed") != 2 {
		t.Fatalf("first run did not compute eval and augmented outputs:\n%s", out)
	}
	aug := glob("*-aug3-*.npy")
	if len(aug) != 1 || len(glob("*.npy")) != 2 {
		t.Fatalf("cache files %v", glob("*.npy"))
	}
	x, shape, err := arrayio.ReadArray(aug[0])
	if err != nil {
		t.Fatal(err)
	}
	_, evalShape, err := arrayio.ReadArray(strings.Replace(aug[0], aug[0][strings.Index(aug[0], "-aug"):], ".npy", 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(shape) != 2 || shape[0] != 3*evalShape[0] || shape[1] != evalShape[1] {
		t.Fatalf("augmented outputs of shape %v; want 3 times the eval outputs' %v", shape, evalShape)
	}
	dim := shape[1]
	if slices.Equal(x[:dim], x[dim:2*dim]) || slices.Equal(x[dim:2*dim], x[2*dim:3*dim]) {
		t.Error("an image's cached augmentations are equal")
	}

	if out := run("b", "3"); strings.Count(out, "from the feature cache") != 2 || strings.Contains(out, "computed") {
		t.Errorf("second run did not reuse both files:\n%s", out)
	}
	model := func(exp string) []byte {
		b, err := os.ReadFile(filepath.Join(root, exp, "Test50_50_Partitions2_0", "saved_models", "best.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(model("a"), model("b")) {
		t.Error("the same seed and cache trained different models")
	}

	if out := run("c", "2"); !strings.Contains(out, "from the feature cache") || len(glob("*-aug2-*.npy")) != 1 {
		t.Errorf("K=2 did not reuse the eval outputs and add its own file: %v\n%s", glob("*.npy"), out)
	}

	out, err := bench(t, runArgs(t, root, "--experiment_name", "d", "--config_general", "default", "smoke",
		"--feature_cache", "{augmentations: 2}")...)
	if err == nil || !strings.Contains(err.Error()+out, "feature_cache: augmentations are cached for a frozen trunk only") {
		t.Errorf("a trained trunk with cached augmentations: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(root, "d")); !os.IsNotExist(err) {
		t.Errorf("refused run left its folder: %v", err)
	}
}
