package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
