package eval_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/bench-ml/bench/internal/eval"
)

// goldenDir finds shared/golden/<sub> beside the repository (the golden
// files are shared between projects and never copied into the repo) by
// walking up from the test's working directory.
func goldenDir(t testing.TB, sub string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; {
		p := filepath.Join(dir, "shared", "golden", sub)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("golden files shared/golden/%s not found above %s", sub, wd)
		}
		dir = parent
	}
}

// metricsCase is one file of shared/golden/metrics.
type metricsCase struct {
	Query              [][]float64                `json:"query"`
	QueryLabels        []int                      `json:"query_labels"`
	Reference          [][]float64                `json:"reference"`
	ReferenceLabels    []int                      `json:"reference_labels"`
	RefIncludesQuery   bool                       `json:"ref_includes_query"`
	Normalize          bool                       `json:"normalize"`
	K                  json.RawMessage            `json:"k"`
	KUsed              int                        `json:"k_used"`
	NLoneQueries       int                        `json:"n_lone_queries"`
	ClusterLabels      []int                      `json:"cluster_labels"`
	Expected           map[string]json.RawMessage `json:"expected"`
	ExpectedClustering map[string]float64         `json:"expected_clustering"`
	Tolerance          struct {
		Abs float64 `json:"abs"`
	} `json:"tolerance"`
}

// kOption converts the file's k (null, "max_bin_count" or an integer).
func (c *metricsCase) kOption(t *testing.T) string {
	var v any
	if err := json.Unmarshal(c.K, &v); err != nil {
		t.Fatal(err)
	}
	switch v := v.(type) {
	case nil:
		return eval.KAll
	case string:
		return v
	case float64:
		return strconv.Itoa(int(v))
	}
	t.Fatalf("unexpected k %s", c.K)
	return ""
}

func flatten(rows [][]float64) ([]float64, int) {
	if rows == nil {
		return nil, 0
	}
	d := len(rows[0])
	out := make([]float64, 0, len(rows)*d)
	for _, r := range rows {
		out = append(out, r...)
	}
	return out, d
}

func loadMetricsCases(t *testing.T) map[string]*metricsCase {
	dir := goldenDir(t, "metrics")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden metric files in %s: %v", dir, err)
	}
	cases := make(map[string]*metricsCase)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := new(metricsCase)
		if err := json.Unmarshal(b, c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		cases[filepath.Base(f)] = c
	}
	return cases
}

func TestEvaluateGolden(t *testing.T) {
	for name, c := range loadMetricsCases(t) {
		t.Run(name, func(t *testing.T) {
			q, dim := flatten(c.Query)
			r, _ := flatten(c.Reference)
			opt := eval.Options{
				K:                c.kOption(t),
				Normalize:        c.Normalize,
				RefIncludesQuery: c.RefIncludesQuery,
				ClusterLabels:    c.ClusterLabels,
			}
			res, err := eval.Evaluate64(q, c.QueryLabels, r, c.ReferenceLabels, dim, opt)
			if err != nil {
				t.Fatal(err)
			}
			if res.KUsed != c.KUsed {
				t.Errorf("k used = %d, want %d", res.KUsed, c.KUsed)
			}
			if res.NumLoneQueries != c.NLoneQueries {
				t.Errorf("lone queries = %d, want %d", res.NumLoneQueries, c.NLoneQueries)
			}
			tol := c.Tolerance.Abs
			check := func(what string, got, want float64) {
				t.Helper()
				if math.Abs(got-want) > tol || math.IsNaN(got) {
					t.Errorf("%s = %.17g, want %.17g (tolerance %g)", what, got, want, tol)
				}
			}
			for _, m := range []string{eval.PrecisionAt1, eval.RPrecision, eval.MeanAveragePrecisionAtR, eval.MeanAveragePrecision, eval.MeanReciprocalRank} {
				var want float64
				if err := json.Unmarshal(c.Expected[m], &want); err != nil {
					t.Fatalf("expected %s: %v", m, err)
				}
				check(m, res.Metrics[m], want)
			}
			for key, got := range map[string]map[int]float64{"recall_at_k": res.RecallAtK, "recall_at_k_not_lone": res.RecallAtKNotLone} {
				var want map[string]float64
				if err := json.Unmarshal(c.Expected[key], &want); err != nil {
					t.Fatalf("expected %s: %v", key, err)
				}
				for ks, w := range want {
					k, _ := strconv.Atoi(ks)
					check(key+"["+ks+"]", got[k], w)
				}
			}
			check("NMI", res.Metrics[eval.NMIName], c.ExpectedClustering["NMI"])
			check("AMI", res.Metrics[eval.AMIName], c.ExpectedClustering["AMI"])
		})
	}
}
