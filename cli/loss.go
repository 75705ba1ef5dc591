package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/bench-ml/bench/internal/arrayio"
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/limits"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/miner"
)

// lossFlags are the flags of `bench loss`.
type lossFlags struct {
	embeddings, labels               string
	loss, miner, distance, reducer   string
	weights, gradOut, weightsGradOut string
	seed                             uint64
}

func newLossCmd() *cobra.Command {
	var f lossFlags
	cmd := &cobra.Command{
		Use:   "loss --embeddings E.npy --labels L.npy --loss '{TripletMarginLoss: {margin: 0.1}}'",
		Short: "Compute a configured loss, its gradient and the mined tuples on embeddings from files",
		Long: `loss computes one loss, with an optional miner, on embeddings and labels
read from .npy or .csv files, and prints {"value": ..., "miner_indices": ...}
as JSON. Components are written in YAML flow syntax, as in the configs.
--distance and --reducer replace the loss's own, as if nested in --loss; a
miner's distance is nested in --miner. --weights holds the loss's learnable
tensor in PML's layout (ProxyAnchorLoss/ProxyNCALoss proxies C x D;
ArcFaceLoss/CosFaceLoss/LargeMarginSoftmaxLoss/SphereFaceLoss/
NormalizedSoftmaxLoss W D x C; SubCenterArcFaceLoss W D x (C*sub_centers);
SoftTripleLoss fc D x (C*centers_per_class)); without it the weights are
initialised as PML does, from --seed.`,
		Example: `  bench loss --embeddings e.npy --labels l.csv --loss '{TripletMarginLoss: {margin: 0.1}}' \
      --miner '{BatchHardMiner: {}}' --grad-out g.npy`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLoss(cmd.OutOrStdout(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.embeddings, "embeddings", "", "N x D embeddings (.npy or .csv)")
	fl.StringVar(&f.labels, "labels", "", "N integer labels (.npy or .csv)")
	fl.StringVar(&f.loss, "loss", "", "the loss, e.g. '{ContrastiveLoss: {pos_margin: 0}}'")
	fl.StringVar(&f.miner, "miner", "", "a miner, e.g. '{MultiSimilarityMiner: {epsilon: 0.1}}'")
	fl.StringVar(&f.distance, "distance", "", "the loss's distance, e.g. '{CosineSimilarity: {}}'")
	fl.StringVar(&f.reducer, "reducer", "", "the loss's reducer, e.g. '{MeanReducer: {}}'")
	fl.StringVar(&f.weights, "weights", "", "the loss's learnable tensor, in PML's layout (.npy or .csv)")
	fl.StringVar(&f.gradOut, "grad-out", "", "write dLoss/dEmbeddings here (.npy or .csv)")
	fl.StringVar(&f.weightsGradOut, "weights-grad-out", "", "write dLoss/dWeights here (.npy or .csv)")
	fl.Uint64Var(&f.seed, "seed", 0, "seed of the weight initialisation and of sampling miners")
	for _, name := range []string{"embeddings", "labels", "loss"} {
		cmd.MarkFlagRequired(name)
	}
	return cmd
}

// lossResult is what `bench loss` prints.
type lossResult struct {
	Value        float64          `json:"value"`
	MinerIndices map[string][]int `json:"miner_indices"`
}

func runLoss(out io.Writer, f lossFlags) error {
	emb, n, d, err := arrayio.ReadMatrix(f.embeddings)
	if err != nil {
		return fmt.Errorf("--embeddings: %w", err)
	}
	labels, err := arrayio.ReadLabels(f.labels)
	if err != nil {
		return fmt.Errorf("--labels: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("--embeddings %s: no embeddings", f.embeddings)
	}
	if len(labels) != n {
		return fmt.Errorf("--labels %s: %d labels for %d embeddings in %s", f.labels, len(labels), n, f.embeddings)
	}
	l, err := buildLoss(f)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(f.seed, 0))
	if err := setWeights(l, f.weights, labels, d, rng); err != nil {
		return err
	}

	res := lossResult{}
	var tuples *loss.Tuples
	if f.miner != "" {
		m, err := buildFlag(miner.Miners, "--miner", f.miner)
		if err != nil {
			return err
		}
		if r, ok := m.(miner.Random); ok {
			r.SetRand(rng)
		}
		if tuples, err = m.Mine(emb, n, d, labels); err != nil {
			return fmt.Errorf("--miner: %w", err)
		}
		res.MinerIndices = miner.Indices(tuples)
	}
	value, grad, err := l.Compute(emb, n, d, labels, tuples)
	if err != nil {
		return fmt.Errorf("--loss: %w", err)
	}
	if math.IsNaN(value) || math.IsInf(value, 0) {
		return fmt.Errorf("--loss: the loss is %v", value)
	}
	res.Value = value

	if f.gradOut != "" {
		if err := arrayio.WriteMatrix(f.gradOut, grad, n, d); err != nil {
			return fmt.Errorf("--grad-out: %w", err)
		}
	}
	if f.weightsGradOut != "" {
		w, err := onlyWeight(l, "--weights-grad-out")
		if err != nil {
			return err
		}
		rows, cols := matrixShape(w.Shape)
		if err := arrayio.WriteMatrix(f.weightsGradOut, w.Grad, rows, cols); err != nil {
			return fmt.Errorf("--weights-grad-out: %w", err)
		}
	}
	return json.NewEncoder(out).Encode(res)
}

// buildLoss builds --loss with --distance and --reducer nested in it.
func buildLoss(f lossFlags) (loss.Loss, error) {
	c, err := parseFlag("--loss", f.loss)
	if err != nil {
		return nil, err
	}
	c.Params = maps.Clone(c.Params)
	if err := nestFlag(c.Params, "distance", "--distance", f.distance, loss.Distances); err != nil {
		return nil, err
	}
	if err := nestFlag(c.Params, "reducer", "--reducer", f.reducer, loss.Reducers); err != nil {
		return nil, err
	}
	l, _, err := loss.Losses.Build(c)
	return l, err
}

// nestFlag puts the component given with flag (if any) into params under
// key. It is built on its own first, so that its errors name its flag.
func nestFlag[T any](params map[string]any, key, flag, value string, r *config.Registry[T]) error {
	if value == "" {
		return nil
	}
	c, err := parseFlag(flag, value)
	if err == nil {
		_, _, err = r.Build(c)
	}
	if err != nil {
		return err
	}
	params[key] = map[string]any{c.Type: c.Params}
	return nil
}

// parseFlag reads a component given in YAML flow syntax on the command line.
func parseFlag(flag, value string) (config.Component, error) {
	var raw any
	if err := yaml.Unmarshal([]byte(value), &raw); err != nil {
		return config.Component{}, fmt.Errorf("%s: not YAML: %s", flag, strings.ReplaceAll(err.Error(), "\n", ";"))
	}
	return config.ParseComponent(raw, "", flag)
}

func buildFlag[T any](r *config.Registry[T], flag, value string) (T, error) {
	c, err := parseFlag(flag, value)
	if err != nil {
		var zero T
		return zero, err
	}
	v, _, err := r.Build(c)
	return v, err
}

// setWeights sizes and initialises the weights of a loss that has them, as
// the trainer does, then loads the file given with --weights.
func setWeights(l loss.Loss, path string, labels []int, d int, rng *rand.Rand) error {
	if s, ok := l.(loss.Shaped); ok {
		// One weight row per class up to the largest label: a huge label is
		// a huge matrix (values, gradient and a spare copy).
		classes := slices.Max(labels) + 1
		if err := limits.CheckMemory(fmt.Sprintf("--labels: the largest label, %d, sizes the loss's weights to %d x %d values",
			classes-1, classes, d), 3*8*float64(classes)*float64(d)); err != nil {
			return err
		}
		if err := s.SetShape(classes, d); err != nil {
			return fmt.Errorf("--loss: %w", err)
		}
		s.InitWeights(rng)
	}
	if path == "" {
		return nil
	}
	w, err := onlyWeight(l, "--weights")
	if err != nil {
		return err
	}
	v, rows, cols, err := arrayio.ReadMatrix(path)
	if err != nil {
		return fmt.Errorf("--weights: %w", err)
	}
	if wr, wc := matrixShape(w.Shape); rows != wr || cols != wc {
		return fmt.Errorf("--weights %s: %d x %d, want %s of %d x %d (num_classes and embedding_size in --loss size it)",
			path, rows, cols, w.Name, wr, wc)
	}
	copy(w.Value, v)
	return nil
}

// onlyWeight is the one learnable tensor of the loss, which --weights and
// --weights-grad-out refer to.
func onlyWeight(l loss.Loss, flag string) (*loss.Weight, error) {
	ws := l.Weights()
	if len(ws) != 1 {
		return nil, fmt.Errorf("%s: the loss has %d learnable tensors, want 1", flag, len(ws))
	}
	return ws[0], nil
}

// matrixShape is the rows x cols of a weight as a file holds it: a vector
// is one row.
func matrixShape(shape []int) (rows, cols int) {
	if len(shape) == 2 {
		return shape[0], shape[1]
	}
	return 1, shape[0]
}
