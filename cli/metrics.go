package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/bench-ml/bench/internal/arrayio"
	"github.com/bench-ml/bench/internal/eval"
)

// newMetricsCmd is `bench metrics`: the evaluation of a run, on embeddings
// computed elsewhere, in float64 so that its numbers are reproducible to
// the last digit.
func newMetricsCmd() *cobra.Command {
	var (
		embeddings, labels, reference, referenceLabels, clusterLabels string
		k                                                             string
		refIncludesQuery, noNormalize, avgOfAvgs                      bool
		recallK                                                       []int
		seed                                                          int64
	)
	cmd := &cobra.Command{
		Use:   "metrics --embeddings E.npy --labels L.npy [flags]",
		Short: "Compute retrieval and clustering metrics of embeddings",
		Long: `Compute PML's AccuracyCalculator metrics (precision_at_1, r_precision,
mean_average_precision_at_r, mean_average_precision, mean_reciprocal_rank),
Recall@K, NMI and AMI of embeddings read from .npy or .csv files, and print
them as one JSON object.

Without --reference the embeddings are compared with themselves, each query's
own row excluded. NMI and AMI are those of --cluster-labels when given, else
of a k-means clustering (k = number of labels, seeded by --seed).

The metrics are computed in float64, or in float32 when the embeddings (and
the reference) are float32 .npy files, as bench embed writes them: then they
are exactly those bench run computed.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkK(k); err != nil {
				return err
			}
			q, err := readEmbeddings("--embeddings", embeddings, "--labels", labels)
			if err != nil {
				return err
			}
			opt := eval.Options{
				K:                k,
				Normalize:        !noNormalize,
				RecallK:          recallK,
				AvgOfAvgs:        avgOfAvgs,
				RefIncludesQuery: refIncludesQuery,
				Clustering:       true,
				Seed:             seed,
			}
			var r embeddingSet
			switch {
			case reference != "" && referenceLabels == "":
				return fmt.Errorf("--reference needs --reference-labels")
			case reference == "" && referenceLabels != "":
				return fmt.Errorf("--reference-labels needs --reference")
			case reference == "" && refIncludesQuery:
				return fmt.Errorf("--ref-includes-query needs --reference")
			case reference != "":
				if r, err = readEmbeddings("--reference", reference, "--reference-labels", referenceLabels); err != nil {
					return err
				}
				if r.cols != q.cols {
					return fmt.Errorf("--reference %s: %d columns but the embeddings have %d", reference, r.cols, q.cols)
				}
			}
			if clusterLabels != "" {
				if opt.ClusterLabels, err = arrayio.ReadLabels(clusterLabels); err != nil {
					return fmt.Errorf("--cluster-labels %w", err)
				}
				if len(opt.ClusterLabels) != q.rows {
					return fmt.Errorf("--cluster-labels %s: %d labels but %d embedding rows", clusterLabels, len(opt.ClusterLabels), q.rows)
				}
			}
			var res eval.Result
			if q.single && (reference == "" || r.single) {
				// float32 files, as bench embed writes: computed in float32,
				// as the run computed them, the results are the run's.
				res, err = eval.Evaluate(eval.Convert[float32](q.data), q.labels, eval.Convert[float32](r.data), r.labels, q.cols, opt)
			} else {
				res, err = eval.Evaluate64(q.data, q.labels, r.data, r.labels, q.cols, opt)
			}
			if err != nil {
				return err
			}
			out, err := json.MarshalIndent(metricsJSON(res), "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&embeddings, "embeddings", "", "query embeddings, N x D (.npy or .csv)")
	f.StringVar(&labels, "labels", "", "labels of the embeddings, N integers (.npy or .csv)")
	f.StringVar(&reference, "reference", "", "reference embeddings (default: the embeddings themselves)")
	f.StringVar(&referenceLabels, "reference-labels", "", "labels of the reference embeddings")
	f.BoolVar(&refIncludesQuery, "ref-includes-query", false, "reference rows 0..N-1 are the queries: exclude each query's own row")
	f.StringVar(&k, "k", eval.KMaxBinCount, "neighbours per query: max_bin_count, all or an integer")
	f.BoolVar(&noNormalize, "no-normalize", false, "use the embeddings as they are instead of L2-normalising them")
	f.IntSliceVar(&recallK, "recall-k", eval.DefaultRecallK, "k values of Recall@k")
	f.StringVar(&clusterLabels, "cluster-labels", "", "a clustering of the embeddings to score with NMI and AMI instead of k-means")
	f.BoolVar(&avgOfAvgs, "avg-of-avgs", false, "average per label first, then over labels")
	f.Int64Var(&seed, "seed", 0, "seed of the k-means++ initialisation")
	_ = cmd.MarkFlagRequired("embeddings")
	_ = cmd.MarkFlagRequired("labels")
	return cmd
}

func checkK(k string) error {
	if k == eval.KMaxBinCount || k == eval.KAll {
		return nil
	}
	if n, err := strconv.Atoi(k); err != nil || n <= 0 {
		return fmt.Errorf("--k %s: want %s, %s or a positive integer", k, eval.KMaxBinCount, eval.KAll)
	}
	return nil
}

// embeddingSet is an embedding matrix, row-major, and its labels; single
// reports a float32 .npy file.
type embeddingSet struct {
	data       []float64
	rows, cols int
	labels     []int
	single     bool
}

// readEmbeddings reads an embedding matrix and its labels, and checks that
// they fit together, naming the flag and file at fault.
func readEmbeddings(flag, path, labelFlag, labelPath string) (embeddingSet, error) {
	var s embeddingSet
	var err error
	if s.data, s.rows, s.cols, s.single, err = arrayio.ReadMatrixPrecision(path); err != nil {
		return s, fmt.Errorf("%s %w", flag, err)
	}
	for i, v := range s.data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return s, fmt.Errorf("%s %s: row %d, column %d is %v", flag, path, i/s.cols, i%s.cols, v)
		}
	}
	if s.labels, err = arrayio.ReadLabels(labelPath); err != nil {
		return s, fmt.Errorf("%s %w", labelFlag, err)
	}
	if len(s.labels) != s.rows {
		return s, fmt.Errorf("%s %s: %d labels but %d embedding rows", labelFlag, labelPath, len(s.labels), s.rows)
	}
	return s, nil
}

// metricsJSON lays the result out for printing: the flat metrics, Recall@k
// as maps keyed by k, and the counts that qualify them.
func metricsJSON(res eval.Result) map[string]any {
	out := make(map[string]any, len(res.Metrics)+5)
	for name, v := range res.Metrics {
		out[name] = v
	}
	for k := range res.RecallAtK {
		delete(out, eval.RecallName(k))
	}
	byK := func(m map[int]float64) map[string]float64 {
		s := make(map[string]float64, len(m))
		for k, v := range m {
			s[strconv.Itoa(k)] = v
		}
		return s
	}
	out["recall_at_k"] = byK(res.RecallAtK)
	out["recall_at_k_not_lone"] = byK(res.RecallAtKNotLone)
	out["k_used"] = res.KUsed
	out["n_queries"] = res.NumQueries
	out["n_lone_queries"] = res.NumLoneQueries
	return out
}
