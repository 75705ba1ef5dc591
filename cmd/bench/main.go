// Command bench is a config-driven benchmark runner for deep metric
// learning. See README.md.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "bench",
		Short: "Fair, reproducible benchmarks of deep metric learning methods",
		Long: `bench trains and evaluates metric-learning methods under one protocol:
class-disjoint train/val/test splits with cross-validation, the same model,
sampler and optimiser for every method, PML's accuracy metrics, and every
run saved with the fully resolved config that produced it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Run:           func(cmd *cobra.Command, _ []string) { cmd.Help() },
	}
	root.AddCommand(newRunCmd(), newEvalCmd(), newConfigsCmd(), newDatasetsCmd(), newMetricsCmd(), newLossCmd(), newReportCmd(), newSearchCmd(), newModelsCmd(), newFeaturesCmd())
	return root
}
