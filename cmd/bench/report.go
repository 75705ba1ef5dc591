package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bench-ml/bench/internal/report"
)

// newReportCmd is `bench report`: the table and plots comparing finished
// experiments.
func newReportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report EXP_FOLDER [EXP_FOLDER...] [--out DIR]",
		Short: "Compare experiments: a table of test results and plots of their curves",
		Long: `Compare experiment folders made by bench run. The table has one row per
experiment: its metric loss and miner (from configs/config_loss_and_miners.yaml)
and every test metric in meta_logs, "separated" (mean ± 95% CI half-width over
folds) and "concatenated". It is printed as Markdown and written to DIR as
report.md and report.csv, beside PNG plots of each fold's validation primary
metric per epoch and smoothed training loss per iteration.

An unfinished experiment (no results in meta_logs yet) is reported with its
results marked "missing" and its curves plotted so far, after a warning on
stderr. A folder that is not an experiment is an error.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("report needs at least one experiment folder")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			log := uiOf(cmd).log
			var exps []*report.Experiment
			for _, path := range args {
				e, err := report.Load(path)
				if err != nil {
					return err
				}
				if m := e.Missing(); len(m) > 0 {
					log.Warn("unfinished experiment: its results are shown as missing", "folder", path, "missing", strings.Join(m, ", "))
				}
				exps = append(exps, e)
			}
			if err := report.Write(out, exps); err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), report.Markdown(exps)+"\n"+report.Legend+"\n")
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", filepath.Join(out, "report.md"))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "report", "folder to write report.md, report.csv and the plots into")
	cmd.RegisterFlagCompletionFunc("out", completeDirs)
	return cmd
}
