package train

import (
	"fmt"
	"maps"
	"slices"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/limits"
	"github.com/bench-ml/bench/internal/nn"
)

// checkMemory refuses a config whose training would need more memory
// than the machine has, before anything is allocated, naming the key that
// asks for it. The estimate is a lower bound from the sizes a config
// states: the batches (batch_size images of the transforms' size, with the
// next batch prefetched and the model's copy and gradient), the first
// blocks of a ConvNet trunk, and the per-class weights of losses. A
// config it lets pass can still need more.
func (e *env) checkMemory() error {
	s := e.spec
	shape := e.trainData.Shape()
	pixels := float64(shape.H) * float64(shape.W)
	batch := float64(s.TrainBatchSize())
	check := func(key, what string, bytes float64) error {
		return limits.CheckMemory(fmt.Sprintf("%s: %s", key, what), bytes)
	}
	if err := check("batch_size and transforms", fmt.Sprintf("%d images of %s", s.LoadedBatchSize(), shape),
		4*4*float64(s.LoadedBatchSize())*float64(shape.C)*pixels); err != nil {
		return err
	}
	if c, ok := s.Trunk.Value.(*nn.ConvNet); ok {
		channels := c.Channels
		// Each block's activations, normalised, activated and their
		// gradients, at the block's resolution (each block halves it).
		bytes := 0.0
		for i, c := range channels {
			bytes += 4 * 4 * batch * float64(c) * pixels / float64(int(1)<<(2*min(i, 30)))
		}
		if err := check(config.JoinPath(s.Trunk.Where, "ConvNet", "channels"), fmt.Sprintf("%v channels on batches of %d %s images", channels, s.TrainBatchSize(), shape), bytes); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.LossFuncs)) {
		c := s.LossFuncs[name]
		classes, ok := config.Number(c.Params["num_classes"])
		if !ok {
			continue
		}
		// The embedding size, when the config states it: the loss's, or
		// the last layer of an MLP embedder.
		dim := 1.0
		if size := s.Embedder.Value.OutputSize(); size > 0 {
			dim = float64(size)
		}
		if d, ok := config.Number(c.Params["embedding_size"]); ok && d > 0 {
			dim = d
		}
		// Values, gradient and an optimiser's two moments.
		if err := check(config.JoinPath(c.Where, c.Type, "num_classes"), fmt.Sprintf("%.0f classes of weights", classes), 4*8*classes*dim); err != nil {
			return err
		}
	}
	return nil
}
