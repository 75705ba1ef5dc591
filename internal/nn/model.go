// Package nn is the model: a trunk, an embedder, an optional classifier
// head and, for DAML, an optional generator branch in training, as one
// Gorgonia graph per mode built once. The training graph runs
// forward, hands the outputs to a loss callback (the loss is computed beside
// the graph, in plain Go) and backpropagates the gradient it returns, all in
// one run; the eval graph runs forward with BatchNorm's running statistics.
// Both graphs read the same parameter tensors, which optimisers update in
// place.
package nn

import (
	"errors"
	"fmt"
	"math/rand"
	"runtime"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/bench-ml/bench/internal/optim"
	"github.com/bench-ml/bench/internal/parallel"
)

// Config describes a model: components built from the models config, and
// what the data and the trainer decide.
type Config struct {
	Trunk      Trunk    // from Trunks.Build(models.trunk)
	Embedder   Embedder // from Embedders.Build(models.embedder); nil = none (embeddings = trunk output)
	Classifier *MLP     // from Classifiers.Build(models.classifier); nil = no classifier head
	NumClasses int      // the classifier's (or each head's) output size
	// Heads are classifier heads on slices of the embedding, instead of
	// Classifier; their logits are side by side in Outputs.Logits.
	Heads []Head
	// Generator adds DeepAdversarialMetricLearning's synthetic branch to the
	// training graph (nil = none), for NumTriplets triplets per step.
	Generator   *Generator
	NumTriplets int
	// InputShape is the shape of one example: channels, height, width for
	// image trunks; Identity flattens whatever it is given.
	InputShape    []int
	BatchSize     int   // of every TrainStep
	EvalBatchSize int   // chunk size of Embed; 0 = BatchSize
	Seed          int64 // of the weight initialisation
}

// Model is a built model. It is not safe for concurrent use.
type Model[T Float] struct {
	trunk              Trunk
	embedder           Embedder
	classifier         *MLP
	parts              []int // of the trunk output, see extractor
	heads              []Head
	generator          *Generator
	numTriplets        int
	triplets           Triplets // of the generator branch, set by SetTriplets
	inputShape         []int    // one example, as the trunk takes it
	inSize             int      // values per example
	numClasses         int
	trunkSize, embSize int
	train, eval        *graph[T]

	params   []*param[T] // in creation order
	byName   map[string]*param[T]
	bns      []*batchNorm[T]
	bnByName map[string]*batchNorm[T]
	state    []stateTensor[T] // what Save writes: parameters and running statistics
	// convScratch holds the columns and partial sums of every convolution.
	convScratch scratch[T]
	rng         *rand.Rand // of the initialisation, used while building

	// The running TrainStep's loss callback, and what it got and returned.
	lossGrad func(Outputs[T]) (Grads[T], error)
	lossErr  error
	out      Outputs[T]
	grads    Grads[T]
}

// graph is one compiled graph with a fixed batch size.
type graph[T Float] struct {
	g                  *G.ExprGraph
	vm                 G.VM
	x                  *tensor.Dense // bound to the input node; filled before each run
	batch              int
	macs               int64 // multiply-adds of one run (see builder.count)
	trunk, emb, logits *G.Node
	synth, synthEmb    *G.Node // the generator branch (training graph only)
	grads              G.Nodes // training graph: d loss / d param, in Model.params order
}

// stateTensor is one named tensor of a checkpoint.
type stateTensor[T Float] struct {
	name  string
	shape []int
	data  []T
}

// Outputs are the training graph's outputs for one batch, row-major:
// Trunk is batch x TrunkSize(), Emb batch x EmbeddingSize(), Logits batch x
// NumClasses() (nil without a classifier). With a generator, Synth holds the
// synthetic negatives (NumTriplets x TrunkSize()) and SynthEmb their
// embeddings (NumTriplets x EmbeddingSize()). They stay valid until the next
// TrainStep.
type Outputs[T Float] struct {
	Trunk, Emb, Logits []T
	Synth, SynthEmb    []T
}

// Grads are the loss's gradients with respect to the outputs it used, shaped
// as Outputs; nil means the loss does not depend on that output. Trunk,
// Synth and SynthEmb are taken only from a model with a generator.
type Grads[T Float] struct {
	Emb, Logits            []T
	Trunk, Synth, SynthEmb []T
}

// New builds the float32 model used for training and evaluation.
func New(cfg Config) (*Model[float32], error) { return newModel[float32](cfg) }

func newModel[T Float](cfg Config) (*Model[T], error) {
	if cfg.Trunk == nil {
		return nil, errors.New("nn: no trunk")
	}
	if cfg.BatchSize < 1 {
		return nil, fmt.Errorf("nn: batch size %d; want at least 1", cfg.BatchSize)
	}
	if (cfg.Classifier != nil || len(cfg.Heads) > 0) && cfg.NumClasses < 1 {
		return nil, fmt.Errorf("nn: a classifier head needs the number of classes, got %d", cfg.NumClasses)
	}
	if cfg.Classifier != nil && len(cfg.Heads) > 0 {
		return nil, errors.New("nn: a classifier and classifier heads on slices: choose one")
	}
	if cfg.Generator != nil && cfg.NumTriplets < 1 {
		return nil, fmt.Errorf("nn: a generator needs the number of triplets per step, got %d", cfg.NumTriplets)
	}
	inputShape, err := cfg.Trunk.inputShape(cfg.InputShape)
	if err != nil {
		return nil, err
	}
	m := &Model[T]{
		trunk:       cfg.Trunk,
		embedder:    cfg.Embedder,
		classifier:  cfg.Classifier,
		heads:       cfg.Heads,
		generator:   cfg.Generator,
		numTriplets: cfg.NumTriplets,
		inputShape:  inputShape,
		inSize:      product(inputShape),
		byName:      map[string]*param[T]{},
		bnByName:    map[string]*batchNorm[T]{},
		rng:         rand.New(rand.NewSource(cfg.Seed)),
	}
	if cfg.Classifier != nil || len(cfg.Heads) > 0 {
		m.numClasses = cfg.NumClasses
	}
	evalBatch := cfg.EvalBatchSize
	if evalBatch < 1 {
		evalBatch = cfg.BatchSize
	}
	if m.train, err = m.build(true, cfg.BatchSize); err != nil {
		return nil, fmt.Errorf("nn: building the training graph: %w", err)
	}
	if m.eval, err = m.build(false, evalBatch); err != nil {
		return nil, fmt.Errorf("nn: building the eval graph: %w", err)
	}
	m.rng = nil
	m.trunkSize = m.train.trunk.Shape()[1]
	m.embSize = m.train.emb.Shape()[1]
	if path := cfg.Trunk.pretrained(); path != "" {
		if err := m.loadPretrained(path); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// build makes one graph: the training graph (batch statistics, loss bridge,
// gradients) or the eval graph (running statistics, no classifier).
func (m *Model[T]) build(train bool, batch int) (*graph[T], error) {
	b := &builder[T]{m: m, g: G.NewGraph(), train: train, nodes: map[string]*G.Node{}}
	shape := append([]int{batch}, m.inputShape...)
	gr := &graph[T]{g: b.g, batch: batch, x: tensor.New(tensor.WithShape(shape...), tensor.Of(dtype[T]()))}
	x := G.NewTensor(b.g, dtype[T](), len(shape), G.WithShape(shape...), G.WithName("x"), G.WithValue(gr.x))

	b.group = "trunk"
	gr.trunk = m.trunk.build(b, x)
	if e, ok := m.trunk.(extractor); ok {
		m.parts = e.parts()
	}
	gr.emb = gr.trunk
	if m.embedder != nil {
		b.group = "embedder"
		gr.emb = m.embedder.embed(b, gr.trunk, m.parts)
	}
	if train && m.classifier != nil {
		b.group = "classifier"
		gr.logits = m.classifier.build(b, "", gr.emb, m.numClasses)
	}
	if train && len(m.heads) > 0 {
		gr.logits = m.buildHeads(b, gr.emb)
	}
	if train && m.generator != nil {
		m.buildGenerator(b, gr)
	}
	if b.err != nil {
		return nil, b.err
	}
	if train {
		cost, err := m.lossBridge(gr)
		if err != nil {
			return nil, err
		}
		wrt := make(G.Nodes, len(m.params))
		for i, p := range m.params {
			wrt[i] = p.node
		}
		if len(wrt) > 0 {
			if gr.grads, err = G.Grad(cost, wrt...); err != nil {
				return nil, err
			}
		}
	}
	allowInPlace[T](b.g)
	if err := shareBuffers[T](b.g); err != nil {
		return nil, err
	}
	gr.macs = b.macs
	gr.vm = G.NewTapeMachine(b.g)
	// Its finalizer (a no-op without CUDA) sits on a cycle through the
	// graph, and Go never frees a cycle that holds a finalizer: without
	// this every model stayed in memory (TestModelsAreCollected).
	runtime.SetFinalizer(gr.vm, nil)
	return gr, nil
}

// bridged is one output of the training graph as the loss bridge sees it.
type bridged[T Float] struct {
	name string // what it is, for messages
	node *G.Node
	out  *[]T       // where the callback reads it
	grad func() []T // the callback's gradient for it
	diff bool       // the graph takes a gradient for it
}

// bridgedOutputs lists the outputs the loss callback sees, in the bridge's
// input order. The trunk output is differentiable only with a generator,
// whose losses (g_hard_loss, g_reg_loss) use it directly.
func (m *Model[T]) bridgedOutputs(gr *graph[T]) []bridged[T] {
	g := &m.grads
	out := []bridged[T]{
		{"trunk outputs", gr.trunk, &m.out.Trunk, func() []T { return g.Trunk }, gr.synth != nil},
		{"embeddings", gr.emb, &m.out.Emb, func() []T { return g.Emb }, true},
	}
	if gr.logits != nil {
		out = append(out, bridged[T]{"logits", gr.logits, &m.out.Logits, func() []T { return g.Logits }, true})
	}
	if gr.synth != nil {
		out = append(out,
			bridged[T]{"synthetic negatives", gr.synth, &m.out.Synth, func() []T { return g.Synth }, true},
			bridged[T]{"synthetic embeddings", gr.synthEmb, &m.out.SynthEmb, func() []T { return g.SynthEmb }, true})
	}
	return out
}

// lossBridge is the last node of the training graph: its forward hands the
// outputs to the step's loss callback and keeps the gradients it returns, and
// its derivative hands those back, so that one run of the graph does the
// forward pass, the loss and the backward pass. Its value (the "cost") is a
// placeholder: the loss value is the callback's business.
func (m *Model[T]) lossBridge(gr *graph[T]) (*G.Node, error) {
	outs := m.bridgedOutputs(gr)
	in, diffWRT := make(G.Nodes, len(outs)), make([]bool, len(outs))
	for i, o := range outs {
		in[i], diffWRT[i] = o.node, o.diff
	}
	bridge := &fnOp[T]{
		name:  "loss",
		shape: tensor.Shape{},
		forward: func(_ []T, in [][]T) error {
			for i, o := range outs {
				*o.out = append((*o.out)[:0], in[i]...)
			}
			m.grads, m.lossErr = m.lossGrad(m.out)
			if m.lossErr == nil {
				m.lossErr = m.checkGrads(outs)
			}
			return m.lossErr
		},
		backward: func(in G.Nodes, cost, _ *G.Node) (G.Nodes, error) {
			grads := make(G.Nodes, len(outs))
			for i, o := range outs {
				if !o.diff {
					continue
				}
				var err error
				if grads[i], err = upstream("loss/d_"+o.name, in[i], cost, o.grad); err != nil {
					return nil, err
				}
			}
			return grads, nil
		},
		diffWRT: diffWRT,
	}
	return apply(bridge, in...)
}

// upstream is the node of the loss gradient with respect to the output
// like, taken from the callback's result. The cost is the root of the graph,
// so its own gradient is 1 and the callback's gradient is used unscaled; the
// cost is an input only so that this node runs after the callback.
func upstream[T Float](name string, like, cost *G.Node, grad func() []T) (*G.Node, error) {
	return apply(&fnOp[T]{
		name:  name,
		shape: like.Shape().Clone(),
		forward: func(out []T, _ [][]T) error {
			copy(out, grad()) // nil: the loss does not use this output
			return nil
		},
	}, cost)
}

// checkGrads reports a gradient of the wrong size, or one for an output the
// graph takes none for.
func (m *Model[T]) checkGrads(outs []bridged[T]) error {
	for _, o := range outs {
		got, want := len(o.grad()), 0
		if o.diff {
			want = o.node.Shape().TotalSize()
		}
		if got != 0 && got != want {
			return fmt.Errorf("nn: the loss gradient with respect to the %s has %d values; want %d", o.name, got, want)
		}
	}
	return nil
}

// TrainStep runs the training graph on x (BatchSize examples, row-major):
// the forward pass, then lossGrad with the outputs, which returns d loss /
// d output for each output it used, then the backward pass, after which every
// parameter's Grad holds the gradient for this batch (overwritten, not
// accumulated). An error from lossGrad is returned as is. lossGrad runs on
// a goroutine of Gorgonia's while TrainStep waits for it.
func (m *Model[T]) TrainStep(x []T, lossGrad func(Outputs[T]) (Grads[T], error)) error {
	if want := m.train.batch * m.inSize; len(x) != want {
		return fmt.Errorf("nn: TrainStep got %d input values; want %d (batch %d x %v)", len(x), want, m.train.batch, m.inputShape)
	}
	if m.generator != nil && m.triplets.A == nil {
		return errors.New("nn: a model with a generator needs SetTriplets before TrainStep")
	}
	copy(m.train.x.Data().([]T), x)
	m.lossGrad, m.lossErr = lossGrad, nil
	defer func() { m.lossGrad = nil }()
	// Without Reset a TapeMachine's RunAll does nothing after the first run.
	m.train.vm.Reset()
	if err := m.train.vm.RunAll(); err != nil {
		if m.lossErr != nil {
			return m.lossErr
		}
		return fmt.Errorf("nn: training step: %w", err)
	}
	// A ResNet-50's gradients are 100 MB: copied on one core, a serial
	// part of the step.
	parallel.For(len(m.params), func(i int) {
		copy(m.params[i].Grad, m.train.grads[i].Value().Data().([]T))
	})
	return nil
}

// Embed returns the embeddings (n x EmbeddingSize()) of n examples in eval
// mode, in chunks of the eval batch size (the last one padded).
func (m *Model[T]) Embed(x []T, n int) ([]T, error) {
	return m.evaluate(x, n, m.eval.emb, m.embSize)
}

// EmbedTrunk returns the trunk outputs (n x TrunkSize()) of n examples in
// eval mode, for the accuracy of the untrained trunk.
func (m *Model[T]) EmbedTrunk(x []T, n int) ([]T, error) {
	return m.evaluate(x, n, m.eval.trunk, m.trunkSize)
}

func (m *Model[T]) evaluate(x []T, n int, node *G.Node, size int) ([]T, error) {
	if len(x) != n*m.inSize {
		return nil, fmt.Errorf("nn: got %d input values for %d examples of shape %v", len(x), n, m.inputShape)
	}
	out := make([]T, n*size)
	in := m.eval.x.Data().([]T)
	for start := 0; start < n; start += m.eval.batch {
		k := min(m.eval.batch, n-start)
		copy(in, x[start*m.inSize:(start+k)*m.inSize])
		clear(in[k*m.inSize:])
		m.eval.vm.Reset()
		if err := m.eval.vm.RunAll(); err != nil {
			return nil, fmt.Errorf("nn: evaluation: %w", err)
		}
		copy(out[start*size:(start+k)*size], node.Value().Data().([]T))
	}
	return out, nil
}

// Groups returns the parameters by optimiser group ("trunk", "embedder",
// "classifier", "generator"); a group without parameters is absent. Value and Grad alias
// the model's storage.
func (m *Model[T]) Groups() map[string][]*optim.Param[T] {
	groups := map[string][]*optim.Param[T]{}
	for _, p := range m.params {
		groups[p.group] = append(groups[p.group], &p.Param)
	}
	return groups
}

// SetFreezeTrunkBatchNorm makes the trunk's BatchNorm layers use their
// running statistics in training too, and stop updating them
// (freeze_trunk_batchnorm).
func (m *Model[T]) SetFreezeTrunkBatchNorm(freeze bool) {
	for _, bn := range m.bns {
		if bn.group == "trunk" {
			bn.frozen = freeze
		}
	}
}

// InputSize is the number of values of one example.
func (m *Model[T]) InputSize() int { return m.inSize }

// TrunkSize is the size of the trunk output.
func (m *Model[T]) TrunkSize() int { return m.trunkSize }

// EmbeddingSize is the size of the embeddings.
func (m *Model[T]) EmbeddingSize() int { return m.embSize }

// NumClasses is the size of the logits, 0 without a classifier head.
func (m *Model[T]) NumClasses() int { return m.numClasses }

// FLOPs returns the floating-point operations per example of a training
// step and of an embedding, counting the multiply-adds (two operations
// each) of the convolutions and linear layers, which dominate.
func (m *Model[T]) FLOPs() (train, embed float64) {
	return 2 * float64(m.train.macs) / float64(m.train.batch), 2 * float64(m.eval.macs) / float64(m.eval.batch)
}

// BatchSize is the batch size of TrainStep.
func (m *Model[T]) BatchSize() int { return m.train.batch }
