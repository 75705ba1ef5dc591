package nn

import (
	G "gorgonia.org/gorgonia"

	"github.com/bench-ml/bench/internal/config"
)

// Identity is the trunk of precomputed-feature datasets: each example is
// flattened into a vector, which is the trunk output.
type Identity struct{ origin }

func newIdentity(p *config.Params) Trunk { return &Identity{origin: originOf(p)} }

func (*Identity) inputShape(example []int) ([]int, error) {
	return []int{product(example)}, nil
}

func (*Identity) build(_ layers, x *G.Node) *G.Node { return x }
func (*Identity) pretrained() string                { return "" }
