package cli

import (
	"fmt"
	"maps"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/bench-ml/bench/internal/arrayio"
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/nn"
)

func newFeaturesCmd() *cobra.Command {
	var trunkYAML, input, out, layers string
	var batch int
	cmd := &cobra.Command{
		Use:   "features --trunk '<component YAML>' --input X.npy --out F.npy [--layers A,B] [--batch N]",
		Short: "Trunk outputs of already normalised images, to check a model against PyTorch",
		Long: `features runs a trunk in evaluation mode (BatchNorm with its running
statistics) on an N x C x H x W float array and writes its outputs, N x D
float32. The input is used as it is: normalise it as the model expects
(ImageNet mean and std for torchvision's models, BGR in 0-255 minus the Caffe
mean for bninception). --layers sets the trunk's layers_to_extract.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var raw any
			if err := yaml.Unmarshal([]byte(trunkYAML), &raw); err != nil {
				return fmt.Errorf("--trunk: %w", err)
			}
			c, err := config.ParseComponent(raw, "trunk", "--trunk")
			if err != nil {
				return err
			}
			if layers != "" {
				c.Params = maps.Clone(c.Params)
				if c.Params == nil {
					c.Params = map[string]any{}
				}
				var list []any
				for _, l := range strings.Split(layers, ",") {
					list = append(list, strings.TrimSpace(l))
				}
				c.Params["layers_to_extract"] = list
			}
			trunk, _, err := nn.Trunks.Build(c)
			if err != nil {
				return err
			}
			x, shape, err := arrayio.ReadArray(input)
			if err != nil {
				return err
			}
			if len(shape) < 2 || shape[0] < 1 {
				return fmt.Errorf("%s: array of shape %v; want N x C x H x W images", input, shape)
			}
			n := shape[0]
			// The model also builds a training graph; batch 2 keeps it small.
			m, err := nn.New(nn.Config{Trunk: trunk, InputShape: shape[1:], BatchSize: 2, EvalBatchSize: min(batch, n)})
			if err != nil {
				return err
			}
			x32 := make([]float32, len(x))
			for i, v := range x {
				x32[i] = float32(v)
			}
			f, err := m.EmbedTrunk(x32, n)
			if err != nil {
				return err
			}
			if err := arrayio.WriteArray32(out, f, n, m.TrunkSize()); err != nil {
				return err
			}
			cmd.Printf("%s: %d x %d\n", out, n, m.TrunkSize())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&trunkYAML, "trunk", "", "the trunk, a component in YAML flow syntax, e.g. '{resnet50: {pretrained: imagenet}}'")
	f.StringVar(&input, "input", "", "N x C x H x W images (.npy)")
	f.StringVar(&out, "out", "", "where to write the N x D outputs (.npy)")
	f.StringVar(&layers, "layers", "", "comma-separated layers_to_extract")
	f.IntVar(&batch, "batch", 32, "images per forward pass")
	for _, name := range []string{"trunk", "input", "out"} {
		cmd.MarkFlagRequired(name)
	}
	pytorchHomeFlag(cmd)
	return cmd
}
