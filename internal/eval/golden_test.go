package eval_test

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/golden"
)

// metricCases loads shared/golden/metrics, which lives beside the
// repository and is never copied into it.
func metricCases(t *testing.T) map[string]*golden.MetricCase {
	t.Helper()
	dir := golden.Require(t)
	files, err := golden.Files(dir, "metrics")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden metric files in %s: %v", dir, err)
	}
	cases := make(map[string]*golden.MetricCase)
	for _, f := range files {
		c := new(golden.MetricCase)
		if err := golden.Load(f, c); err != nil {
			t.Fatal(err)
		}
		cases[filepath.Base(f)] = c
	}
	return cases
}

// kOption converts a golden file's k (null, "max_bin_count" or a number).
func kOption(c *golden.MetricCase) string {
	switch k := c.K.(type) {
	case nil:
		return eval.KAll
	case float64:
		return strconv.Itoa(int(k))
	default:
		return fmt.Sprint(k)
	}
}

// evaluateGolden runs one golden case in float64 or, with single, in
// float32 (the trainer's path).
func evaluateGolden(c *golden.MetricCase, single bool) (eval.Result, error) {
	dim := len(c.Query[0])
	opt := eval.Options{
		K:                kOption(c),
		Normalize:        c.Normalize,
		RefIncludesQuery: c.RefIncludesQuery,
		ClusterLabels:    c.ClusterLabels,
	}
	var ref []float64
	if c.Reference != nil {
		ref = golden.Flatten(c.Reference)
	}
	q := golden.Flatten(c.Query)
	if single {
		var ref32 []float32
		if ref != nil {
			ref32 = to32(ref)
		}
		return eval.Evaluate(to32(q), c.QueryLabels, ref32, c.ReferenceLabels, dim, opt)
	}
	return eval.Evaluate64(q, c.QueryLabels, ref, c.ReferenceLabels, dim, opt)
}

// TestEvaluateGolden checks both precisions. The golden neighbours are
// float64's; float32 could in principle reorder a near-tie, but on these
// files it agrees to 1e-14, so a failure of the float32 path is a bug or a
// kernel change worth a look, not noise.
func TestEvaluateGolden(t *testing.T) {
	for name, c := range metricCases(t) {
		for _, single := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/float32=%v", name, single), func(t *testing.T) {
				res, err := evaluateGolden(c, single)
				if err != nil {
					t.Fatal(err)
				}
				if res.KUsed != c.KUsed {
					t.Errorf("k used = %d, want %d", res.KUsed, c.KUsed)
				}
				if res.NumLoneQueries != c.NLoneQueries {
					t.Errorf("lone queries = %d, want %d", res.NumLoneQueries, c.NLoneQueries)
				}
				check := func(what string, got, want float64) {
					t.Helper()
					if !c.Tolerance.Close(got, want) || math.IsNaN(got) {
						t.Errorf("%s = %.17g, want %.17g (tolerance %+v)", what, got, want, c.Tolerance)
					}
				}
				e := c.Expected
				check(eval.PrecisionAt1, res.Metrics[eval.PrecisionAt1], e.PrecisionAt1)
				check(eval.RPrecision, res.Metrics[eval.RPrecision], e.RPrecision)
				check(eval.MeanAveragePrecisionAtR, res.Metrics[eval.MeanAveragePrecisionAtR], e.MeanAveragePrecisionAtR)
				check(eval.MeanAveragePrecision, res.Metrics[eval.MeanAveragePrecision], e.MeanAveragePrecision)
				check(eval.MeanReciprocalRank, res.Metrics[eval.MeanReciprocalRank], e.MeanReciprocalRank)
				for ks, w := range e.RecallAtK {
					k, _ := strconv.Atoi(ks)
					check("recall_at_k["+ks+"]", res.RecallAtK[k], w)
					check("recall_at_k_not_lone["+ks+"]", res.RecallAtKNotLone[k], e.RecallAtKNotLone[ks])
				}
				check("NMI", res.Metrics[eval.NMIName], c.ExpectedClustering["NMI"])
				check("AMI", res.Metrics[eval.AMIName], c.ExpectedClustering["AMI"])
			})
		}
	}
}
