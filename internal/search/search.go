package search

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/progress"
	"github.com/bench-ml/bench/internal/record"
)

// DefaultNumInit is how many trials come from the initial design when
// Options.NumInit is 0.
const DefaultNumInit = 5

// Objective runs one trial and returns the number the search maximises.
type Objective interface {
	// Evaluate runs the trial called name (its experiment folder in the
	// search folder) with the given values of the search ranges, by path.
	Evaluate(name string, values map[string]float64) (float64, error)
}

// ObjectiveFunc is a function used as an Objective.
type ObjectiveFunc func(name string, values map[string]float64) (float64, error)

// Evaluate calls f.
func (f ObjectiveFunc) Evaluate(name string, values map[string]float64) (float64, error) {
	return f(name, values)
}

// Options describe a search.
type Options struct {
	Dir     string // the search folder, <root_experiment_folder>/<experiment_name>
	Space   Space
	Iters   int    // trials in all, counting those of earlier runs
	NumInit int    // trials from the initial design; 0: min(DefaultNumInit, Iters), or as saved
	Seed    uint64 // of the config: the same seed gives the same trials
	Metric  string // the validation metric the objective is, for messages

	Parallel int  // trials in flight at once; 0 is 1
	Liar     Liar // how the proposals treat trials in flight; "" is KrigingBeliever

	Out      io.Writer          // the ranking of the trials at the end; nil prints nothing
	Log      *slog.Logger       // each trial's start and result; nil logs nothing
	Progress *progress.Reporter // a bar of the trials; nil shows none
}

// Run carries out the search, or continues the one saved in o.Dir: Iters
// trials in all, the first NumInit from a Latin hypercube design, the next
// at the largest expected improvement of a Gaussian process fitted to the
// finished trials, with those in flight held at the liar's value. Up to
// Parallel trials run at once, each in its own goroutine calling obj; the
// state is saved when a trial starts and when it ends, so a killed search
// knows which trials were in flight: run again, it evaluates each of them
// again, with the same name and values (the objective continues it from
// its folder, or finds its job still running), so that no trial is lost
// or run twice.
// At the end it writes trials.csv and best.json, and returns the state.
func Run(o Options, obj Objective) (_ *State, err error) {
	if err := o.Space.Check(); err != nil {
		return nil, err
	}
	if o.Iters < 1 {
		return nil, fmt.Errorf("--bayes_opt_iters must be at least 1, got %d", o.Iters)
	}
	if o.Liar != "" {
		if err := o.Liar.Check(); err != nil {
			return nil, fmt.Errorf("--liar: %w", err)
		}
	}
	if o.NumInit < 0 {
		return nil, fmt.Errorf("--num_init_trials must be at least 1, got %d", o.NumInit)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	unlock, err := record.LockExperiment(o.Dir)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	st, err := loadState(o.Dir)
	if err != nil {
		return nil, err
	}
	if st != nil {
		if err := st.compatible(o); err != nil {
			return nil, err
		}
	} else {
		numInit := o.NumInit
		if numInit == 0 {
			numInit = DefaultNumInit
		}
		st = &State{expfolder.Search{Space: o.Space, Seed: o.Seed, NumInit: min(numInit, o.Iters), Metric: o.Metric}}
	}
	out, log := o.Out, o.Log
	if out == nil {
		out = io.Discard
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bar := o.Progress.Bar("search trials", o.Iters, "trials", 1, nil)
	defer bar.Done()
	design := latinHypercube(st.NumInit, len(st.Space), rand.New(rand.NewPCG(st.Seed, 0)))
	liar := cmp.Or(o.Liar, KrigingBeliever)
	type result struct {
		i   int
		v   float64
		err error
	}
	results := make(chan result)
	inFlight, finished := 0, 0
	start := func(i int) {
		t := st.Trials[i]
		log.Info("trial", "trial", t.Name, "number", i+1, "of", max(o.Iters, len(st.Trials)), "values", st.space().describe(t.Values))
		inFlight++
		go func() {
			v, err := obj.Evaluate(t.Name, t.Values)
			results <- result{i, v, err}
		}()
	}
	for i, t := range st.Trials {
		switch t.Status {
		case Running:
			log.Warn("trial in flight when the search stopped: continuing it", "trial", t.Name)
			start(i)
		default:
			finished++
		}
	}
	bar.Set(finished)
	var failed error // the first error: no new trial starts, those in flight finish
	for {
		for failed == nil && inFlight < max(o.Parallel, 1) && len(st.Trials) < o.Iters {
			i := len(st.Trials)
			u, err := st.next(i, design, liar)
			if err == nil {
				st.Trials = append(st.Trials, Trial{Name: fmt.Sprintf("trial_%d", i), Values: st.space().values(u), Status: Running})
				err = st.save(o.Dir)
			}
			if err != nil {
				failed = err
				break
			}
			start(i)
		}
		if inFlight == 0 {
			break
		}
		r := <-results
		inFlight--
		t := &st.Trials[r.i]
		if r.err != nil {
			// It stays running in the state: the next run continues it.
			failed = cmp.Or(failed, fmt.Errorf("search %s, %s (%s): %w", o.Dir, t.Name, st.space().describe(t.Values), r.err))
			continue
		}
		t.Status = Done
		if math.IsNaN(r.v) || math.IsInf(r.v, 0) {
			t.Status = Diverged
		} else {
			t.Objective = &r.v
		}
		if err := st.save(o.Dir); err != nil {
			failed = cmp.Or(failed, err)
		}
		log.Info("trial done", "trial", t.Name, "val_"+o.Metric, formatObjective(t))
		finished++
		bar.Set(finished)
	}
	if failed != nil {
		return nil, failed
	}
	best, err := st.writeResults(o.Dir)
	if err != nil {
		return nil, err
	}
	printRanking(out, st)
	if best == nil {
		return st, errors.New("search: no trial gave a finite objective; see " + filepath.Join(o.Dir, trialsFile))
	}
	return st, nil
}

// next proposes the point of trial i: from the design, then from the
// Gaussian process of the finished trials, the trials still running held
// at the liar's value. A diverged trial counts as the worst finished one,
// so that the process learns to avoid its region.
func (st *State) next(i int, design [][]float64, liar Liar) ([]float64, error) {
	if i < len(design) {
		return st.space().snap(design[i]), nil
	}
	rng := rand.New(rand.NewPCG(st.Seed, uint64(i)+1))
	var x, pending [][]float64
	var y []float64
	worst := math.Inf(1)
	for _, t := range st.Trials {
		switch t.Status {
		case Done:
			x, y = append(x, st.space().point(t.Values)), append(y, *t.Objective)
			worst = math.Min(worst, *t.Objective)
		case Running:
			pending = append(pending, st.space().point(t.Values))
		}
	}
	for _, t := range st.Trials {
		if t.Status == Diverged && len(y) > 0 {
			x, y = append(x, st.space().point(t.Values)), append(y, worst)
		}
	}
	if len(y) == 0 {
		// Nothing to model yet: a uniformly random point.
		u := make([]float64, len(st.Space))
		for j := range u {
			u[j] = rng.Float64()
		}
		return st.space().snap(u), nil
	}
	return propose(st.Space, x, y, pending, liar, rng)
}

func formatObjective(t *Trial) string {
	if t.Objective == nil {
		return t.Status
	}
	return fmt.Sprintf("%.4f", *t.Objective)
}

// printRanking prints the finished trials, best first.
func printRanking(out io.Writer, st *State) {
	fmt.Fprintf(out, "search: trials by val %s:\n", st.Metric)
	for _, t := range st.ranked() {
		fmt.Fprintf(out, "  %-10s %-9s %s\n", t.Name, formatObjective(&t), st.space().describe(t.Values))
	}
}
