package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// twoGlyphStreams is a TwoStream dataset of two renderings of 16 characters:
// the anchors and posnegs are the same classes drawn with other seeds.
const twoGlyphStreams = "{TwoStream: {anchors: {Glyphs: {images_per_class: 6, image_size: 24, charset: abcdefghijklmnop}}, " +
	"posnegs: {Glyphs: {images_per_class: 6, image_size: 24, charset: abcdefghijklmnop, seed: 1}}}}"

// TestTwoStreamRun trains TwoStreamMetricLoss with a tuple miner mining the
// anchors against the posnegs and evaluates with
// GlobalTwoStreamEmbeddingSpaceTester, at smoke size; without a TwoStream
// dataset either is an error naming what it needs.
func TestTwoStreamRun(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	root := t.TempDir()
	common := []string{"--config_general", "default", "smoke", "--num_epochs_train", "1", "--iterations_per_epoch", "2",
		"--batch_size", "8", "--split_manager~OVERRIDE~", "{ClassDisjointSplitManager: {num_training_partitions: 2, num_training_sets: 1}}"}
	args := runArgs(t, root, append([]string{"--experiment_name", "two", "--dataset~OVERRIDE~", twoGlyphStreams,
		"--trainer~OVERRIDE~", "{TwoStreamMetricLoss: {}}", "--tester~OVERRIDE~", "{GlobalTwoStreamEmbeddingSpaceTester: {}}",
		"--loss_funcs~OVERRIDE~", "{metric_loss: {TripletMarginLoss: {margin: 0.1}}}",
		"--mining_funcs~OVERRIDE~", "{tuple_miner: {TripletMarginMiner: {margin: 0.2}}}", "--sampler", "{MPerClassSampler: {m: 2}}"}, common...)...)
	if out, err := bench(t, args...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	losses, err := os.ReadFile(filepath.Join(root, "two", "Test50_50_Partitions2_0", "records", "losses.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(losses), "tuple_miner_triplets") {
		t.Errorf("the miner's triplets are not recorded:\n%s", losses)
	}
	if _, err := os.Stat(filepath.Join(root, "two", "Test50_50_Partitions2_0", "records", "accuracies_val.csv")); err != nil {
		t.Error(err)
	}
	for _, c := range []struct{ flag, value, want string }{
		{"--trainer~OVERRIDE~", "{TwoStreamMetricLoss: {}}", "trainer TwoStreamMetricLoss needs a dataset of anchors and posnegs"},
		{"--tester~OVERRIDE~", "{GlobalTwoStreamEmbeddingSpaceTester: {}}", "tester GlobalTwoStreamEmbeddingSpaceTester needs a dataset of anchors and posnegs"},
	} {
		out, err := bench(t, runArgs(t, root, append([]string{"--experiment_name", "bad" + c.flag[2:9], c.flag, c.value}, common...)...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s on Glyphs: %v\n%s", c.flag, c.value, err, out)
		}
	}
}
