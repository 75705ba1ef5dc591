package spec

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/progress"
)

// Options is a run's command line (SPEC section 1) beyond the config.
type Options struct {
	ExperimentName        string
	RootExperimentFolder  string
	DatasetRoot           string
	RootConfigFolder      string
	ResumeTraining        string // "", "latest" or "best"
	MergeArgsWhenResuming bool
	Evaluate              bool
	EvaluateEnsemble      bool
	ReproduceResults      string // a saved experiment folder to re-run
	// DiffsToReplay, with ReproduceResults, loads only the first this many
	// config changes recorded when that experiment was resumed (nil: all),
	// and EpochLimits stops each split scheme at that epoch and skips the
	// test: one stage of a reproduction (train.Run).
	DiffsToReplay *int
	EpochLimits   []int
	Fold          string // --fold: train and test only this split scheme (index or name); "": every one
	GlobalDBPath  string // a database gathering experiments, "" for none
	ConfigNames   map[string][]string
	Overrides     []config.Override
	CommandLine   []string           // as typed, for the experiment's provenance
	Out           io.Writer          // results (stdout in bench)
	Log           *slog.Logger       // what happens (stderr in bench); nil logs nothing
	Progress      *progress.Reporter // progress bars; nil shows none
}

// Folder is the experiment folder the options name.
func (o Options) Folder() string {
	return filepath.Join(o.RootExperimentFolder, o.ExperimentName)
}

// Existing reports whether the options work on an experiment that already
// exists (resume or evaluate) rather than create one.
func (o Options) Existing() bool {
	return o.ResumeTraining != "" || o.Evaluate || o.EvaluateEnsemble
}

// ignoredFlags lists the flags of the command line a resume, evaluation or
// reproduction does not apply, as powerful_benchmarker ignores them: the
// --config_<category> names (the saved configs are loaded) and the
// overrides not in applied.
func (o Options) ignoredFlags(applied []config.Override) []string {
	if !o.Existing() && o.ReproduceResults == "" {
		return nil
	}
	var out []string
	for _, c := range slices.Sorted(maps.Keys(o.ConfigNames)) {
		out = append(out, "--"+c)
	}
	if len(applied) == 0 {
		for _, ov := range o.Overrides {
			out = append(out, ov.Source)
		}
	}
	return out
}

// Resolve loads the config the options describe and validates it: the
// config files and overrides for a new experiment, the saved configs of the
// experiment to reproduce, or of the existing experiment. Command-line
// overrides follow powerful_benchmarker's rules: they apply to a new
// experiment and to --evaluate, but when resuming or reproducing only with
// --merge_argparse_when_resuming.
func Resolve(o Options) (*config.Tree, *Spec, error) {
	var t *config.Tree
	var err error
	overrides := o.Overrides
	if (o.ResumeTraining != "" || o.ReproduceResults != "") && !o.MergeArgsWhenResuming {
		overrides = nil
	}
	if ignored := o.ignoredFlags(overrides); len(ignored) > 0 && o.Log != nil && (o.DiffsToReplay == nil || *o.DiffsToReplay == 0) {
		o.Log.Warn("flags ignored: the experiment's saved configs are used (overrides apply on resume only with --merge_argparse_when_resuming)",
			"flags", strings.Join(ignored, " "))
	}
	switch {
	case o.ReproduceResults != "" && o.DiffsToReplay != nil:
		t, err = config.LoadSavedUpTo(filepath.Join(o.ReproduceResults, "configs"), *o.DiffsToReplay, overrides)
	case o.ReproduceResults != "":
		t, err = config.LoadSaved(filepath.Join(o.ReproduceResults, "configs"), overrides)
	case o.Existing():
		if _, err := os.Stat(filepath.Join(o.Folder(), "configs")); err != nil {
			return nil, nil, fmt.Errorf("no experiment at %s (it has no configs/ folder): check --experiment_name and --root_experiment_folder", o.Folder())
		}
		t, err = config.LoadSaved(filepath.Join(o.Folder(), "configs"), overrides)
	default:
		t, err = config.Load(o.RootConfigFolder, o.ConfigNames, o.Overrides)
	}
	if err != nil {
		return nil, nil, err
	}
	s, err := Decode(t)
	if err != nil {
		return nil, nil, err
	}
	if trains := !o.Evaluate && !o.EvaluateEnsemble || o.ResumeTraining != ""; trains && !slices.Contains(s.SplitsToEval, "val") {
		return nil, nil, &config.Error{Source: t.Source("splits_to_eval"), Path: "splits_to_eval",
			Msg: "must include val to train: the best epoch is chosen on it (--evaluate and --evaluate_ensemble take any splits)"}
	}
	return t, s, nil
}
