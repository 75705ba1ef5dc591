package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// Head is a classifier head on the embedding columns [Start, Start+Size):
// CascadedEmbeddings' classifier_<i> on its slice. Name is its parameter
// group (classifier_0, ...), which names its parameters and its optimiser.
type Head struct {
	Name        string
	MLP         *MLP
	Start, Size int
}

// buildHeads adds the heads on the embeddings emb (batch x d) to the
// training graph, each ending in numClasses outputs, and returns their
// logits side by side (batch x len(heads)*numClasses).
func (m *Model[T]) buildHeads(b *builder[T], emb *G.Node) *G.Node {
	d := emb.Shape()[1]
	logits := make([]*G.Node, len(m.heads))
	for i, h := range m.heads {
		if h.Start < 0 || h.Size < 1 || h.Start+h.Size > d {
			b.fail(fmt.Errorf("nn: classifier head %s on columns [%d, %d) of %d-wide embeddings", h.Name, h.Start, h.Start+h.Size, d))
			return emb
		}
		b.group = h.Name
		in := b.columns("input", emb, h.Start, h.Size)
		logits[i] = h.MLP.build(b, "", in, m.numClasses)
	}
	if len(logits) == 1 {
		return logits[0]
	}
	b.group = "classifier"
	return b.concat("heads", logits...)
}

// columns is x[:, start:start+size] of a batch x d node; its gradient
// puts the incoming one back in those columns, zero elsewhere.
func columns[T Float](name string, x *G.Node, start, size int) (*G.Node, error) {
	batch, d := x.Shape()[0], x.Shape()[1]
	op := &fnOp[T]{name: name, shape: []int{batch, size}, diffWRT: []bool{true}, overwrites: true,
		forward: func(y []T, in [][]T) error {
			for r := range batch {
				copy(y[r*size:(r+1)*size], in[0][r*d+start:r*d+start+size])
			}
			return nil
		},
	}
	op.backward = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		dx, err := apply(&fnOp[T]{name: name + "/grad", shape: in[0].Shape().Clone(),
			forward: func(dx []T, g [][]T) error {
				for r := range batch {
					copy(dx[r*d+start:r*d+start+size], g[0][r*size:(r+1)*size])
				}
				return nil
			},
		}, grad)
		return G.Nodes{dx}, err
	}
	return apply(op, x)
}
