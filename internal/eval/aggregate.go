package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Summary is one metric over cross-validation folds: powerful_benchmarker's
// "separated" evaluation.
type Summary struct {
	Mean float64
	// StdErr is the sample standard deviation over sqrt(N); CILow and
	// CIHigh bound the 95% Student-t interval of the mean. All three are NaN
	// when N < 2, where the spread is unknown.
	StdErr, CILow, CIHigh float64
	N                     int
}

// MarshalJSON writes NaN as null, which JSON can represent.
func (s Summary) MarshalJSON() ([]byte, error) {
	num := func(v float64) *float64 {
		if math.IsNaN(v) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		Mean   float64  `json:"mean"`
		StdErr *float64 `json:"std_err"`
		CILow  *float64 `json:"ci_low"`
		CIHigh *float64 `json:"ci_high"`
		N      int      `json:"n"`
	}{s.Mean, num(s.StdErr), num(s.CILow), num(s.CIHigh), s.N})
}

// Aggregate summarises each metric over the folds that report it.
func Aggregate(perFold []map[string]float64) map[string]Summary {
	values := make(map[string][]float64)
	for _, m := range perFold {
		for k, v := range m {
			values[k] = append(values[k], v)
		}
	}
	out := make(map[string]Summary, len(values))
	for k, v := range values {
		out[k] = summarize(v)
	}
	return out
}

func summarize(v []float64) Summary {
	n := len(v)
	var sum float64
	for _, x := range v {
		sum += x
	}
	s := Summary{Mean: sum / float64(n), N: n, StdErr: math.NaN(), CILow: math.NaN(), CIHigh: math.NaN()}
	if n < 2 {
		return s
	}
	var ss float64
	for _, x := range v {
		ss += (x - s.Mean) * (x - s.Mean)
	}
	s.StdErr = math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(0.975)
	s.CILow, s.CIHigh = s.Mean-t*s.StdErr, s.Mean+t*s.StdErr
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
