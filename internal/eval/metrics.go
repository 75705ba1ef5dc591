// Package eval evaluates embeddings the way pytorch-metric-learning's
// AccuracyCalculator does: exact k-nearest-neighbour retrieval metrics
// (precision_at_1, r_precision, mean_average_precision_at_r,
// mean_average_precision, mean_reciprocal_rank), the classic Recall@K of
// metric-learning papers, and NMI/AMI of a k-means clustering; and it
// aggregates them over cross-validation folds as powerful_benchmarker did.
package eval

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
)

// Metric names, as PML reports them.
const (
	PrecisionAt1            = "precision_at_1"
	RPrecision              = "r_precision"
	MeanAveragePrecisionAtR = "mean_average_precision_at_r"
	MeanAveragePrecision    = "mean_average_precision"
	MeanReciprocalRank      = "mean_reciprocal_rank"
	NMIName                 = "NMI"
	AMIName                 = "AMI"
	recallPrefix            = "recall_at_"
)

// Values of Options.K besides an integer.
const (
	KMaxBinCount = "max_bin_count"
	KAll         = "all"
)

// DefaultRecallK is used when Options.RecallK is empty.
var DefaultRecallK = []int{1, 2, 4, 8}

// RecallName is the Result.Metrics key of Recall@k.
func RecallName(k int) string { return recallPrefix + strconv.Itoa(k) }

// Options configures Evaluate.
type Options struct {
	// K is the number of neighbours the PML metrics look at: "max_bin_count"
	// (also when empty: the largest number of references sharing a query's
	// label, minus the query itself when it is among them, which makes
	// r_precision and mean_average_precision_at_r exact), "all" (every
	// reference) or a positive integer. When K is smaller than a query's R,
	// R is capped at K in r_precision, MAP@R and MAP's divisor, as PML does.
	K string
	// Normalize L2-normalises queries and references before the search.
	Normalize bool
	// RecallK lists the k of Recall@k; empty means DefaultRecallK.
	RecallK []int
	// AvgOfAvgs averages each metric per query label first, then over the
	// labels, so that large classes do not dominate. It applies to Recall@k
	// as well.
	AvgOfAvgs bool
	// RefIncludesQuery says that reference rows 0..nq-1 are the queries:
	// each query's own row is excluded from its neighbours and from R.
	RefIncludesQuery bool
	// Clustering computes NMI and AMI of a k-means clustering of the
	// queries (after normalisation), k = the number of query labels,
	// k-means++ seeded with Seed. Cost O(nq · k · dim) per iteration.
	Clustering bool
	Seed       int64
	// ClusterLabels, when set, is a clustering of the queries whose NMI and
	// AMI are reported instead of running k-means.
	ClusterLabels []int
	// Progress, when set, is told how many queries have their neighbours,
	// every few hundred queries and at the end; it may be called from
	// several goroutines at once.
	Progress func(queriesDone int)
}

// Result holds the metrics of one evaluation.
type Result struct {
	// Metrics has one flat key per metric: the PML names, RecallName(k) for
	// each k, and NMI and AMI when clustering was asked for.
	Metrics map[string]float64
	// RecallAtK is Recall@k over all queries (a lone query is a miss);
	// RecallAtKNotLone leaves lone queries out, as the PML metrics do.
	RecallAtK, RecallAtKNotLone map[int]float64
	// KUsed is the number of neighbours the PML metrics looked at.
	KUsed int
	// NumQueries and NumLoneQueries count the queries, and those without
	// any relevant reference, which the PML metrics exclude.
	NumQueries, NumLoneQueries int
	// ClusterLabels is the clustering NMI and AMI were computed from.
	ClusterLabels []int
}

// Evaluate computes the metrics of the nq x dim query embeddings against
// the reference embeddings (row-major). ref == nil, or ref the very slice
// query is (PML's "query is reference"), compares the queries with
// themselves, each query's own row excluded; rLabels is then ignored. The
// search runs in float32; see Evaluate64 to reproduce float64 results
// exactly.
func Evaluate(query []float32, qLabels []int, ref []float32, rLabels []int, dim int, opt Options) (Result, error) {
	return evaluate(query, qLabels, ref, rLabels, dim, opt)
}

// Evaluate64 is Evaluate in float64 throughout.
func Evaluate64(query []float64, qLabels []int, ref []float64, rLabels []int, dim int, opt Options) (Result, error) {
	return evaluate(query, qLabels, ref, rLabels, dim, opt)
}

// queryStats are the per-query values behind the metrics.
type queryStats struct {
	p1, rPrec, mapR, ap, rr float64
	// firstHit is the 1-based rank of the first relevant neighbour within
	// the searched depth, 0 if none: Recall@k is firstHit in [1, k].
	firstHit int
}

func evaluate[T Float](query []T, qLabels []int, ref []T, rLabels []int, dim int, opt Options) (Result, error) {
	if dim <= 0 {
		return Result{}, fmt.Errorf("eval: dimension %d, want > 0", dim)
	}
	sameSource := ref == nil || (len(ref) == len(query) && len(ref) > 0 && &ref[0] == &query[0])
	if sameSource {
		if opt.RefIncludesQuery {
			return Result{}, fmt.Errorf("eval: RefIncludesQuery needs a separate reference set")
		}
		ref, rLabels = query, qLabels
	}
	nq, err := checkSet("query", query, qLabels, dim)
	if err != nil {
		return Result{}, err
	}
	nr, err := checkSet("reference", ref, rLabels, dim)
	if err != nil {
		return Result{}, err
	}
	if nq == 0 || nr == 0 {
		return Result{}, fmt.Errorf("eval: %d queries and %d references, want at least one of each", nq, nr)
	}
	if opt.RefIncludesQuery {
		if nr < nq {
			return Result{}, fmt.Errorf("eval: RefIncludesQuery with %d queries but only %d references", nq, nr)
		}
		for i, l := range qLabels {
			if rLabels[i] != l {
				return Result{}, fmt.Errorf("eval: RefIncludesQuery: query %d has label %d but reference row %d has label %d", i, l, i, rLabels[i])
			}
		}
	}
	recallK := opt.RecallK
	if len(recallK) == 0 {
		recallK = DefaultRecallK
	}
	for _, k := range recallK {
		if k <= 0 {
			return Result{}, fmt.Errorf("eval: recall k %d, want > 0", k)
		}
	}
	if opt.ClusterLabels != nil && len(opt.ClusterLabels) != nq {
		return Result{}, fmt.Errorf("eval: %d cluster labels for %d queries", len(opt.ClusterLabels), nq)
	}
	if opt.Normalize {
		query = normalized(query, dim)
		if sameSource {
			ref = query
		} else {
			ref = normalized(ref, dim)
		}
	}

	excludeSelf := sameSource || opt.RefIncludesQuery
	self := 0
	if excludeSelf {
		self = 1
	}
	refCount := make(map[int]int)
	for _, l := range rLabels {
		refCount[l]++
	}
	relevant := make([]int, nq) // R of each query, before capping at K
	maxBin, lone := 0, 0
	for q, l := range qLabels {
		relevant[q] = max(refCount[l]-self, 0)
		maxBin = max(maxBin, relevant[q])
		if relevant[q] == 0 {
			lone++
		}
	}
	kUsed, err := resolveK(opt.K, maxBin, nr-self)
	if err != nil {
		return Result{}, err
	}
	depth := max(kUsed, slices.Max(recallK))

	stats := make([]queryStats, nq)
	var done atomic.Int64
	err = Search(query, ref, dim, SearchOptions{K: depth, ExcludeSelf: excludeSelf}, func(q int, idx []int32, _ []T) {
		stats[q] = rankStats(idx, rLabels, qLabels[q], relevant[q], kUsed)
		if n := int(done.Add(1)); opt.Progress != nil && (n%256 == 0 || n == nq) {
			opt.Progress(n)
		}
	})
	if err != nil {
		return Result{}, err
	}

	res := Result{
		Metrics:          make(map[string]float64),
		RecallAtK:        make(map[int]float64),
		RecallAtKNotLone: make(map[int]float64),
		KUsed:            kUsed,
		NumQueries:       nq,
		NumLoneQueries:   lone,
	}
	all := make([]int, nq)
	var notLone []int
	for q := range nq {
		all[q] = q
		if relevant[q] > 0 {
			notLone = append(notLone, q)
		}
	}
	mean := func(qs []int, f func(queryStats) float64) float64 {
		return average(qs, qLabels, opt.AvgOfAvgs, func(q int) float64 { return f(stats[q]) })
	}
	res.Metrics[PrecisionAt1] = mean(notLone, func(s queryStats) float64 { return s.p1 })
	res.Metrics[RPrecision] = mean(notLone, func(s queryStats) float64 { return s.rPrec })
	res.Metrics[MeanAveragePrecisionAtR] = mean(notLone, func(s queryStats) float64 { return s.mapR })
	res.Metrics[MeanAveragePrecision] = mean(notLone, func(s queryStats) float64 { return s.ap })
	res.Metrics[MeanReciprocalRank] = mean(notLone, func(s queryStats) float64 { return s.rr })
	for _, k := range recallK {
		hit := func(s queryStats) float64 {
			if s.firstHit > 0 && s.firstHit <= k {
				return 1
			}
			return 0
		}
		res.RecallAtK[k] = mean(all, hit)
		res.RecallAtKNotLone[k] = mean(notLone, hit)
		res.Metrics[RecallName(k)] = res.RecallAtK[k]
	}

	clusters := opt.ClusterLabels
	if clusters == nil && opt.Clustering {
		clusters, err = KMeans(query, dim, countDistinct(qLabels), opt.Seed)
		if err != nil {
			return Result{}, err
		}
	}
	if clusters != nil {
		res.ClusterLabels = clusters
		res.Metrics[NMIName] = NMI(qLabels, clusters)
		res.Metrics[AMIName] = AMI(qLabels, clusters)
	}
	return res, nil
}

// checkSet validates one embedding set and returns its number of rows.
func checkSet[T Float](name string, x []T, labels []int, dim int) (int, error) {
	if len(x)%dim != 0 {
		return 0, fmt.Errorf("eval: %d %s values are not a multiple of dimension %d", len(x), name, dim)
	}
	n := len(x) / dim
	if len(labels) != n {
		return 0, fmt.Errorf("eval: %d %s labels for %d %s embeddings", len(labels), name, n, name)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return 0, fmt.Errorf("eval: %s embedding %d has a non-finite value (%v) in column %d", name, i/dim, v, i%dim)
		}
	}
	return n, nil
}

// resolveK turns Options.K into a neighbour count, at most avail.
func resolveK(k string, maxBin, avail int) (int, error) {
	var n int
	switch k {
	case "", KMaxBinCount:
		n = maxBin
	case KAll:
		n = avail
	default:
		v, err := strconv.Atoi(k)
		if err != nil || v <= 0 {
			return 0, fmt.Errorf("eval: k %q, want %s, %s or a positive integer", k, KMaxBinCount, KAll)
		}
		n = v
	}
	return max(min(n, avail), 0), nil
}

// rankStats computes one query's values from its neighbours, nearest first.
// r is the query's number of relevant references; the PML metrics look at
// the first kUsed neighbours and cap R at kUsed.
func rankStats(idx []int32, rLabels []int, label, r, kUsed int) queryStats {
	var s queryStats
	rc := min(r, kUsed)
	hits := 0
	var sumP, sumPR float64
	for i, j := range idx {
		if rLabels[j] != label {
			continue
		}
		if s.firstHit == 0 {
			s.firstHit = i + 1
		}
		if i >= kUsed {
			continue
		}
		hits++
		p := float64(hits) / float64(i+1)
		sumP += p
		if i < rc {
			sumPR += p
			s.rPrec++
		}
	}
	if rc == 0 {
		return s
	}
	if s.firstHit == 1 {
		s.p1 = 1
	}
	if s.firstHit > 0 && s.firstHit <= kUsed {
		s.rr = 1 / float64(s.firstHit)
	}
	s.rPrec /= float64(rc)
	s.mapR = sumPR / float64(rc)
	s.ap = sumP / float64(rc)
	return s
}

// average is the mean of f over the queries qs, or with avgOfAvgs the mean
// over labels of the per-label means. PML reports 0 when qs is empty.
func average(qs []int, labels []int, avgOfAvgs bool, f func(q int) float64) float64 {
	if len(qs) == 0 {
		return 0
	}
	if !avgOfAvgs {
		var s float64
		for _, q := range qs {
			s += f(q)
		}
		return s / float64(len(qs))
	}
	type acc struct {
		sum float64
		n   int
	}
	per := make(map[int]*acc)
	var order []int
	for _, q := range qs {
		a := per[labels[q]]
		if a == nil {
			a = &acc{}
			per[labels[q]] = a
			order = append(order, labels[q])
		}
		a.sum += f(q)
		a.n++
	}
	slices.Sort(order)
	var s float64
	for _, l := range order {
		s += per[l].sum / float64(per[l].n)
	}
	return s / float64(len(order))
}

// normalized returns a copy of x with each row scaled to unit L2 norm; a
// zero row stays zero, as with PyTorch's normalize(eps=1e-12).
func normalized[T Float](x []T, dim int) []T {
	out := make([]T, len(x))
	for i := 0; i < len(x); i += dim {
		var s float64
		for _, v := range x[i : i+dim] {
			s += float64(v) * float64(v)
		}
		n := max(math.Sqrt(s), 1e-12)
		for j, v := range x[i : i+dim] {
			out[i+j] = T(float64(v) / n)
		}
	}
	return out
}

func countDistinct(labels []int) int {
	seen := make(map[int]struct{}, len(labels))
	for _, l := range labels {
		seen[l] = struct{}{}
	}
	return len(seen)
}
