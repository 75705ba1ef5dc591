package search

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/record"
)

// trialsFile lists every trial of a search folder, best first, beside
// expfolder's search.json and best.json.
const trialsFile = "trials.csv"

// Status of a trial.
const (
	Running  = "running"  // started; still so in the state of a killed search
	Done     = "done"     // finished with a finite objective
	Diverged = "diverged" // finished with a NaN or infinite objective
)

// State is what a search has done so far (search.json).
type State struct{ expfolder.Search }

// Trial is one point of the search and its experiment.
type Trial = expfolder.Trial

// space is the state's search ranges.
func (st *State) space() Space { return Space(st.Space) }

// loadState reads the state of the search in dir; nil when dir is new or
// empty. A non-empty dir without a state is another experiment: an error.
func loadState(dir string) (*State, error) {
	s, err := expfolder.ReadSearch(dir)
	if err == nil {
		return &State{*s}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	empty, err := record.Empty(dir)
	if err != nil || empty {
		return nil, err
	}
	return nil, fmt.Errorf("%s already exists and is not a search (no %s in it); choose another --experiment_name", dir, expfolder.SearchFile)
}

// Load reads the state of the search folder dir; a folder without one is
// not a search: an error.
func Load(dir string) (*State, error) {
	st, err := loadState(dir)
	if err == nil && st == nil {
		err = fmt.Errorf("%s is not a search folder (no %s in it)", dir, expfolder.SearchFile)
	}
	return st, err
}

// IsSearch reports whether dir holds a search's state.
func IsSearch(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, expfolder.SearchFile))
	return err == nil
}

// Best is the finished trial of the highest objective; nil while none has
// one.
func (st *State) Best() *Trial {
	r := st.ranked()
	if len(r) == 0 || r[0].Objective == nil {
		return nil
	}
	return &r[0]
}

// compatible checks that a saved search is the one the options describe.
func (st *State) compatible(o Options) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s was started with %s; run it with the same config, or choose another --experiment_name",
			filepath.Join(o.Dir, expfolder.SearchFile), fmt.Sprintf(format, args...))
	}
	if len(st.Space) != len(o.Space) {
		return fail("%d search ranges, the config has %d", len(st.Space), len(o.Space))
	}
	for j, d := range st.Space {
		if e := o.Space[j]; d.Path != e.Path || d.Kind != e.Kind || d.Low != e.Low || d.High != e.High {
			return fail("the search range %s %s, the config has %s %s", d.Path, d, e.Path, e)
		}
	}
	switch {
	case st.Seed != o.Seed:
		return fail("seed %d, the config has %d", st.Seed, o.Seed)
	case st.Metric != o.Metric:
		return fail("metric %s, the config has %s", st.Metric, o.Metric)
	case o.NumInit != 0 && st.NumInit != min(o.NumInit, o.Iters):
		return fail("--num_init_trials %d", st.NumInit)
	}
	return nil
}

func (st *State) save(dir string) error {
	return expfolder.WriteSearch(dir, &st.Search)
}

// ranked lists the finished trials, best first; diverged ones last.
func (st *State) ranked() []Trial {
	var out []Trial
	for _, t := range st.Trials {
		if t.Status != Running {
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, func(a, b Trial) int {
		if c := cmp.Compare(objectiveRank(a), objectiveRank(b)); c != 0 || a.Objective == nil {
			return c
		}
		return cmp.Compare(*b.Objective, *a.Objective)
	})
	return out
}

// objectiveRank sorts trials without an objective after those with one.
func objectiveRank(t Trial) int {
	if t.Objective == nil {
		return 1
	}
	return 0
}

// writeResults writes every finished trial, best first, as CSV, and the
// best one as JSON.
func (st *State) writeResults(dir string) (best *Trial, err error) {
	ranked := st.ranked()
	tab := record.NewTable(filepath.Join(dir, trialsFile))
	order := []string{"objective"}
	for _, d := range st.Space {
		order = append(order, d.Path)
	}
	for _, t := range ranked {
		row := map[string]float64{}
		for k, v := range t.Values {
			row[k] = v
		}
		if t.Objective != nil {
			row["objective"] = *t.Objective
		}
		tab.AddLabeled("trial", t.Name, row, order...)
	}
	if err := tab.Flush(); err != nil {
		return nil, err
	}
	if len(ranked) == 0 || ranked[0].Objective == nil {
		return nil, nil
	}
	best = &ranked[0]
	return best, expfolder.WriteBest(dir, &expfolder.Best{Trial: best.Name,
		Folder: filepath.Join(dir, best.Name), Metric: st.Metric, Objective: *best.Objective, Values: best.Values})
}
