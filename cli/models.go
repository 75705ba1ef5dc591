package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/nn"
)

// pytorchHomeFlag adds --pytorch_home, torch.hub's home folder for
// `pretrained: imagenet` (default $TORCH_HOME, else ~/.cache/torch). It
// sets TORCH_HOME for the process, so bench finds checkpoints exactly where
// PyTorch would.
func pytorchHomeFlag(cmd *cobra.Command) {
	var home string
	cmd.PersistentFlags().StringVar(&home, "pytorch_home", "", "torch.hub home folder: checkpoints are under <it>/hub/checkpoints (default $TORCH_HOME, else ~/.cache/torch)")
	prev := cmd.PersistentPreRunE
	cmd.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if home != "" {
			if err := os.Setenv("TORCH_HOME", home); err != nil {
				return err
			}
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
}

func newModelsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List the ImageNet trunks and download their published weights",
		Run:   func(cmd *cobra.Command, _ []string) { cmd.Help() },
	}
	pytorchHomeFlag(cmd)
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the zoo's trunks, their checkpoint files and whether each is downloaded",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			for _, name := range nn.ZooNames() {
				c, _, _ := nn.ZooInfo(name)
				state := "missing"
				if _, err := os.Stat(nn.CheckpointPath(c)); err == nil {
					state = "present"
				}
				cmd.Printf("%-12s %-8s %s  %s\n", name, state, nn.CheckpointPath(c), c.URL)
			}
		},
	})
	var mirror string
	dl := &cobra.Command{
		Use:   "download NAME",
		Short: "Download a trunk's published ImageNet checkpoint into <pytorch_home>/hub/checkpoints",
		Long: `download fetches the checkpoint that "pretrained: imagenet" loads, checks it
against its published SHA-256 digest and puts it where torch.hub keeps it, so
PyTorch and bench share one copy. A file already there is left alone.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, ok := nn.ZooInfo(args[0])
			if !ok {
				return fmt.Errorf("unknown model %q; allowed: %s", args[0], strings.Join(nn.ZooNames(), ", "))
			}
			dst := nn.CheckpointPath(c)
			if _, err := os.Stat(dst); err == nil {
				cmd.Printf("%s is already there\n", dst)
				return nil
			}
			url := c.URL
			if mirror != "" {
				url = strings.TrimSuffix(mirror, "/") + "/" + c.File
			}
			uiOf(cmd)
			if err := fetchChecked(url, dst, c.SHA256); err != nil {
				return err
			}
			cmd.Printf("%s\n", dst)
			return nil
		},
	}
	dl.Flags().StringVar(&mirror, "mirror", "", "download <mirror>/<file> instead of the published URL (the digest is still checked)")
	cmd.AddCommand(dl)
	return cmd
}

// fetchChecked downloads url to dst through dst.part (resumed when a
// previous download stopped), checks the SHA-256 digest (the published
// prefix torch.hub's file names carry) and renames it into place; a file
// that does not match is removed.
func fetchChecked(url, dst, digest string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	part := dst + ".part"
	if err := data.Fetch("models download", url, part); err != nil {
		return err
	}
	f, err := os.Open(part)
	if err != nil {
		return err
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return err
	}
	if sum := hex.EncodeToString(h.Sum(nil)); !strings.HasPrefix(sum, digest) {
		os.Remove(part)
		return fmt.Errorf("%s: SHA-256 %s does not match the published %s: the download was removed, run again to fetch it anew", url, sum, digest)
	}
	return os.Rename(part, dst)
}
