package cli

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTinySOP writes a Stanford Online Products of 4 super-classes of 3
// products of 3 images under dir: super-classes 1 and 2 in Ebay_train.txt,
// 3 and 4 in Ebay_test.txt.
func writeTinySOP(t *testing.T, dir string) {
	t.Helper()
	lists := map[string]string{}
	id := 0
	for super := 1; super <= 4; super++ {
		list := "Ebay_train.txt"
		if super > 2 {
			list = "Ebay_test.txt"
		}
		for class := 3*super - 2; class <= 3*super; class++ {
			for k := range 3 {
				id++
				rel := fmt.Sprintf("s%d/%d_%d.png", super, class, k)
				img := image.NewRGBA(image.Rect(0, 0, 24, 24))
				for p := range img.Pix {
					img.Pix[p] = uint8(p*class + 31*k + 60*super)
				}
				img.Set(0, 0, color.RGBA{uint8(class), 0, 0, 255})
				path := filepath.Join(dir, filepath.FromSlash(rel))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				f, err := os.Create(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := png.Encode(f, img); err != nil {
					t.Fatal(err)
				}
				f.Close()
				lists[list] += fmt.Sprintf("%d %d %d %s\n", id, class, super, rel)
			}
		}
	}
	for name, text := range lists {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("image_id class_id super_class_id path\n"+text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPBSplitsSamplersAndTestersRun: powerful_benchmarker's other split
// managers, PML's samplers, label levels and testers train and evaluate
// end to end on a tiny SOP with super-classes.
func TestPBSplitsSamplersAndTestersRun(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	root, data := t.TempDir(), t.TempDir()
	writeTinySOP(t, filepath.Join(data, "sop"))
	run := func(name string, extra ...string) string {
		args := runArgs(t, root, append([]string{"--experiment_name", name, "--config_general", "default", "smoke",
			"--dataset_root", data, "--dataset~OVERRIDE~", "{StanfordOnlineProducts: {root: sop}}",
			"--iterations_per_epoch", "2", "--num_epochs_train", "1", "--batch_size", "8",
			"--transforms~OVERRIDE~", "{train: {CenterCrop: {size: 24}}, eval: {CenterCrop: {size: 24}}}"}, extra...)...)
		out, err := bench(t, args...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		return out
	}
	// Predefined split: train on Ebay_train, validate and test on Ebay_test;
	// batches of two super-classes; each item compared within its super-class;
	// splits_to_eval of all three splits.
	run("hier", "--split_manager~OVERRIDE~", "{PredefinedSplitManager: {}}",
		"--sampler~OVERRIDE~", "{HierarchicalSampler: {samples_per_class: 2}}",
		"--tester~OVERRIDE~", "{WithSameParentLabelTester: {}}", "--splits_to_eval", "[train, val, test]")
	for _, split := range []string{"train", "val", "test"} {
		if _, err := os.Stat(filepath.Join(root, "hier", "PredefinedSplitScheme_0", "records", "accuracies_"+split+".csv")); err != nil {
			t.Errorf("splits_to_eval [train, val, test]: %v", err)
		}
	}
	// Train on the super-classes (level 1) of MLRC's split, from a fixed
	// set of triplets, every split compared with them all.
	out := run("mlrc", "--split_manager~OVERRIDE~", "{MLRCSplitManager: {num_training_partitions: 2, num_training_sets: 1}}",
		"--trainer~APPLY~2", "{label_hierarchy_level: 0}", "--sampler~OVERRIDE~", "{FixedSetOfTriplets: {num_triplets: 20}}",
		"--tester~APPLY~2", "{reference_set: compared_to_sets_combined}", "--splits_to_eval", "[train, val]")
	if !strings.Contains(out, "Test50_50_Partitions2_0") {
		t.Errorf("MLRCSplitManager's scheme not named as powerful_benchmarker's:\n%s", out)
	}
	// Of 3 items per class: 1 to test, 1 to each fold.
	run("closed", "--split_manager~OVERRIDE~", "{ClosedSetSplitManager: {test_size: 0.33333, num_training_partitions: 2, num_training_sets: 1}}",
		"--tester~APPLY~2", "{reference_set: compared_to_training_set}", "--sampler", "{MPerClassSampler: {m: 2}}")
	run("super", "--split_manager~OVERRIDE~", "{PredefinedSplitManager: {}}", "--trainer~APPLY~2", "{label_hierarchy_level: 1}",
		"--tester~APPLY~2", "{label_hierarchy_level: 1}", "--sampler", "{MPerClassSampler: {m: 4}}")
	// Level 1 has two classes in training: classifier-free losses train on them.
	if _, err := bench(t, runArgs(t, root, "--experiment_name", "bad", "--config_general", "default", "smoke",
		"--tester~APPLY~2", "{label_hierarchy_level: 1}")...); err == nil || !strings.Contains(err.Error(), "label hierarchy level 1: the dataset has 1 level(s)") {
		t.Errorf("a level Glyphs lacks: %v", err)
	}
}

// TestPBTesterLabelLevels: a tester's label_hierarchy_level `all` or a
// list evaluates each level, as PML's testers name them
// (<metric>_level<L>), and their mean (AVERAGE_<metric>), on which the best
// epoch is chosen.
func TestPBTesterLabelLevels(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	root, data := t.TempDir(), t.TempDir()
	writeTinySOP(t, filepath.Join(data, "sop"))
	for _, tc := range []struct {
		name, level string
		levels      []int
	}{{"all", "all", []int{0, 1}}, {"list", "[1]", []int{1}}} {
		out, err := bench(t, runArgs(t, root, "--experiment_name", tc.name, "--config_general", "default", "smoke",
			"--dataset_root", data, "--dataset~OVERRIDE~", "{StanfordOnlineProducts: {root: sop}}",
			"--iterations_per_epoch", "2", "--num_epochs_train", "1", "--batch_size", "8",
			"--split_manager~OVERRIDE~", "{PredefinedSplitManager: {}}", "--sampler", "{MPerClassSampler: {m: 4}}",
			"--transforms~OVERRIDE~", "{train: {CenterCrop: {size: 24}}, eval: {CenterCrop: {size: 24}}}",
			"--tester~APPLY~2", "{label_hierarchy_level: "+tc.level+"}")...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, out)
		}
		var results struct {
			Folds []struct {
				Metrics map[string]float64 `json:"metrics"`
			} `json:"folds"`
		}
		if err := json.Unmarshal([]byte(readMeta(t, root, tc.name, "test.json")), &results); err != nil || len(results.Folds) == 0 {
			t.Fatalf("%s: test.json: %v", tc.name, err)
		}
		m := results.Folds[0].Metrics
		const metric = "mean_average_precision_at_r"
		sum := 0.0
		for _, l := range tc.levels {
			v, ok := m[fmt.Sprintf("%s_level%d", metric, l)]
			if !ok {
				t.Fatalf("%s: no %s_level%d in %v", tc.name, metric, l, m)
			}
			sum += v
		}
		if avg, ok := m["AVERAGE_"+metric]; !ok || math.Abs(avg-sum/float64(len(tc.levels))) > 1e-12 {
			t.Errorf("%s: AVERAGE_%s %v; want the mean over the levels, %v", tc.name, metric, avg, sum/float64(len(tc.levels)))
		}
		if _, plain := m[metric]; plain {
			t.Errorf("%s: the plain metric name is reported too", tc.name)
		}
		if !strings.Contains(out, "test AVERAGE_"+metric+": separated") {
			t.Errorf("%s: the summary does not use AVERAGE_%s:\n%s", tc.name, metric, out)
		}
	}
}
