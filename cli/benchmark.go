package cli

import (
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bench-ml/bench/internal/perf"
)

// benchmarkFlags are the flags of `bench benchmark`.
type benchmarkFlags struct {
	models, input                 string
	batch, threads, iters, warmup int
}

func newBenchmarkCmd() *cobra.Command {
	var f benchmarkFlags
	cmd := &cobra.Command{
		Use:   "benchmark train|embed [--models '<YAML>'] [--input 3x32x32] [--batch N] [--threads N] [--iters N] [--warmup N]",
		Short: "Time training steps or embeddings of a model on data in memory",
		Long: `benchmark builds a model (by default the reference model of
configs/config_models/reference_cnn.yaml), runs --warmup untimed steps, then
--iters timed ones on random images already in memory, and prints images/s,
ms/step, the achieved GFLOP/s of its convolutions and linear layers, that as a
fraction of the machine's float32 GEMM peak measured on --threads cores, and
the process's peak memory. A training step is forward, PML's default
ContrastiveLoss on 4 images per class, backward and an Adam update (lr 1e-3);
an embed step is one batch through the eval graph.
benchmarks/torch_reference.py times the same protocol in PyTorch
(make bench-vs-torch runs both).`,
		Example: `  bench benchmark train --threads 1
  bench benchmark embed --batch 128 --models '{trunk: {ConvNet: {channels: [64, 128]}}, embedder: {MLP: {layer_sizes: [128]}}}'`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || (args[0] != "train" && args[0] != "embed") {
				return fmt.Errorf("benchmark: want one argument, train or embed; got %q", strings.Join(args, " "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBenchmark(cmd.OutOrStdout(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.models, "models", perf.ReferenceModels, "the models map (trunk, embedder) in YAML flow syntax")
	fl.StringVar(&f.input, "input", "3x32x32", "shape of one example: channels x height x width")
	fl.IntVar(&f.batch, "batch", 32, "images per step")
	fl.IntVar(&f.threads, "threads", runtime.NumCPU(), "cores to use (GOMAXPROCS)")
	fl.IntVar(&f.iters, "iters", 50, "timed steps")
	fl.IntVar(&f.warmup, "warmup", 5, "untimed steps before them")
	return cmd
}

func runBenchmark(out io.Writer, mode string, f benchmarkFlags) error {
	trunk, embedder, err := perf.ParseModels(f.models, "--models")
	if err != nil {
		return err
	}
	input, err := perf.ParseShape(f.input)
	if err != nil {
		return fmt.Errorf("--input: %w", err)
	}
	for _, c := range []struct {
		flag string
		v    int
		min  int
	}{{"--batch", f.batch, 2}, {"--threads", f.threads, 1}, {"--iters", f.iters, 1}, {"--warmup", f.warmup, 0}} {
		if c.v < c.min {
			return fmt.Errorf("%s: %d; want at least %d", c.flag, c.v, c.min)
		}
	}
	r, err := perf.Run(perf.Options{Train: mode == "train", Trunk: trunk, Embedder: embedder, Input: input,
		Batch: f.batch, Threads: f.threads, Iters: f.iters, Warmup: f.warmup})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "bench %s: input %s, batch %d, threads %d, %d steps after %d warm-up\n", mode, f.input, f.batch, f.threads, f.iters, f.warmup)
	return r.Write(out)
}
