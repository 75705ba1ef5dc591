package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/bench-ml/bench/internal/config"
)

// Embedder is a configured embedder (models.embedder): what turns the
// trunk's outputs into the embeddings.
type Embedder interface {
	// embed adds the embedder on x (batch x features), whose consecutive
	// column blocks of sizes parts are the outputs of the layers the trunk
	// extracts (layers_to_extract); parts is nil when the trunk extracts
	// none.
	embed(l layers, x *G.Node, parts []int) *G.Node
	// OutputSize is the embedding size as configured, 0 when it depends on
	// the trunk (the identity, ListOfModels).
	OutputSize() int
}

func (m *MLP) embed(l layers, x *G.Node, _ []int) *G.Node { return m.build(l, "", x, 0) }

// OutputSize implements Embedder.
func (m *MLP) OutputSize() int {
	if len(m.LayerSizes) == 0 {
		return 0
	}
	return m.LayerSizes[len(m.LayerSizes)-1]
}

// newIdentityEmbedder is PML's Identity as an embedder (`embedder:
// {Identity: {}}`): the embeddings are the trunk outputs. An MLP without
// layers is exactly that.
func newIdentityEmbedder(p *config.Params) Embedder { return &MLP{origin: originOf(p)} }

// ListOfModels is powerful_benchmarker's ListOfModels with input_sizes,
// the embedder of its cascaded model (config_models/cascaded.yaml): one
// copy of Model on each layer the trunk extracts (layers_to_extract), its
// input size that layer's, their outputs concatenated in the layers'
// order. Copy i's parameters are list_of_models.<i>.<Model's names>, as in
// powerful_benchmarker's state dict. On a trunk that extracts no layers it
// is Model.
type ListOfModels struct {
	Model *MLP
	origin
}

func newListOfModels(p *config.Params) Embedder {
	e := &ListOfModels{origin: originOf(p)}
	model := config.BuildNested(p, Embedders, "model", config.C("MLP", nil))
	if mlp, ok := model.(*MLP); ok {
		e.Model = mlp
	} else if model != nil {
		p.Fail("model", "only MLP or Identity is supported: the copies on each layer")
	}
	return e
}

func (e *ListOfModels) embed(l layers, x *G.Node, parts []int) *G.Node {
	if len(parts) == 0 {
		parts = []int{x.Shape()[1]}
	}
	outs := make([]*G.Node, len(parts))
	start := 0
	for i, size := range parts {
		prefix := fmt.Sprintf("list_of_models.%d.", i)
		outs[i] = e.Model.build(l, prefix, l.columns(prefix+"input", x, start, size), 0)
		start += size
	}
	if len(outs) == 1 {
		return outs[0]
	}
	return l.concat("list_of_models", outs...)
}

// OutputSize implements Embedder: the number of copies is the trunk's.
func (e *ListOfModels) OutputSize() int { return 0 }

// extractor is a trunk whose output is the outputs of several of its
// layers side by side (layers_to_extract).
type extractor interface {
	// parts are the sizes of those outputs, known once the trunk is built;
	// nil when it extracts fewer than two layers.
	parts() []int
}
