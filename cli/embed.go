package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bench-ml/bench/internal/spec"
	"github.com/bench-ml/bench/internal/train"
)

// newEmbedCmd is `bench embed`: the embeddings of a trained experiment's
// best models, for bench metrics or any other tool.
func newEmbedCmd() *cobra.Command {
	o := spec.Options{}
	var r train.EmbedRequest
	cmd := &cobra.Command{
		Use:   "embed --experiment_name NAME [--split test|val|train] [--fold N|all] [--use_trunk_output] --out DIR",
		Short: "Write the embeddings of an experiment's best models as .npy",
		Long: `embed rebuilds each fold's best model from the experiment's saved config and
checkpoint, embeds a split exactly as the test does (eval transforms, the
tester's batch size, float32), and writes into DIR:

  <split_scheme>_<split>_embeddings.npy   N x D float32
  <split_scheme>_<split>_labels.npy       N int64 dataset labels
  concatenated_test_{embeddings,labels}.npy
                                          the ensemble the run evaluates ("concatenated":
                                          each fold's rows L2-normalised, side by side),
                                          for --split test with more than one fold

bench metrics on the test files, with the experiment's AccuracyCalculator
settings (the defaults are bench's), reproduces meta_logs/test.json and
concatenated.json exactly. val and train are each fold's own classes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.ExperimentName == "" {
				return fmt.Errorf("--experiment_name is required")
			}
			files, err := train.Embed(o, r)
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ExperimentName, "experiment_name", "", "the experiment's folder name (required)")
	f.StringVar(&o.RootExperimentFolder, "root_experiment_folder", "experiments", "where experiment folders are")
	f.StringVar(&o.DatasetRoot, "dataset_root", "datasets", "where datasets are read from")
	f.StringVar(&r.Split, "split", "test", "the split to embed: test, val or train")
	f.StringVar(&r.Fold, "fold", "all", "all, a fold's position (0, 1, ...) or its split scheme name")
	f.BoolVar(&r.UseTrunkOutput, "use_trunk_output", false, "write the trunk's output instead of the embedder's")
	f.StringVar(&r.Out, "out", "", "folder to write the .npy files into (required)")
	for _, dir := range []string{"root_experiment_folder", "dataset_root", "out"} {
		cmd.RegisterFlagCompletionFunc(dir, completeDirs)
	}
	return cmd
}
