package nn

import (
	"fmt"
	"slices"

	G "gorgonia.org/gorgonia"

	"github.com/bench-ml/bench/internal/config"
)

// MLP is the embedder (and classifier head): Linear layers of LayerSizes
// outputs, the input size taken from what it is built on, with a ReLU
// between layers and none after the last. An empty LayerSizes is the
// identity. Layers are named net.0, net.2, ... as in a torch Sequential
// with the ReLUs in between.
type MLP struct {
	LayerSizes []int
	origin
}

func newMLP(def []int) func(p *config.Params) *MLP {
	return func(p *config.Params) *MLP {
		return &MLP{LayerSizes: p.Ints("layer_sizes", def, config.Min(1)), origin: originOf(p)}
	}
}

// build adds the layers on x (batch x features); extra > 0 appends one more
// layer of that size (the classifier's number of classes).
func (m *MLP) build(l layers, x *G.Node, extra int) *G.Node {
	sizes := m.LayerSizes
	if extra > 0 {
		sizes = slices.Concat(sizes, []int{extra})
	}
	for i, size := range sizes {
		if i > 0 {
			x = l.relu(x)
		}
		x = l.linear(fmt.Sprintf("net.%d", 2*i), x, size)
	}
	return x
}
