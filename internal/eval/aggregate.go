package eval

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Summary is one metric over cross-validation folds: powerful_benchmarker's
// "separated" evaluation. (Its files are expfolder's: separated.json and
// separated.csv.)
type Summary struct {
	Mean float64
	// StdErr is the sample standard deviation over sqrt(N); HalfWidth is
	// the half-width of the 95% Student-t interval of the mean, which
	// CILow and CIHigh bound, clipped to the range a metric can take. All
	// four are NaN when N < 2, where the spread is unknown.
	StdErr, HalfWidth, CILow, CIHigh float64
	N                                int
}

// Interval names bench's one convention for a result over folds, which
// String follows and every table header states.
const Interval = "mean ± 95% CI half-width (n folds)"

// String states the summary as Interval says: "0.1125 ± 0.1303 (mean ±
// 95% CI half-width, 2 folds)"; the mean alone with one fold.
func (s Summary) String() string {
	if math.IsNaN(s.HalfWidth) {
		return fmt.Sprintf("%.4f (1 fold, no interval)", s.Mean)
	}
	return fmt.Sprintf("%.4f ± %.4f (mean ± 95%% CI half-width, %d folds)", s.Mean, s.HalfWidth, s.N)
}

// metricRange is the interval a metric's values lie in: every accuracy
// metric is a fraction, except AMI, which chance-adjusts below 0.
func metricRange(name string) (lo, hi float64) {
	if name == "AMI" {
		return -1, 1
	}
	return 0, 1
}

// Aggregate summarises each metric over the folds that report it; the
// bounds of an interval reaching past the metric's range are clipped to it
// (the half-width is not: "mean ± half-width" stays the t-interval).
func Aggregate(perFold []map[string]float64) map[string]Summary {
	values := make(map[string][]float64)
	for _, m := range perFold {
		for k, v := range m {
			values[k] = append(values[k], v)
		}
	}
	out := make(map[string]Summary, len(values))
	for k, v := range values {
		s := summarize(v)
		lo, hi := metricRange(k)
		s.CILow, s.CIHigh = max(s.CILow, lo), min(s.CIHigh, hi)
		out[k] = s
	}
	return out
}

func summarize(v []float64) Summary {
	n := len(v)
	var sum float64
	for _, x := range v {
		sum += x
	}
	s := Summary{Mean: sum / float64(n), N: n, StdErr: math.NaN(), HalfWidth: math.NaN(), CILow: math.NaN(), CIHigh: math.NaN()}
	if n < 2 {
		return s
	}
	var ss float64
	for _, x := range v {
		ss += (x - s.Mean) * (x - s.Mean)
	}
	s.StdErr = math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(0.975)
	s.HalfWidth = t * s.StdErr
	s.CILow, s.CIHigh = s.Mean-s.HalfWidth, s.Mean+s.HalfWidth
	return s
}

// Concatenate builds powerful_benchmarker's "concatenated" embeddings:
// each fold's n x dims[f] embeddings of the same n items side by side,
// each L2-normalised row by row first when normalize is set
// (ConcatenateEmbeddings' normalize_embeddings). It returns the
// n x sum(dims) matrix and its width.
func Concatenate[T Float](folds [][]T, dims []int, normalize bool) ([]T, int, error) {
	if len(folds) == 0 || len(folds) != len(dims) {
		return nil, 0, fmt.Errorf("eval: %d folds with %d dimensions", len(folds), len(dims))
	}
	n := -1
	for f, x := range folds {
		if dims[f] <= 0 || len(x)%dims[f] != 0 {
			return nil, 0, fmt.Errorf("eval: fold %d: %d values with dimension %d", f, len(x), dims[f])
		}
		if rows := len(x) / dims[f]; n < 0 {
			n = rows
		} else if rows != n {
			return nil, 0, fmt.Errorf("eval: fold %d has %d rows, fold 0 has %d", f, rows, n)
		}
	}
	width := 0
	for _, d := range dims {
		width += d
	}
	out := make([]T, 0, n*width)
	norm := make([][]T, len(folds))
	for f, x := range folds {
		norm[f] = x
		if normalize {
			norm[f] = normalized(x, dims[f])
		}
	}
	for i := range n {
		for f, x := range norm {
			out = append(out, x[i*dims[f]:(i+1)*dims[f]]...)
		}
	}
	return slices.Clip(out), width, nil
}
