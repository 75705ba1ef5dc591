package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/bench-ml/bench/internal/report"
	"github.com/bench-ml/bench/internal/search"
)

// newReportCmd is `bench report`: the paper's table, figures and search
// tables comparing experiments.
func newReportCmd() *cobra.Command {
	var o report.Options
	cmd := &cobra.Command{
		Use:   "report EXP_FOLDER... [--out DIR] [--format md,csv,tex,html] [--metrics m1,m2,...]",
		Short: "Compare experiments: the paper's table, figures on shared axes, search tables",
		Long: `Compare experiment folders made by bench run, and search folders made by
bench search, as a paper would:

  - a table with one row per method (metric loss + miner, from the configs)
    and, for each dataset, the test metrics (--metrics, default P@1,
    R-Precision, MAP@R) in percent: "separated", mean ± 95% CI half-width
    over the folds, and "concatenated"; the best of each column in bold;
    the trunk, embedding size and folds in the caption when shared, in
    columns otherwise;
  - per dataset, the validation primary metric per epoch and the training
    loss of every experiment on shared axes (mean over folds, band: their
    range), PNG and SVG;
  - per search folder, one row per trial with its searched values, the
    objective and the test result, the best trial marked, and any
    reproduction (an experiment in the search folder repeating a trial's
    config); the best trial also joins the main table.

It writes report.md, report.csv (one row per experiment and metric, full
precision), report.tex (booktabs) and report.html (self-contained: tables and
inline SVG) into DIR, and prints the Markdown.

An unfinished experiment is reported with its results "missing" and its
curves so far, after a warning on stderr. A folder that is neither an
experiment nor a search is an error.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("report needs at least one experiment or search folder")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			log := uiOf(cmd).log
			var r report.Report
			seen := map[string]string{}
			for _, path := range args {
				abs, err := filepath.Abs(path)
				if err != nil {
					return err
				}
				if other, ok := seen[abs]; ok {
					return fmt.Errorf("%s is given twice (also as %s)", path, other)
				}
				seen[abs] = path
				if search.IsSearch(path) {
					s, err := report.LoadSearch(path)
					if err != nil {
						return err
					}
					r.Searches = append(r.Searches, s)
					continue
				}
				e, err := report.Load(path)
				if err != nil {
					return err
				}
				if !e.Finished() {
					log.Warn("unfinished experiment: its results are shown as missing", "folder", path, "missing", "test results in meta_logs")
				}
				r.Experiments = append(r.Experiments, e)
			}
			md, err := report.Write(o, &r)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), md)
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s (and %d figures)\n", o.Dir, len(r.Figures))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "out", "report", "folder to write the report files and figures into")
	cmd.RegisterFlagCompletionFunc("out", completeDirs)
	f.StringSliceVar(&o.Formats, "format", report.Formats, "report files to write: md, csv, tex, html")
	f.StringSliceVar(&o.Metrics, "metrics", report.DefaultMetrics, "the table's metrics, by PML name")
	return cmd
}
