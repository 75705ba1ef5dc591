package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/experiment"
	"github.com/bench-ml/bench/internal/train"
)

// The flags of run, eval and configs show. Everything else on their command
// line is a config override, which is why cobra does not parse them.
var (
	valueFlags = []string{"experiment_name", "root_experiment_folder", "dataset_root", "root_config_folder",
		"resume_training", "reproduce_results"}
	boolFlags = []string{"merge_argparse_when_resuming", "evaluate", "evaluate_ensemble", "help"}
)

const runUsage = `Flags:
  --experiment_name NAME           folder name of the experiment (required)
  --root_experiment_folder DIR     where experiment folders go (default experiments)
  --dataset_root DIR               where datasets are read from (default datasets)
  --root_config_folder DIR         where config_<category>/ folders are (default configs)
  --config_<category> A B ...      merge configs/config_<category>/{A,B}.yaml in order;
                                   categories: general, dataset, models, loss_and_miners,
                                   transforms, optimizers, eval (default: default)
  --resume_training latest|best    continue an experiment from its checkpoints
  --merge_argparse_when_resuming   apply this command line's overrides when resuming
  --evaluate                       test each fold's best model; aggregate ("separated")
  --evaluate_ensemble              also evaluate the folds' concatenated embeddings
  --reproduce_results EXP_FOLDER   re-run a saved experiment from its configs
  --<key> YAML                     override a top-level config key, e.g.
                                   --optimizers {trunk_optimizer: {Adam: {lr: 0.001}}}
                                   (special suffixes ~OVERRIDE~ ~APPLY~N ~SWAP~N ~DELETE~)
  --set a.b.c=VALUE                override one nested key
`

func newRunCmd() *cobra.Command {
	return experimentCmd("run --experiment_name NAME [flags] [--<config key> <YAML value>]...",
		"Train and evaluate an experiment",
		`run trains every split scheme (fold) of an experiment, keeps each fold's best
model on the validation set, tests it, and aggregates the folds.`, false)
}

func newEvalCmd() *cobra.Command {
	return experimentCmd("eval --experiment_name NAME [flags]",
		"Evaluate a trained experiment on its test set (run --evaluate)",
		`eval tests each fold's best model of an existing experiment and aggregates the
folds (mean, standard error, 95% CI), as run --evaluate does.`, true)
}

// experimentCmd makes run and eval, which differ only in --evaluate.
func experimentCmd(use, short, long string, evaluate bool) *cobra.Command {
	return &cobra.Command{
		Use:                use,
		Short:              short,
		Long:               long + "\n\n" + runUsage,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, help, err := parseRunArgs(args)
			if err != nil || help {
				return helpOr(cmd, help, err)
			}
			o.Evaluate = o.Evaluate || evaluate
			o.Out = cmd.OutOrStdout()
			return train.Run(o)
		},
	}
}

func newConfigsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "configs",
		Short: "Inspect configs",
		Run:   func(cmd *cobra.Command, _ []string) { cmd.Help() },
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "show [run flags]",
		Short: "Print the fully resolved config (every default filled in) without running",
		Long: `show merges the configs and overrides exactly as run does, validates them, and
prints the resolved YAML, one document per category.

` + runUsage,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, help, err := parseRunArgs(args)
			if err != nil || help {
				return helpOr(cmd, help, err)
			}
			tree, _, err := experiment.Resolve(o)
			if err != nil {
				return err
			}
			for _, cat := range config.Categories {
				text, err := tree.YAML(cat)
				if err != nil {
					return err
				}
				if string(text) == "{}\n" {
					continue // a category no config uses, such as config_factories
				}
				cmd.Printf("# %s\n%s---\n", cat, text)
			}
			return nil
		},
	})
	return cmd
}

func helpOr(cmd *cobra.Command, help bool, err error) error {
	if help {
		return cmd.Help()
	}
	return err
}

func parseRunArgs(args []string) (experiment.Options, bool, error) {
	a, err := config.ParseArgs(args, valueFlags, boolFlags)
	if err != nil {
		return experiment.Options{}, false, err
	}
	get := func(name, def string) string {
		if v, ok := a.Flags[name]; ok {
			return v
		}
		return def
	}
	o := experiment.Options{
		ExperimentName:        get("experiment_name", ""),
		RootExperimentFolder:  get("root_experiment_folder", "experiments"),
		DatasetRoot:           get("dataset_root", "datasets"),
		RootConfigFolder:      get("root_config_folder", "configs"),
		ResumeTraining:        get("resume_training", ""),
		ReproduceResults:      get("reproduce_results", ""),
		MergeArgsWhenResuming: a.Bools["merge_argparse_when_resuming"],
		Evaluate:              a.Bools["evaluate"],
		EvaluateEnsemble:      a.Bools["evaluate_ensemble"],
		ConfigNames:           a.ConfigNames,
		Overrides:             a.Overrides,
		Progress:              isTerminal(os.Stdout), // where run writes its log
	}
	if r := o.ResumeTraining; r != "" && r != "latest" && r != "best" {
		return o, false, &config.Error{Source: "--resume_training", Msg: "want latest or best, got " + strings.TrimSpace(r)}
	}
	return o, a.Bools["help"], nil
}

// isTerminal reports whether f is a terminal, so progress redraws one line
// there and stays line-oriented in CI logs.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
