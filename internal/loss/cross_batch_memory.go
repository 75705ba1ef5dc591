package loss

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/bench-ml/bench/internal/config"
)

// crossBatchMemory is PML's CrossBatchMemory (XBM, Wang et al. 2020): a
// FIFO queue of the last memory_size embeddings (constants) and labels.
// Each call enqueues the batch, then computes the inner loss of the batch
// (anchors, with gradient) against the memory (references): on every pair
// of an anchor and a memory slot, or on the tuples its miner mines against
// the memory, without the pairs of an element and its own slot.
type crossBatchMemory struct {
	where      string
	inner      *metricLoss
	miner      RefMiner // nil: every pair
	memorySize int
	embSize    int // 0 until SetShape
	// The queue lives in Weights so that a checkpoint keeps it (Buffers):
	// embedding_memory (memory_size x embedding_size), label_memory,
	// queue_idx and has_been_filled, PML's names; labels and counters as
	// float64. nil until embSize is known.
	memory, labels, queueIdx, filled *Weight
}

// xbmLosses are the inner losses bench supports in CrossBatchMemory: those
// of PML's supported_losses in cross_batch_memory.py.
var xbmLosses = []string{
	"AngularLoss", "CircleLoss", "ContrastiveLoss", "GeneralizedLiftedStructureLoss",
	"IntraPairVarianceLoss", "LiftedStructureLoss", "MarginLoss", "MultiSimilarityLoss", "NCALoss",
	"NTXentLoss", "SignalToNoiseRatioContrastiveLoss", "SupConLoss", "TripletMarginLoss",
	"TupletMarginLoss",
}

// RefMiner is a miner that mines anchors against a reference set: every
// miner of package miner (miner.RefMiner has the same method).
type RefMiner interface {
	MineRef(emb []float64, n int, labels []int, ref []float64, nRef int, refLabels []int, d int) (*Tuples, error)
}

// RefMiners builds CrossBatchMemory's nested miner. Package miner imports
// this one, so this one cannot import it: package miner registers its
// miners here at init (a hook rather than a second copy of the registry),
// and the loss decodes {miner: {Type: params}} like any nested component.
var RefMiners = config.NewRegistry[RefMiner]("miner")

func newCrossBatchMemory(p *config.Params) Loss {
	x := &crossBatchMemory{
		where:      p.Where(),
		embSize:    p.Int("embedding_size", 0, config.Min(0)),
		memorySize: p.Int("memory_size", 1024, config.Min(1)),
	}
	if p.Written("loss") == nil {
		p.Fail("loss", "is required: the inner loss, one of %s", strings.Join(xbmLosses, ", "))
		return x
	}
	inner := config.BuildComponent(p, Losses, "loss", config.Component{})
	if inner.Value == nil {
		return x // its error is recorded
	}
	if !slices.Contains(xbmLosses, inner.Type) {
		p.Fail("loss", "%s is not supported in CrossBatchMemory yet; supported: %s", inner.Type, strings.Join(xbmLosses, ", "))
		return x
	}
	x.inner = inner.Value.(*metricLoss)
	if tm, ok := x.inner.f.(*tripletMargin); ok && tm.swap {
		// PML indexes the batch's rows with memory indices for swap.
		p.Fail("loss", "TripletMarginLoss with swap is not supported in CrossBatchMemory (PML reads the memory's positives as batch rows)")
	}
	if p.Written("miner") != nil {
		x.miner = config.BuildNested(p, RefMiners, "miner", config.Component{})
	}
	if p.Err() == nil { // sizes checked
		x.allocate()
	}
	return x
}

func (x *crossBatchMemory) allocate() {
	if x.memory != nil || x.embSize == 0 {
		return
	}
	buffer := func(name string, shape ...int) *Weight {
		size := 1
		for _, s := range shape {
			size *= s
		}
		return &Weight{Name: name, Shape: shape, Value: make([]float64, size), Grad: make([]float64, size)}
	}
	x.memory = buffer("embedding_memory", x.memorySize, x.embSize)
	x.labels = buffer("label_memory", x.memorySize)
	x.queueIdx = buffer("queue_idx", 1)
	x.filled = buffer("has_been_filled", 1)
}

// errXBMTuples is what CrossBatchMemory given a miner's tuples says.
var errXBMTuples = errors.New("takes no miner tuples: PML concatenates them with the memory's, mixing batch and memory indices; give CrossBatchMemory its own miner instead")

func (x *crossBatchMemory) Compute(emb []float64, n, d int, labels []int, tuples *Tuples) (float64, []float64, error) {
	t, ref, err := x.enqueueAndPair(emb, n, d, labels, tuples)
	if err != nil {
		return 0, nil, err
	}
	return x.inner.computeRef(emb, n, d, labels, t, ref)
}

// enqueueAndPair checks the batch, enqueues it and returns the memory as
// references and the tuples the inner loss takes: PML's forward up to
// its call of the inner loss.
func (x *crossBatchMemory) enqueueAndPair(emb []float64, n, d int, labels []int, tuples *Tuples) (*Tuples, *reference, error) {
	switch {
	case tuples != nil:
		return nil, nil, fmt.Errorf("%s: %w", x.where, errXBMTuples)
	case x.memory == nil:
		return nil, nil, fmt.Errorf("%s: embedding_size is unknown: give it in the config or call SetShape", x.where)
	case d != x.embSize:
		return nil, nil, fmt.Errorf("%s: embeddings of size %d, but embedding_size is %d", x.where, d, x.embSize)
	case n > x.memorySize:
		return nil, nil, fmt.Errorf("%s: a batch of %d does not fit memory_size %d", x.where, n, x.memorySize)
	}
	if err := checkBatch(emb, n, d, labels, nil, nil); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", x.where, err)
	}
	start := x.enqueue(emb, n, d, labels)
	m := x.memorySize
	if x.filled.Value[0] == 0 {
		m = int(x.queueIdx.Value[0])
	}
	// The memory itself, not a copy: nothing writes to it until the next
	// batch is enqueued.
	ref := &reference{emb: x.memory.Value[:m*d], m: m, labels: make([]int, m)}
	for j := range m {
		ref.labels[j] = int(x.labels.Value[j])
	}
	var t *Tuples
	if x.miner != nil {
		var err error
		if t, err = x.miner.MineRef(emb, n, labels, ref.emb, m, ref.labels, d); err != nil {
			return nil, nil, fmt.Errorf("%s: miner: %w", x.where, err)
		}
	} else {
		// PML's get_all_pairs_indices(labels, ref_labels): the labels are
		// distinct tensors, so an element's own slot is a positive, until
		// withoutSelf.
		t = allPairs(labels, ref.labels, false)
	}
	return withoutSelf(t, func(i int) int { return (start + i) % x.memorySize }), ref, nil
}

// enqueue is PML's add_to_memory: the batch fills the slots from queue_idx
// on, wrapping around; it returns the first slot.
func (x *crossBatchMemory) enqueue(emb []float64, n, d int, labels []int) (start int) {
	start = int(x.queueIdx.Value[0])
	for i := range n {
		slot := (start + i) % x.memorySize
		copy(x.memory.Value[slot*d:(slot+1)*d], emb[i*d:(i+1)*d])
		x.labels.Value[slot] = float64(labels[i])
	}
	next := (start + n) % x.memorySize
	if next <= start {
		x.filled.Value[0] = 1
	}
	x.queueIdx.Value[0] = float64(next)
	return start
}

// withoutSelf is PML's remove_self_comparisons: it drops the positive
// pairs (triplets) whose positive is the anchor's own memory slot (slot(a));
// negatives are of another label, so never the anchor's own slot.
func withoutSelf(t *Tuples, slot func(int) int) *Tuples {
	out := &Tuples{Triplets: t.Triplets, A2: t.A2, N: t.N}
	if t.Triplets {
		for k, a := range t.Anchor {
			if t.Positive[k] != slot(a) {
				out.Anchor = append(out.Anchor, a)
				out.Positive = append(out.Positive, t.Positive[k])
				out.Negative = append(out.Negative, t.Negative[k])
			}
		}
		return out
	}
	for k, a := range t.A1 {
		if t.P[k] != slot(a) {
			out.A1, out.P = append(out.A1, a), append(out.P, t.P[k])
		}
	}
	return out
}

// Weights are the inner loss's (none for the supported ones); the queue is
// not learnt.
func (x *crossBatchMemory) Weights() []*Weight {
	if x.inner == nil {
		return nil
	}
	return x.inner.Weights()
}

// buffers is the queue, which a checkpoint keeps so that a resumed run
// compares with the same memory.
func (x *crossBatchMemory) buffers() []*Weight {
	if x.memory == nil {
		return nil
	}
	return []*Weight{x.memory, x.labels, x.queueIdx, x.filled}
}

// takesTuples: the trainer refuses a mining_funcs entry feeding it.
func (x *crossBatchMemory) takesTuples() bool { return false }

// Fresh implements config.Stateful: each fold starts with an empty queue
// (and a fresh inner loss and miner).
func (x *crossBatchMemory) Fresh() Loss {
	c := *x
	c.inner = metricOf(x.inner.Fresh())
	if x.miner != nil {
		c.miner = config.Instance(x.miner)
	}
	c.memory, c.labels, c.queueIdx, c.filled = nil, nil, nil, nil
	c.allocate()
	return &c
}

// SetShape implements Shaped: embedding_size 0 takes the model's; a given
// one must match it. num_classes plays no part.
func (x *crossBatchMemory) SetShape(_, embeddingSize int) error {
	switch {
	case x.embSize == 0:
		x.embSize = embeddingSize
	case x.embSize != embeddingSize:
		return fmt.Errorf("%s: embedding_size is %d but the model gives %d", x.where, x.embSize, embeddingSize)
	}
	x.allocate()
	return nil
}

// InitWeights implements Shaped: PML's reset_queue starts the memory at
// zeros, which allocate already did; nothing is drawn.
func (x *crossBatchMemory) InitWeights(*rand.Rand) {}
