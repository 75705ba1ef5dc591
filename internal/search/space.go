// Package search tunes the hyperparameters a config marks with search
// ranges (lr~LOG_BAYESIAN~: [1e-6, 1e-2], margin~BAYESIAN~: [0, 1],
// m~INT_BAYESIAN~: [2, 8]) by Bayesian optimisation, as powerful_benchmarker
// did with Ax: a space-filling initial design, then a Gaussian process of the
// validation metric and the point of largest expected improvement.
//
// The optimiser works in the unit cube, one coordinate per range:
// LOG_BAYESIAN ranges are log-scaled so that 1e-5..1e-4 weighs as much as
// 1e-3..1e-2, and each integer of an INT_BAYESIAN range owns an equal slice.
package search

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bench-ml/bench/internal/config"
)

// Space is the list of search ranges of a config, one dimension each.
type Space []config.Search

// Check refuses a space the search cannot run: empty, or with a range
// that an override cannot reach.
func (s Space) Check() error {
	if len(s) == 0 {
		return fmt.Errorf("the config has no search ranges: mark a hyperparameter, as in lr~LOG_BAYESIAN~: [1e-6, 1e-2]")
	}
	for _, d := range s {
		// An override addresses map keys only (config.Override).
		if strings.Contains(d.Path, "[") {
			return &config.Error{Source: d.Source, Path: d.Path, Msg: "is a search range inside a list; bench search needs its ranges in maps"}
		}
	}
	return nil
}

// value maps a coordinate u in [0, 1] to a value of the range.
// The ends map to the bounds exactly, as exp(log(high)) may not.
func value(d config.Search, u float64) float64 {
	switch {
	case u <= 0:
		return d.Low
	case u >= 1:
		return d.High
	case d.Kind == "LOG_BAYESIAN":
		lo, hi := math.Log(d.Low), math.Log(d.High)
		return math.Min(math.Max(math.Exp(lo+u*(hi-lo)), d.Low), d.High)
	case d.Kind == "INT_BAYESIAN":
		return math.Min(d.Low+math.Floor(u*(d.High-d.Low+1)), d.High)
	}
	return d.Low + u*(d.High-d.Low)
}

// unit maps a value of the range to its coordinate; an integer maps to the
// middle of its slice, so that every trial of one integer is one point.
func unit(d config.Search, v float64) float64 {
	switch {
	case d.High == d.Low:
		return 0.5
	case d.Kind == "LOG_BAYESIAN":
		return (math.Log(v) - math.Log(d.Low)) / (math.Log(d.High) - math.Log(d.Low))
	case d.Kind == "INT_BAYESIAN":
		return (v - d.Low + 0.5) / (d.High - d.Low + 1)
	}
	return (v - d.Low) / (d.High - d.Low)
}

// snap moves a point to the coordinates of the values it stands for: the
// middle of an integer's slice.
func (s Space) snap(u []float64) []float64 {
	out := make([]float64, len(u))
	for j, d := range s {
		out[j] = u[j]
		if d.Kind == "INT_BAYESIAN" {
			out[j] = unit(d, value(d, u[j]))
		}
	}
	return out
}

// values maps a point of the unit cube to the values, by path.
func (s Space) values(u []float64) map[string]float64 {
	m := make(map[string]float64, len(s))
	for j, d := range s {
		m[d.Path] = value(d, u[j])
	}
	return m
}

// point maps values back to the unit cube.
func (s Space) point(values map[string]float64) []float64 {
	u := make([]float64, len(s))
	for j, d := range s {
		u[j] = unit(d, values[d.Path])
	}
	return u
}

// Overrides replace each search range by its value: a later value replaces
// a range like any other config value.
func (s Space) Overrides(values map[string]float64, source string) []config.Override {
	out := make([]config.Override, len(s))
	for j, d := range s {
		out[j] = config.Override{Key: d.Path, Value: yamlNumber(d, values[d.Path]), Source: source + " (" + d.Source + ")"}
	}
	return out
}

// yamlNumber writes a value so that YAML reads it back exactly and with its
// type: an INT_BAYESIAN value as an integer, any other as a float even when
// it is whole (1.0, not 1).
func yamlNumber(d config.Search, v float64) string {
	if d.Kind == "INT_BAYESIAN" {
		return strconv.FormatInt(int64(v), 10)
	}
	text := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(text, ".e") {
		text += ".0"
	}
	return text
}

// describe lists values for messages: "lr=0.00123 m=4".
func (s Space) describe(values map[string]float64) string {
	parts := make([]string, len(s))
	for j, d := range s {
		parts[j] = d.Path + "=" + strconv.FormatFloat(values[d.Path], 'g', 4, 64)
	}
	return strings.Join(parts, " ")
}
