package cli

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/spec"
	"github.com/bench-ml/bench/internal/train"
)

// The flags of run, eval and configs show. Everything else on their command
// line is a config override, which is why cobra does not parse them.
var (
	valueFlags = []string{"experiment_name", "root_experiment_folder", "dataset_root", "root_config_folder",
		"resume_training", "reproduce_results", "global_db_path", "fold", "pytorch_home",
		"max_yaml_nodes", "max_image_pixels", "max_memory_gib"}
	boolFlags = []string{"merge_argparse_when_resuming", "evaluate", "evaluate_ensemble", "help", "quiet", "verbose"}
)

const runUsage = `Flags:
  --experiment_name NAME           folder name of the experiment (required)
  --root_experiment_folder DIR     where experiment folders go (default experiments)
  --dataset_root DIR               where datasets are read from (default datasets)
  --root_config_folder DIR         config_<category>/NAME.yaml files that add to, or
                                   override by name, the configs built into bench
  --config_<category> A B ...      merge the configs A, B of the category in order;
                                   categories: general, dataset, models, loss_and_miners,
                                   transforms, optimizers, eval (default: default)
  --resume_training latest|best    continue an experiment from its checkpoints
  --merge_argparse_when_resuming   apply this command line's overrides when resuming
  --evaluate                       test each fold's best model; aggregate ("separated")
  --evaluate_ensemble              also evaluate the folds' concatenated embeddings
  --reproduce_results EXP_FOLDER   re-run a saved experiment from its configs
  --fold N                         train and test split scheme N (index or name) only;
                                   concurrent jobs of one experiment share its folder
  --launcher local|slurm           run the folds as separate jobs (flags below)
  --global_db_path FILE            also write the experiment's records and results
                                   into this SQLite database shared by experiments
  --pytorch_home DIR               torch.hub home for "pretrained: imagenet": checkpoints
                                   under DIR/hub/checkpoints (default $TORCH_HOME, else ~/.cache/torch)
  --<key> YAML                     override a top-level config key, e.g.
                                   --optimizers {trunk_optimizer: {Adam: {lr: 0.001}}}
                                   (special suffixes ~OVERRIDE~ ~APPLY~N ~SWAP~N ~DELETE~)
  --set a.b.c=VALUE                override one nested key
  --quiet, --verbose               log only warnings, or debugging detail too
  --max_yaml_nodes N, --max_image_pixels N, --max_memory_gib G
                                   raise the input limits (100000 values, 8192x8192,
                                   the machine's memory)
Flags may also be written --kebab-case (--experiment-name).
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
		Long:               long + "\n\n" + runUsage + launchUsage,
		DisableFlagParsing: true,
		ValidArgsFunction:  completeRunArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, args, err := parseLaunchArgs(args)
			if err != nil {
				return err
			}
			o, help, err := parseRunArgs(cmd, args)
			if err != nil || help {
				return helpOr(cmd, help, err)
			}
			o.Evaluate = o.Evaluate || evaluate
			if l.Launcher != "" {
				return launchRun(cmd.Context(), o, l)
			}
			return howToResume(train.Run(cmd.Context(), o), o)
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
		ValidArgsFunction:  completeRunArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, help, err := parseRunArgs(cmd, args)
			if err != nil || help {
				return helpOr(cmd, help, err)
			}
			tree, _, err := spec.Resolve(o)
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
				fmt.Fprintf(cmd.OutOrStdout(), "# %s\n%s---\n", cat, text)
			}
			return nil
		},
	})
	cmd.AddCommand(newConfigsListCmd())
	return cmd
}

// newConfigsListCmd is `bench configs list`: the names a --config_<category>
// flag takes, with their first comment line.
func newConfigsListCmd() *cobra.Command {
	var folder string
	cmd := &cobra.Command{
		Use:   "list [--root_config_folder DIR]",
		Short: "List the config names of every category, with their summaries",
		Long: `list prints, per category, every config name a --config_<category> flag
takes: those built into bench and those of --root_config_folder (a name in the
folder overrides the built-in one), each with the first comment line of its
file and, when it comes from the folder, its path.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			for _, cat := range config.Categories {
				infos, err := config.List(folder, cat)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%s:\n", cat)
				for _, c := range infos {
					from := ""
					if !strings.HasPrefix(c.File, config.BuiltinPrefix) {
						from = " (" + c.File + ")"
					}
					fmt.Fprintf(w, "  %s\t%s%s\n", c.Name, c.Summary, from)
				}
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&folder, "root_config_folder", "", "a folder of config_<category>/NAME.yaml files that add to or override the built-in configs")
	cmd.RegisterFlagCompletionFunc("root_config_folder", completeDirs)
	return cmd
}

func helpOr(cmd *cobra.Command, help bool, err error) error {
	if help {
		return cmd.Help()
	}
	return err
}

// parseRunArgs parses the command line of run, eval, configs show and
// search, which cobra leaves alone, as it holds config overrides. Flags are
// read in snake_case, whatever their spelling.
func parseRunArgs(cmd *cobra.Command, args []string) (spec.Options, bool, error) {
	args = snakeCaseArgs(args)
	// The limits bound the parsing of the overrides too, so they come first.
	if err := setLimits(func(name string) (string, bool) {
		for i, arg := range args {
			if v, ok := strings.CutPrefix(arg, "--"+name+"="); ok {
				return v, true
			}
			if arg == "--"+name && i+1 < len(args) {
				return args[i+1], true
			}
		}
		return "", false
	}); err != nil {
		return spec.Options{}, false, err
	}
	a, err := config.ParseArgs(args, valueFlags, boolFlags)
	if err != nil {
		return spec.Options{}, false, err
	}
	for _, ov := range a.Overrides {
		// Every other flag is a config key: one close to a flag is a typo.
		if c, ok := config.Closest(ov.Key, append(slices.Clip(valueFlags), boolFlags...)); ok {
			return spec.Options{}, false, fmt.Errorf("unknown flag %s (did you mean --%s?)", ov.Source, c)
		}
	}
	get := func(name, def string) string {
		if v, ok := a.Flags[name]; ok {
			return v
		}
		return def
	}
	// torch.hub's variable, so that bench finds checkpoints where PyTorch does.
	if home := get("pytorch_home", ""); home != "" {
		if err := os.Setenv("TORCH_HOME", home); err != nil {
			return spec.Options{}, false, err
		}
	}
	u := newUI(cmd, a.Bools["quiet"], a.Bools["verbose"])
	o := spec.Options{
		ExperimentName:        get("experiment_name", ""),
		RootExperimentFolder:  get("root_experiment_folder", "experiments"),
		DatasetRoot:           get("dataset_root", "datasets"),
		RootConfigFolder:      get("root_config_folder", ""),
		ResumeTraining:        get("resume_training", ""),
		ReproduceResults:      get("reproduce_results", ""),
		Fold:                  get("fold", ""),
		GlobalDBPath:          get("global_db_path", ""),
		MergeArgsWhenResuming: a.Bools["merge_argparse_when_resuming"],
		Evaluate:              a.Bools["evaluate"],
		EvaluateEnsemble:      a.Bools["evaluate_ensemble"],
		ConfigNames:           a.ConfigNames,
		Overrides:             a.Overrides,
		CommandLine:           os.Args,
		Out:                   cmd.OutOrStdout(),
		Log:                   u.log,
		Progress:              u.bars,
	}
	if r := o.ResumeTraining; r != "" && r != "latest" && r != "best" {
		return o, false, &config.Error{Source: "--resume_training", Msg: "want latest or best, got " + strings.TrimSpace(r)}
	}
	return o, a.Bools["help"], nil
}

// snakeCaseArgs spells the flag names of a command line in snake_case,
// leaving their values alone.
func snakeCaseArgs(args []string) []string {
	out := make([]string, len(args))
	for i, w := range args {
		out[i] = w
		if name, ok := strings.CutPrefix(w, "--"); ok {
			name, value, hasValue := strings.Cut(name, "=")
			out[i] = "--" + strings.ReplaceAll(name, "-", "_")
			if hasValue {
				out[i] += "=" + value
			}
		}
	}
	return out
}
