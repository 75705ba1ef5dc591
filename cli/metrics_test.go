package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/arrayio"
	"github.com/bench-ml/bench/internal/golden"
)

// runMetrics runs `bench metrics` in-process and returns its standard output.
func runMetrics(t *testing.T, args ...string) (string, error) {
	t.Helper()
	stdout, _, err := benchStreams(t, append([]string{"metrics"}, args...)...)
	return stdout, err
}

// writeCase writes a golden metric case as the files a user would pass,
// mixing .npy and .csv, and returns the command line for it.
func writeCase(t *testing.T, c *golden.MetricCase) []string {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	dim := len(c.Query[0])
	must(arrayio.WriteMatrix(path("q.npy"), golden.Flatten(c.Query), len(c.Query), dim))
	must(arrayio.WriteLabels(path("ql.csv"), c.QueryLabels))
	must(arrayio.WriteLabels(path("c.npy"), c.ClusterLabels))
	args := []string{"--embeddings", path("q.npy"), "--labels", path("ql.csv"), "--cluster-labels", path("c.npy")}
	if c.Reference != nil {
		must(arrayio.WriteMatrix(path("r.csv"), golden.Flatten(c.Reference), len(c.Reference), dim))
		must(arrayio.WriteLabels(path("rl.npy"), c.ReferenceLabels))
		args = append(args, "--reference", path("r.csv"), "--reference-labels", path("rl.npy"))
	}
	if c.RefIncludesQuery {
		args = append(args, "--ref-includes-query")
	}
	if !c.Normalize {
		args = append(args, "--no-normalize")
	}
	switch k := c.K.(type) {
	case nil:
		args = append(args, "--k", "all")
	case float64:
		args = append(args, "--k", strconv.Itoa(int(k)))
	default:
		args = append(args, "--k", fmt.Sprint(k))
	}
	return args
}

func TestMetricsCommandGolden(t *testing.T) {
	dir := golden.Require(t)
	for _, name := range []string{
		"003_hand_ref_includes_query.json",
		"011_self_n400_d64_c40_k_int.json",
		"013_self_n300_d16_c15_not_normalized.json",
		"014_separate_q385_r740_d16_c40_maxbin.json",
	} {
		t.Run(name, func(t *testing.T) {
			var c golden.MetricCase
			if err := golden.Load(filepath.Join(dir, "metrics", name), &c); err != nil {
				t.Fatal(err)
			}
			out, err := runMetrics(t, writeCase(t, &c)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var got struct {
				Metrics          map[string]any
				RecallAtK        map[string]float64 `json:"recall_at_k"`
				RecallAtKNotLone map[string]float64 `json:"recall_at_k_not_lone"`
				KUsed            int                `json:"k_used"`
				NLoneQueries     int                `json:"n_lone_queries"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if err := json.Unmarshal([]byte(out), &got.Metrics); err != nil {
				t.Fatal(err)
			}
			e := c.Expected
			want := map[string]float64{
				"precision_at_1":              e.PrecisionAt1,
				"r_precision":                 e.RPrecision,
				"mean_average_precision_at_r": e.MeanAveragePrecisionAtR,
				"mean_average_precision":      e.MeanAveragePrecision,
				"mean_reciprocal_rank":        e.MeanReciprocalRank,
				"NMI":                         c.ExpectedClustering["NMI"],
				"AMI":                         c.ExpectedClustering["AMI"],
			}
			for m, w := range want {
				if g, ok := got.Metrics[m].(float64); !ok || !c.Tolerance.Close(g, w) {
					t.Errorf("%s = %v, want %v", m, got.Metrics[m], w)
				}
			}
			for k, w := range e.RecallAtK {
				if !c.Tolerance.Close(got.RecallAtK[k], w) || !c.Tolerance.Close(got.RecallAtKNotLone[k], e.RecallAtKNotLone[k]) {
					t.Errorf("recall@%s = %v / %v not lone, want %v / %v", k, got.RecallAtK[k], got.RecallAtKNotLone[k], w, e.RecallAtKNotLone[k])
				}
			}
			if got.KUsed != c.KUsed || got.NLoneQueries != c.NLoneQueries {
				t.Errorf("k_used %d, n_lone_queries %d; want %d, %d", got.KUsed, got.NLoneQueries, c.KUsed, c.NLoneQueries)
			}
		})
	}
}

func TestMetricsCommandErrors(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	emb := []float64{0, 0, 1, 0, 0, 1, 1, 1, 2, 2, 3, 3}
	for _, err := range []error{
		arrayio.WriteMatrix(p("E.npy"), emb, 6, 2),
		arrayio.WriteMatrix(p("R3.csv"), emb, 4, 3),
		arrayio.WriteLabels(p("L.csv"), []int{0, 0, 1, 1, 2, 2}),
		arrayio.WriteLabels(p("L5.csv"), []int{0, 0, 1, 1, 2}),
		arrayio.WriteLabels(p("L4.csv"), []int{0, 0, 1, 1}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	ok := []string{"--embeddings", p("E.npy"), "--labels", p("L.csv")}
	out, err := runMetrics(t, ok...)
	if err != nil || !strings.Contains(out, `"precision_at_1"`) || !strings.Contains(out, `"NMI"`) {
		t.Fatalf("valid input: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--embeddings", p("E.npy"), "--labels", p("L5.csv")}, "--labels " + p("L5.csv") + ": 5 labels but 6 embedding rows"},
		{[]string{"--embeddings", p("nope.npy"), "--labels", p("L.csv")}, "--embeddings " + p("nope.npy") + ": no such file or directory"},
		{[]string{"--embeddings", p("E.npy"), "--labels", p("L.txt")}, "--labels " + p("L.txt") + `: unsupported file extension ".txt"`},
		{append(ok, "--k", "many"), "--k many: want max_bin_count, all or a positive integer"},
		{append(ok, "--reference", p("E.npy")), "--reference needs --reference-labels"},
		{append(ok, "--ref-includes-query"), "--ref-includes-query needs --reference"},
		{append(ok, "--reference", p("R3.csv"), "--reference-labels", p("L5.csv")), "--reference-labels " + p("L5.csv") + ": 5 labels but 4 embedding rows"},
		{append(ok, "--reference", p("R3.csv"), "--reference-labels", p("L4.csv")), "--reference " + p("R3.csv") + ": 3 columns but the embeddings have 2"},
		{append(ok, "--cluster-labels", p("L5.csv")), "--cluster-labels " + p("L5.csv") + ": 5 labels but 6 embedding rows"},
		{[]string{"--labels", p("L.csv")}, `required flag(s) "embeddings" not set`},
	} {
		_, err := runMetrics(t, tc.args...)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
