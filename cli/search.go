package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/search"
	"github.com/bench-ml/bench/internal/spec"
	"github.com/bench-ml/bench/internal/train"
)

const searchUsage = `Flags:
  --experiment_name NAME           folder of the search, in the experiment root (required)
  --bayes_opt_iters N              trials in all, counting those of an earlier run (required)
  --num_init_trials K              trials from the initial design (default 5, at most N)
  --reproductions N | A,B          then re-run the best trial N times (or reproductions
                                   A..B-1), seeds seed+1+i, and write reproductions.json:
                                   each test metric's mean and 95% interval over the best
                                   trial and its reproductions
  --root_experiment_folder DIR     where experiment folders go (default experiments)
  --dataset_root DIR               where datasets are read from (default datasets)
  --root_config_folder DIR         config_<category>/NAME.yaml files that add to, or
                                   override by name, the configs built into bench
  --config_<category> A B ...      merge configs/config_<category>/{A,B}.yaml in order
  --<key> YAML                     override a top-level config key, as for run
  --set a.b.c=VALUE                override one nested key
  --quiet, --verbose               log only warnings, or debugging detail too
  --launcher local|slurm, --parallel Q, --jobs N, --slurm OPTS: run the trials as
                                   jobs, Q at once (see the launcher flags below)

Mark each hyperparameter to tune with a range in a config file or override:
  lr~LOG_BAYESIAN~: [1e-6, 1e-2]   a float, searched on a log scale
  margin~BAYESIAN~: [0, 1]         a float
  m~INT_BAYESIAN~: [2, 8]          an integer
`

func newSearchCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "search --experiment_name NAME --bayes_opt_iters N [flags] [--<config key> <YAML value>]...",
		Short: "Tune the config's search ranges by Bayesian optimisation",
		Long: `search tunes the hyperparameters that the config marks with search ranges. Each
trial is a full experiment, <root_experiment_folder>/NAME/trial_<i>, run as run
would with the ranges replaced by the trial's values. The first trials come
from a Latin hypercube design, the next from a Gaussian process of the
validation metric (the mean over folds of each fold's best primary metric;
never the test set). NAME/search.json holds the state: run the same command
again to continue a stopped search, or with a larger --bayes_opt_iters to
extend a finished one. At the end NAME/best.json names the best trial and
NAME/trials.csv lists all of them, best first.

` + searchUsage + launchUsage,
		DisableFlagParsing: true,
		ValidArgsFunction:  completeRunArgs,
		RunE:               runSearch,
	}
}

// runSearch is bench search, and bench run given --bayes_opt_iters, as
// powerful_benchmarker's run.py.
func runSearch(cmd *cobra.Command, args []string) error {
	l, args, err := parseLaunchArgs(args)
	if err != nil {
		return err
	}
	o, help, err := parseRunArgs(cmd, args)
	if err != nil || help {
		return helpOr(cmd, help, err)
	}
	f, err := searchFlags(&o)
	if err != nil {
		return err
	}
	space, spec, err := loadSearch(o)
	if err != nil {
		return err
	}
	obj, parallel, err := trialObjective(cmd.Context(), o, space, l)
	if err != nil {
		return err
	}
	st, err := search.Run(search.Options{
		Dir: o.Folder(), Space: space, Iters: f.iters, NumInit: f.numInit,
		Seed: spec.Seed, Metric: spec.PrimaryKey(), Parallel: parallel, Liar: l.Liar,
		Out: o.Out, Log: o.Log, Progress: o.Progress,
	}, obj)
	if err == nil && len(f.reproductions) > 0 {
		err = reproduce(cmd.Context(), o, space, st, spec.Seed, f.reproductions, o.Out)
	}
	if errors.Is(err, context.Canceled) {
		err = fmt.Errorf("%w; run the same command again to continue the search", err)
	}
	return err
}

// searchFlagValues are the flags only search has.
type searchFlagValues struct {
	iters, numInit int
	reproductions  []int
}

// searchFlags checks a search's command line, parsed as run's, and takes
// out the flags that only search has, which run's parser read as config
// overrides.
func searchFlags(o *spec.Options) (f searchFlagValues, err error) {
	switch {
	case o.ExperimentName == "":
		return f, fmt.Errorf("--experiment_name is required")
	case config.CheckName("--experiment_name", o.ExperimentName) != nil:
		return f, config.CheckName("--experiment_name", o.ExperimentName)
	case o.ResumeTraining != "":
		return f, fmt.Errorf("search does not take --resume_training: run the same search command again to continue it")
	case o.ReproduceResults != "" || o.MergeArgsWhenResuming || o.Evaluate || o.EvaluateEnsemble:
		return f, fmt.Errorf("search takes none of --reproduce_results, --merge_argparse_when_resuming, --evaluate, --evaluate_ensemble: each trial trains and tests as run does")
	}
	flags := map[string]*int{"bayes_opt_iters": &f.iters, "num_init_trials": &f.numInit}
	seen := map[string]bool{}
	var rest []config.Override
	for _, ov := range o.Overrides {
		dst, ok := flags[ov.Key]
		switch {
		case ov.Key == "reproductions" && !seen[ov.Key]:
			if f.reproductions, err = parseReproductions(ov); err != nil {
				return f, err
			}
			seen[ov.Key] = true
			continue
		case !ok && ov.Key != "reproductions":
			rest = append(rest, ov)
			continue
		case seen[ov.Key]:
			return f, &config.Error{Source: ov.Source, Msg: "given twice"}
		}
		n, err := strconv.Atoi(strings.TrimSpace(ov.Value))
		if err != nil || n < 1 {
			return f, &config.Error{Source: ov.Source, Msg: fmt.Sprintf("want a whole number of at least 1, got %q", ov.Value)}
		}
		*dst, seen[ov.Key] = n, true
	}
	if !seen["bayes_opt_iters"] {
		return f, fmt.Errorf("--bayes_opt_iters N is required: the number of trials")
	}
	o.Overrides = rest
	return f, nil
}

// loadSearch reads the config of a search as run reads a config and
// returns its search ranges, with the Spec of the config whose ranges are
// all at their low end: it gives the seed and the primary metric, and
// checks everything but the ranges before a trial starts.
func loadSearch(o spec.Options) (search.Space, *spec.Spec, error) {
	t, err := config.Load(o.RootConfigFolder, o.ConfigNames, o.Overrides)
	if err != nil {
		return nil, nil, err
	}
	space := search.Space(t.SearchSpace())
	if err := space.Check(); err != nil {
		return nil, nil, err
	}
	lows := map[string]float64{}
	for _, d := range space {
		lows[d.Path] = d.Low
	}
	t, err = config.Load(o.RootConfigFolder, o.ConfigNames, append(slices.Clip(o.Overrides), space.Overrides(lows, "the low end of a search range")...))
	if err != nil {
		return nil, nil, err
	}
	spec, err := spec.Decode(t)
	if err != nil {
		return nil, nil, err
	}
	return space, spec, nil
}

// trainer runs a trial as an experiment in the search folder with
// train.Run, which also tests it, for its record only: the objective is
// the validation metric.
type trainer struct {
	ctx   context.Context
	o     spec.Options // the search's command line
	space search.Space
}

func (tr trainer) Evaluate(name string, values map[string]float64) (float64, error) {
	o := trialOptions(tr.o, tr.space, name, values)
	if err := train.Run(tr.ctx, o); err != nil {
		return 0, err
	}
	return search.ValidationObjective(o.Folder())
}

// trialOptions are the options of a trial's experiment: in the search
// folder, with the trial's values. A trial whose folder exists was cut
// short by a stopped search: it continues from its checkpoints.
func trialOptions(o spec.Options, space search.Space, name string, values map[string]float64) spec.Options {
	o.RootExperimentFolder = o.Folder()
	o.ExperimentName = name
	o.Overrides = append(slices.Clip(o.Overrides), space.Overrides(values, "search "+name)...)
	if _, err := os.Stat(filepath.Join(o.Folder(), "configs")); err == nil {
		o.ResumeTraining = "latest"
	}
	return o
}
