package cli

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/arrayio"
	"github.com/bench-ml/bench/internal/golden"
)

// benchLoss runs `bench loss` in-process and returns its standard output.
func benchLoss(t *testing.T, args ...string) (string, error) {
	t.Helper()
	stdout, _, err := benchStreams(t, append([]string{"loss"}, args...)...)
	return stdout, err
}

// flow writes a component as a command-line value: JSON is YAML flow syntax.
func flow(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLossGolden runs every golden loss case end to end, from .npy and from
// .csv files: value, gradients and mined indices as PML computed them.
func TestLossGolden(t *testing.T) {
	dir := golden.Require(t)
	files, err := golden.Files(dir, "losses")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		var c golden.LossCase
		if err := golden.Load(file, &c); err != nil {
			t.Fatal(err)
		}
		for _, ext := range []string{".npy", ".csv"} {
			t.Run(filepath.Base(file)+ext, func(t *testing.T) { checkGoldenLoss(t, &c, ext) })
		}
	}
}

func checkGoldenLoss(t *testing.T, c *golden.LossCase, ext string) {
	tmp := t.TempDir()
	path := func(name string) string { return filepath.Join(tmp, name+ext) }
	n, d := len(c.Embeddings), len(c.Embeddings[0])
	if err := arrayio.WriteMatrix(path("emb"), golden.Flatten(c.Embeddings), n, d); err != nil {
		t.Fatal(err)
	}
	if err := arrayio.WriteLabels(path("labels"), c.Labels); err != nil {
		t.Fatal(err)
	}
	args := []string{"--embeddings", path("emb"), "--labels", path("labels"), "--loss", flow(t, c.Loss), "--grad-out", path("grad")}
	if c.Distance != nil {
		args = append(args, "--distance", flow(t, c.Distance))
	}
	if c.Reducer != nil {
		args = append(args, "--reducer", flow(t, c.Reducer))
	}
	if c.Miner != nil {
		m := c.Miner
		if c.MinerDistance != nil {
			for typ, params := range c.Miner {
				p, _ := params.(map[string]any)
				p = maps.Clone(p)
				if p == nil {
					p = map[string]any{}
				}
				p["distance"] = c.MinerDistance
				m = map[string]any{typ: p}
			}
		}
		args = append(args, "--miner", flow(t, m))
	}
	if c.Weights != nil {
		rows, cols := c.Weights.Shape[0], c.Weights.Shape[1]
		if err := arrayio.WriteMatrix(path("weights"), golden.Flatten(c.Weights.Value), rows, cols); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--weights", path("weights"), "--weights-grad-out", path("weights_grad"))
	}

	out, err := benchLoss(t, args...)
	if err != nil {
		t.Fatalf("bench loss %q: %v", args, err)
	}
	var res struct {
		Value        float64          `json:"value"`
		MinerIndices map[string][]int `json:"miner_indices"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if !c.Tolerance.Close(res.Value, c.Expected.Value) {
		t.Errorf("value %.17g, want %.17g", res.Value, c.Expected.Value)
	}
	compareFile(t, path("grad"), c.Expected.Grad, c.Tolerance)
	if c.Weights != nil {
		compareFile(t, path("weights_grad"), c.Expected.WeightsGrad, c.Tolerance)
	}
	// The miners keep PML's order, so the lists are compared as they are.
	if (res.MinerIndices == nil) != (c.Expected.MinerIndices == nil) {
		t.Fatalf("miner_indices %v, want %v", res.MinerIndices, c.Expected.MinerIndices)
	}
	for k, want := range c.Expected.MinerIndices {
		if !slices.Equal(res.MinerIndices[k], want) {
			t.Errorf("miner_indices[%q] = %v, want %v", k, res.MinerIndices[k], want)
		}
	}
}

// compareFile reads a written matrix back and compares it with want.
func compareFile(t *testing.T, path string, want [][]float64, tol golden.Tolerance) {
	t.Helper()
	got, rows, cols, err := arrayio.ReadMatrix(path)
	if err != nil {
		t.Fatal(err)
	}
	if rows != len(want) || cols != len(want[0]) {
		t.Fatalf("%s: %d x %d, want %d x %d", filepath.Base(path), rows, cols, len(want), len(want[0]))
	}
	bad := 0
	for i, w := range golden.Flatten(want) {
		if !tol.Close(got[i], w) {
			if bad < 5 {
				t.Errorf("%s[%d] = %.17g, want %.17g", filepath.Base(path), i, got[i], w)
			}
			bad++
		}
	}
}

func TestLossPrintsNullWithoutMiner(t *testing.T) {
	emb, labels := writeBatch(t)
	out, err := benchLoss(t, "--embeddings", emb, "--labels", labels, "--loss", "{ContrastiveLoss: {}}")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out, `"miner_indices":null}`+"\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("got %q, want one JSON line ending in miner_indices null", out)
	}
}

func TestLossSamplingMinerIsSeeded(t *testing.T) {
	emb, labels := writeBatch(t)
	run := func(seed string) string {
		out, err := benchLoss(t, "--embeddings", emb, "--labels", labels, "--loss", "{TripletMarginLoss: {}}",
			"--miner", "{DistanceWeightedMiner: {}}", "--seed", seed)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if a, b := run("1"), run("1"); a != b {
		t.Errorf("same seed, different output:\n%s\n%s", a, b)
	}
	if a, b := run("1"), run("2"); a == b {
		t.Errorf("different seeds, same output %s", a)
	}
}

// writeBatch writes a small batch of 8 embeddings in 2 dimensions, 4
// classes of 2, and returns the file names.
func writeBatch(t *testing.T) (emb, labels string) {
	tmp := t.TempDir()
	emb, labels = filepath.Join(tmp, "e.csv"), filepath.Join(tmp, "l.csv")
	if err := os.WriteFile(emb, []byte("1,0\n.9,.2\n0,1\n.1,.8\n-1,0\n-.8,-.3\n0,-1\n.2,-.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(labels, []byte("0\n0\n1\n1\n2\n2\n3\n3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return emb, labels
}

func TestLossErrors(t *testing.T) {
	emb, labels := writeBatch(t)
	tmp := t.TempDir()
	fiveLabels := filepath.Join(tmp, "five.csv")
	weights := filepath.Join(tmp, "w.csv")
	for path, data := range map[string]string{fiveLabels: "0\n0\n1\n1\n2\n", weights: "1,2\n3,4\n"} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := []string{"--embeddings", emb, "--labels", labels}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"no loss", base, []string{`"loss" not set`}},
		{"missing file", []string{"--embeddings", "nope.npy", "--labels", labels, "--loss", "{ContrastiveLoss: {}}"},
			[]string{"--embeddings", "nope.npy"}},
		{"bad extension", []string{"--embeddings", emb, "--labels", "l.txt", "--loss", "{ContrastiveLoss: {}}"},
			[]string{"--labels", "l.txt", ".npy or .csv"}},
		{"label count", []string{"--embeddings", emb, "--labels", fiveLabels, "--loss", "{ContrastiveLoss: {}}"},
			[]string{"--labels", "5 labels for 8 embeddings"}},
		{"not YAML", append(base, "--loss", "{ContrastiveLoss: {"), []string{"--loss", "not YAML"}},
		{"not a component", append(base, "--loss", "ContrastiveLoss"), []string{"--loss", "want a component"}},
		{"unknown loss", append(base, "--loss", "{ContrastivLoss: {}}"), []string{"--loss", `did you mean "ContrastiveLoss"`}},
		{"bad loss param", append(base, "--loss", "{ContrastiveLoss: {pos_margn: 1}}"), []string{"--loss", "pos_margn", "unknown parameter"}},
		{"bad distance", append(base, "--loss", "{ContrastiveLoss: {}}", "--distance", "{CosineSimilarty: {}}"),
			[]string{"--distance", `did you mean "CosineSimilarity"`}},
		{"bad reducer", append(base, "--loss", "{ContrastiveLoss: {}}", "--reducer", "{ThresholdReducer: {low: x}}"),
			[]string{"--reducer", "ThresholdReducer.low", "want a number"}},
		{"bad miner", append(base, "--loss", "{ContrastiveLoss: {}}", "--miner", "{BatchEasyHardMiner: {pos_strategy: semihard, neg_strategy: semihard}}"),
			[]string{"--miner", `cannot both be "semihard"`}},
		{"weights for a loss without", append(base, "--loss", "{ContrastiveLoss: {}}", "--weights", weights),
			[]string{"--weights", "0 learnable tensors"}},
		{"weights of the wrong shape", append(base, "--loss", "{ProxyAnchorLoss: {}}", "--weights", weights),
			[]string{"--weights", weights, "2 x 2", "4 x 2"}},
		{"weights grad for a loss without", append(base, "--loss", "{TripletMarginLoss: {}}", "--weights-grad-out", weights),
			[]string{"--weights-grad-out", "0 learnable tensors"}},
		{"grad to a bad extension", append(base, "--loss", "{TripletMarginLoss: {}}", "--grad-out", "g.txt"),
			[]string{"--grad-out", "g.txt"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := benchLoss(t, c.args...)
			if err == nil {
				t.Fatalf("no error; printed %q", out)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if out != "" {
				t.Errorf("printed %q on error", out)
			}
		})
	}
}
