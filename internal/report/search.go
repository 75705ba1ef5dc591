package report

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"

	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/search"
)

// Search is a search folder (bench search): its state, its trials'
// experiments and the reproductions beside them.
type Search struct {
	Path, Name string
	State      *search.State
	// Trials are the experiments of State.Trials that exist, by name.
	Trials map[string]*Experiment
	// Reproductions are the other experiment folders in the search folder
	// (bench run --reproduce_results <trial> --root_experiment_folder
	// <search>), with the trial whose config each repeats.
	Reproductions []Reproduction
}

// Reproduction is an experiment repeating a trial's config.
type Reproduction struct {
	*Experiment
	Of string // the trial reproduced; "" when none has the same config
}

// LoadSearch reads a search folder.
func LoadSearch(path string) (*Search, error) {
	st, err := search.Load(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	s := &Search{Path: path, Name: filepath.Base(abs), State: st, Trials: map[string]*Experiment{}}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var others []*Experiment
	for _, d := range entries {
		if _, err := os.Stat(filepath.Join(path, d.Name(), "configs")); !d.IsDir() || err != nil {
			continue
		}
		e, err := Load(filepath.Join(path, d.Name()))
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(st.Trials, func(t search.Trial) bool { return t.Name == d.Name() }) {
			s.Trials[d.Name()] = e
		} else {
			others = append(others, e)
		}
	}
	for _, e := range others {
		r := Reproduction{Experiment: e}
		for _, t := range st.Trials {
			if tr := s.Trials[t.Name]; tr != nil && sameConfig(tr, e) {
				r.Of = t.Name
			}
		}
		s.Reproductions = append(s.Reproductions, r)
	}
	return s, nil
}

// sameConfig compares two experiments' resolved configs.
func sameConfig(a, b *Experiment) bool {
	return reflect.DeepEqual(a.Hyperparameters, b.Hyperparameters)
}

// Table is the search's table: one row per trial in order, the searched
// values, the objective (the mean over folds of the best validation
// primary metric, which chose the best trial), the test result of the
// primary metric and the status; the best trial marked; then the
// reproductions.
func (s *Search) Table() Table {
	st := s.State
	t := Table{Header: []string{"trial"}, Lead: 1, Note: "test: " + eval.Interval}
	for _, d := range st.Space {
		t.Header = append(t.Header, d.Path)
	}
	metric := shortName(st.Metric)
	t.Header = append(t.Header, "objective: val "+metric+" (%)", "test "+metric+" (%)", "status")
	t.Groups = []Group{{"searched values", len(st.Space)}, {"results; test: mean ± 95% CI half-width (n folds)", 3}}
	best := st.Best()
	for _, tr := range st.Trials {
		row := []Cell{text(tr.Name)}
		for _, d := range st.Space {
			row = append(row, text(strconv.FormatFloat(tr.Values[d.Path], 'g', 4, 64)))
		}
		obj := text(absent)
		if tr.Objective != nil {
			obj = Cell{Text: percent(*tr.Objective), value: math.NaN()}
		}
		status := tr.Status
		if best != nil && tr.Name == best.Name {
			status += ", best"
			row[0].Best, obj.Best = true, true
		}
		row = append(row, obj, testCell(s.Trials[tr.Name], st.Metric), text(status))
		t.Rows = append(t.Rows, row)
	}
	for _, r := range s.Reproductions {
		row := []Cell{text(r.Name)}
		for range st.Space {
			row = append(row, text(absent))
		}
		what := "reproduction of " + r.Of
		if r.Of == "" {
			what = "other experiment (config of no trial)"
		}
		obj := text(absent)
		if v, ok := validationObjective(r.Experiment); ok {
			obj = text(percent(v))
		}
		t.Rows = append(t.Rows, append(row, obj, testCell(r.Experiment, st.Metric), text(what)))
	}
	t.Caption = "Search " + s.Name + ": one row per trial, in order; the objective chose the best trial (in bold), the test set played no part. " +
		"Test: " + eval.Interval + "."
	return t
}

func testCell(e *Experiment, metric string) Cell {
	if e == nil || !e.Finished() {
		return text(missing)
	}
	s, ok := e.Results.Separated[metric]
	if !ok {
		return text(absent)
	}
	c := interval(s)
	c.value = math.NaN() // not a column whose best is marked: the objective chooses
	return c
}

// validationObjective is the search's objective of any experiment.
func validationObjective(e *Experiment) (float64, bool) {
	v, err := search.ValidationObjective(e.Path)
	return v, err == nil
}
