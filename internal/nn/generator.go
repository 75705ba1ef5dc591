package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/bench-ml/bench/internal/config"
)

// Generator is DeepAdversarialMetricLearning's generator (models.generator):
// an MLP from the concatenated trunk outputs of an (anchor, positive,
// negative) triplet to a synthetic negative in trunk-output space. Its layer
// sizes are multiples of the trunk output size, since that size is known
// only once the trunk is built: powerful_benchmarker's generator,
// MLP([3t, t, t], final_relu=True), is layer_sizes [1, 1] with final_relu.
// The last size must be 1: the synthetic negative goes through the embedder.
type Generator struct {
	LayerSizes []float64
	FinalReLU  bool
	origin
}

func newGenerator(p *config.Params) *Generator {
	g := &Generator{
		LayerSizes: p.Floats("layer_sizes", []float64{1, 1}, config.Above(0)),
		FinalReLU:  p.Bool("final_relu", true),
		origin:     originOf(p),
	}
	if n := len(g.LayerSizes); n == 0 || g.LayerSizes[n-1] != 1 {
		p.Fail("layer_sizes", "the last size must be 1 (the trunk output size: the synthetic negative goes through the embedder); got %v", g.LayerSizes)
	}
	return g
}

// mlp is the generator's network for a trunk output of trunkSize.
func (g *Generator) mlp(trunkSize int) *MLP {
	sizes := make([]int, len(g.LayerSizes))
	for i, s := range g.LayerSizes {
		sizes[i] = max(1, int(math.Round(s*float64(trunkSize))))
	}
	return &MLP{LayerSizes: sizes, FinalReLU: g.FinalReLU, origin: g.origin}
}

// Triplets are the (anchor, positive, negative) rows of a batch from which
// the generator synthesises negatives, one per index.
type Triplets struct {
	A, P, N []int
}

// SetTriplets sets the triplets of the next TrainSteps of a model with a
// generator: Config.NumTriplets of them, indices into the batch.
func (m *Model[T]) SetTriplets(t Triplets) error {
	if m.generator == nil {
		return fmt.Errorf("nn: SetTriplets on a model without a generator")
	}
	for _, idx := range [][]int{t.A, t.P, t.N} {
		if len(idx) != m.numTriplets {
			return fmt.Errorf("nn: %d, %d, %d triplet indices; want %d of each", len(t.A), len(t.P), len(t.N), m.numTriplets)
		}
		for _, i := range idx {
			if i < 0 || i >= m.train.batch {
				return fmt.Errorf("nn: triplet index %d outside a batch of %d", i, m.train.batch)
			}
		}
	}
	m.triplets = t
	return nil
}

// buildGenerator adds the synthetic branch on the trunk output: the
// triplets' trunk outputs gathered side by side (numTriplets x 3t), the
// generator, and the embedder applied again, with the same parameters, to
// the synthetic negatives. Gradients of both embedder uses add up in the
// shared parameter nodes.
func (m *Model[T]) buildGenerator(b *builder[T], gr *graph[T]) {
	if b.err != nil {
		return
	}
	t := gr.trunk.Shape()[1]
	b.group = "generator"
	gathered := b.node(gatherTriplets(m, gr.trunk))
	if b.err != nil {
		return
	}
	gr.synth = m.generator.mlp(t).build(b, "", gathered, 0)
	gr.synthEmb = gr.synth
	if m.embedder != nil {
		b.group = "embedder"
		gr.synthEmb = m.embedder.embed(b, gr.synth, m.parts)
	}
}

// gatherTriplets puts the trunk outputs of each triplet (m.triplets) side by
// side: row i is [x[A[i]], x[P[i]], x[N[i]]]. Its gradient adds each row's
// parts back into the rows they came from.
func gatherTriplets[T Float](m *Model[T], x *G.Node) (*G.Node, error) {
	batch, t := x.Shape()[0], x.Shape()[1]
	rows := func(f func(i, part, src int)) {
		for part, idx := range [][]int{m.triplets.A, m.triplets.P, m.triplets.N} {
			for i, src := range idx {
				f(i, part, src)
			}
		}
	}
	op := &fnOp[T]{
		name:  "generator/gather",
		shape: tensor.Shape{m.numTriplets, 3 * t},
		forward: func(out []T, in [][]T) error {
			rows(func(i, part, src int) { copy(out[(3*i+part)*t:(3*i+part+1)*t], in[0][src*t:(src+1)*t]) })
			return nil
		},
		backward: func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
			dx, err := apply(&fnOp[T]{
				name:  "generator/gather/grad",
				shape: tensor.Shape{batch, t},
				forward: func(dx []T, in [][]T) error {
					rows(func(i, part, src int) {
						g := in[0][(3*i+part)*t : (3*i+part+1)*t]
						for j, v := range g {
							dx[src*t+j] += v
						}
					})
					return nil
				},
			}, grad)
			return G.Nodes{dx}, err
		},
		diffWRT: []bool{true},
	}
	return apply(op, x)
}
