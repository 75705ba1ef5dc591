package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/arrayio"
)

// TestFeaturesCommand: trunk outputs of an N x 3 x H x W array, whole or
// in batches (the same numbers), and with --layers.
func TestFeaturesCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "x.npy")
	x := make([]float32, 3*3*32*32)
	for i := range x {
		x[i] = float32(i%97) / 50
	}
	if err := arrayio.WriteArray32(in, x, 3, 3, 32, 32); err != nil {
		t.Fatal(err)
	}
	run := func(out string, args ...string) ([]float64, []int) {
		t.Helper()
		path := filepath.Join(dir, out)
		_, _, err := benchStreams(t, append([]string{"features", "--trunk", "{resnet18: {}}", "--input", in, "--out", path}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		data, shape, err := arrayio.ReadArray(path)
		if err != nil {
			t.Fatal(err)
		}
		return data, shape
	}
	whole, shape := run("a.npy")
	if !slices.Equal(shape, []int{3, 512}) {
		t.Fatalf("shape %v", shape)
	}
	if batched, _ := run("b.npy", "--batch", "2"); !slices.Equal(batched, whole) {
		t.Error("--batch 2 changed the outputs")
	}
	if _, shape := run("c.npy", "--layers", "layer1,layer2"); !slices.Equal(shape, []int{3, 64 + 128}) {
		t.Errorf("--layers layer1,layer2: shape %v", shape)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--trunk", "{resnet18: {", "--input", in, "--out", "o.npy"}, "--trunk"},
		{[]string{"--trunk", "{resnet18: {}}", "--input", filepath.Join(dir, "none.npy"), "--out", "o.npy"}, "none.npy"},
		{[]string{"--trunk", "{resnet18: {}}", "--input", in, "--out", "o.npy", "--layers", "layer9"}, "layers_to_extract"},
		{[]string{"--trunk", "{resnet18: {pretrained: " + filepath.Join(dir, "x.npy") + "}}", "--input", in, "--out", "o.npy"}, "not a PyTorch checkpoint"},
	} {
		_, _, err := benchStreams(t, append([]string{"features"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v; want %q", tc.args, err, tc.want)
		}
	}
}
