package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/record"
)

// metricsOf runs bench metrics on embeddings written by bench embed and
// returns its results keyed as the run's (recall_at_k flattened).
func metricsOf(t *testing.T, dir, prefix string) map[string]float64 {
	t.Helper()
	out, err := runMetrics(t, "--embeddings", filepath.Join(dir, prefix+"_embeddings.npy"), "--labels", filepath.Join(dir, prefix+"_labels.npy"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for k, v := range raw {
		if k == "recall_at_k" {
			var byK map[string]float64
			json.Unmarshal(v, &byK)
			for kk, x := range byK {
				got["recall_at_"+kk] = x
			}
			continue
		}
		var x float64
		if json.Unmarshal(v, &x) == nil {
			got[k] = x
		}
	}
	return got
}

// sameMetrics checks that every metric the run saved is reproduced to the
// last bit.
func sameMetrics(t *testing.T, what string, got, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: %s = %v, saved %v", what, k, g, w)
		}
	}
}

// TestEmbedRoundTrip: bench embed writes the best models' test embeddings,
// and bench metrics on them gives the saved per-fold and concatenated
// results exactly; save_embeddings kept the same files in the experiment.
func TestEmbedRoundTrip(t *testing.T) {
	root := smokeExperiments(t)
	for _, name := range []string{"contrastive_glyphs", "triplet_omniglot"} {
		out := t.TempDir()
		stdout, err := bench(t, "embed", "--experiment_name", name, "--root_experiment_folder", root, "--dataset_root", "../datasets", "--out", out)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, stdout)
		}
		res, err := record.ReadResults(filepath.Join(root, name, "meta_logs"))
		if err != nil {
			t.Fatal(err)
		}
		var prefixes []string
		for _, f := range res.Test.Folds {
			prefix := f.SplitScheme + "_test"
			sameMetrics(t, name+" "+prefix, metricsOf(t, out, prefix), f.Metrics)
			prefixes = append(prefixes, prefix)
		}
		sameMetrics(t, name+" concatenated", metricsOf(t, out, "concatenated_test"), res.Concatenated)
		for _, prefix := range append(prefixes, "concatenated_test") {
			for _, kind := range []string{"_embeddings.npy", "_labels.npy"} {
				a, errA := os.ReadFile(filepath.Join(out, prefix+kind))
				b, errB := os.ReadFile(filepath.Join(root, name, "embeddings", prefix+kind))
				if errA != nil || errB != nil || !bytes.Equal(a, b) {
					t.Errorf("%s: %s%s differs from the saved embeddings (%v, %v)", name, prefix, kind, errA, errB)
				}
			}
		}
		if strings.Count(stdout, ".npy") != 6 {
			t.Errorf("%s: embed listed\n%s\nwant 2 folds and the ensemble, 6 files", name, stdout)
		}
	}
}

func TestEmbedOneFoldAndErrors(t *testing.T) {
	root := smokeExperiments(t)
	out := t.TempDir()
	base := []string{"embed", "--experiment_name", "triplet_glyphs", "--root_experiment_folder", root, "--dataset_root", "../datasets", "--out", out}
	stdout, err := bench(t, append(base, "--split", "val", "--fold", "1", "--use_trunk_output")...)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*"))
	want := []string{filepath.Join(out, "Test50_50_Partitions2_1_val_embeddings.npy"), filepath.Join(out, "Test50_50_Partitions2_1_val_labels.npy")}
	if strings.Join(files, ",") != strings.Join(want, ",") {
		t.Errorf("wrote %v (%s), want %v", files, stdout, want)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--split", "tset"}, "--split tset"},
		{[]string{"--fold", "7"}, "--fold 7"},
		{[]string{"--experiment_name", "nope"}, "nope"},
	} {
		_, err := bench(t, append(slices.Clone(base), c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %q", c.args, err, c.want)
		}
	}
}
