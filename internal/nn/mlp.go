package nn

import (
	"fmt"
	"slices"

	G "gorgonia.org/gorgonia"

	"github.com/bench-ml/bench/internal/config"
)

// MLP is the embedder (and classifier head) of PML and powerful_benchmarker:
// Linear layers of LayerSizes outputs, the input size taken from what it is
// built on, with a ReLU before every Linear except the last one (before the
// last too with FinalReLU). So [512, 128] is ReLU, Linear, Linear, exactly as
// PML's MLP([in, 512, 128]) — a user porting a config gets the same network.
// An empty LayerSizes is the identity. Layers are named net.0, net.1, ... as
// in PML's torch Sequential, where the ReLUs take indices too.
type MLP struct {
	LayerSizes []int
	FinalReLU  bool
	origin
}

func newMLP(def []int) func(p *config.Params) *MLP {
	return func(p *config.Params) *MLP {
		return &MLP{
			LayerSizes: p.Ints("layer_sizes", def, config.Min(1)),
			FinalReLU:  p.Bool("final_relu", false),
			origin:     originOf(p),
		}
	}
}

// build adds the layers on x (batch x features), their names prefixed;
// extra > 0 appends one more layer of that size (the classifier's number
// of classes).
func (m *MLP) build(l layers, prefix string, x *G.Node, extra int) *G.Node {
	sizes := m.LayerSizes
	if extra > 0 {
		sizes = slices.Concat(sizes, []int{extra})
	}
	// PML's final_relu_layer: Linear i has a ReLU before it when i < this.
	reluBefore := len(sizes) - 1
	if m.FinalReLU {
		reluBefore = len(sizes)
	}
	index := 0 // of the layer in the Sequential
	for i, size := range sizes {
		if i < reluBefore {
			x = l.relu(x)
			index++
		}
		x = l.linear(fmt.Sprintf("%snet.%d", prefix, index), x, size)
		index++
	}
	return x
}
