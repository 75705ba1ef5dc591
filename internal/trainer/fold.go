package trainer

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"

	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/miner"
	"github.com/bench-ml/bench/internal/nn"
)

// Fold is what a method trains in one fold: the fold's fresh model, losses
// and miners, built by the training loop from the spec.
type Fold struct {
	Model                *nn.Model[float32]
	Losses               map[string]loss.Loss   // by the method's loss names
	Miners               map[string]miner.Miner // by the method's miner names
	Weights              map[string]float64     // loss_weights
	Seed                 uint64                 // the run's
	FreezeTrunkBatchNorm bool
	// Rngs are the fold's random streams, which a checkpoint keeps so that
	// a resumed run draws on.
	Rngs map[string]*rand.PCG
}

// Rand starts the fold's named random stream, seeded by the run's seed,
// and keeps it in Rngs.
func (f *Fold) Rand(name string) *rand.Rand {
	if f.Rngs == nil {
		f.Rngs = map[string]*rand.PCG{}
	}
	pcg := rand.NewPCG(f.Seed, streamOf(name))
	f.Rngs[name] = pcg
	return rand.New(pcg)
}

// streamOf is the PCG stream of a named random generator of the fold.
// Stream 1 initialises loss weights. A loss's own draws (loss/<key>) take
// a stream hashed from its key, far from the numbered ones.
func streamOf(name string) uint64 {
	if strings.HasPrefix(name, "loss/") {
		h := fnv.New64a()
		h.Write([]byte(name))
		return h.Sum64() | 1<<63
	}
	switch name {
	case "tuple_miner":
		return 2
	case "g_triplets":
		return 3
	case "subset_batch_miner":
		return 4
	}
	var i uint64
	fmt.Sscanf(name, "tuple_miner_%d", &i)
	return 100 + i
}
