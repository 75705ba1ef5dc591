package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
)

func newDatasetsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "datasets",
		Short: "List and check datasets",
		Run:   func(cmd *cobra.Command, _ []string) { cmd.Help() },
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the dataset types a config can name",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			for _, name := range data.Datasets.Names() {
				fmt.Fprintln(cmd.OutOrStdout(), name)
			}
		},
	})
	var root string
	prepare := &cobra.Command{
		Use:   "prepare '{Omniglot: {}}'",
		Short: "Open a dataset once: check every image decodes and print its size",
		Long: `prepare opens a dataset as a run would (reading and decoding every image, or
rendering the built-in Glyphs), so that a missing folder or a corrupt image is
found before training. The argument is a dataset component in YAML flow syntax.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var raw any
			if err := yaml.Unmarshal([]byte(args[0]), &raw); err != nil {
				return fmt.Errorf("dataset argument: %w", err)
			}
			c, err := config.ParseComponent(raw, "dataset", "argument")
			if err != nil {
				return err
			}
			open, _, err := data.Datasets.Build(c)
			if err != nil {
				return err
			}
			ds, err := open(root)
			if err != nil {
				return err
			}
			// Photo datasets decode lazily: decode each image once here.
			bar := uiOf(cmd).bars.Bar("checking "+c.Type, ds.Len(), "img", 1, nil)
			defer bar.Done()
			for i := range ds.Len() {
				if _, err := ds.Image(i); err != nil {
					return err
				}
				bar.Set(i + 1)
			}
			bar.Done()
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d images, %d classes, %s\n", c.Type, ds.Len(), len(ds.Classes()), ds.Shape())
			return nil
		},
	}
	prepare.Flags().StringVar(&root, "dataset_root", "datasets", "where datasets are read from")
	prepare.RegisterFlagCompletionFunc("dataset_root", completeDirs)
	cmd.AddCommand(prepare)
	return cmd
}
