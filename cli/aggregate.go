package cli

import (
	"github.com/spf13/cobra"

	"github.com/bench-ml/bench/internal/train"
)

func newAggregateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "aggregate --experiment_name NAME [--root_experiment_folder DIR] [--dataset_root DIR]",
		Short: "Test every fold's best model and aggregate the folds, once all are trained",
		Long: `aggregate finishes an experiment whose folds were trained by separate jobs
(run --fold N, or a launcher): it tests each fold's best model and writes the
meta results (separated, concatenated, untrained) as a serial run would, with
the same numbers. It refuses while a fold has not finished training.`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, help, err := parseRunArgs(cmd, args)
			if err != nil || help {
				return helpOr(cmd, help, err)
			}
			return train.Aggregate(o)
		},
	}
}
