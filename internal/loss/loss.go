// Package loss holds the metric-learning losses, distances, reducers and
// regularizers of pytorch-metric-learning (PML 2.8.1), with PML's names,
// defaults and semantics, computing the loss value and its exact gradient
// in float64.
//
// A Loss takes a batch of embeddings (row-major n x d), its labels and
// optionally the tuples a miner chose, and returns the value and
// dLoss/dEmbeddings. Losses with learnable tensors (proxies, class weights W,
// SoftTriple centres fc, MarginLoss beta) expose them as Weights in PML's
// layout; Compute fills their Grad, which the trainer hands to the
// metric_loss_optimizer.
//
// Losses with per-class weights (ProxyAnchorLoss, ProxyNCALoss, ArcFaceLoss,
// SubCenterArcFaceLoss, CosFaceLoss, LargeMarginSoftmaxLoss, SphereFaceLoss,
// NormalizedSoftmaxLoss, SoftTripleLoss, P2SGradLoss) read num_classes and
// embedding_size (P2SGradLoss: descriptors_dim) from their config; 0 (the
// default) means "fill in later": the trainer calls SetShape with the
// dataset's class count and the model's embedding size and then
// InitWeights, which draws the weights as PML initialises them (Compute
// fails until both are known). MarginLoss's beta
// needs no shape from the data: one beta, or one per class when num_classes
// is given, as in PML.
//
// A loss is decoded once per run; a loss that keeps state while it trains
// (class weights, a learnt beta, a random triplet stream,
// DynamicSoftMarginLoss's histogram, CrossBatchMemory's queue) implements
// config.Stateful, and each fold trains its own Fresh copy. What of it is
// not a weight, checkpoints keep too: the histogram and the queue as
// Buffers, a random triplet stream as the fold's generator it is handed
// (Randomized). CrossBatchMemory is also Shaped (its memory is sized by the
// model's embedding size).
//
// Distances give the pairwise matrix (Distance.Matrix) that miners use and a
// differentiable version on an ad.Tape that losses use. Reducers turn each
// sub-loss (PML's loss dictionary: element, pos_pair, neg_pair, triplet or
// already_reduced losses) into a scalar; the sub-losses are summed.
// Regularizers (a loss's embedding_regularizer and weight_regularizer) add
// a weighted penalty of the embeddings or of the class weights, a row per
// class, as one more already-reduced sub-loss.
//
// All components are registered by their PML names in registry.go.
package loss

import (
	"math/rand/v2"
)

// Loss is a metric loss (or CrossEntropyLoss on logits). A Loss owns the
// gradients of its weights (and a sampler's random state), so it is not safe
// for concurrent use.
type Loss interface {
	// Compute returns the loss and dLoss/dEmbeddings (row-major n x d) for a
	// batch; tuples == nil means all pairs/triplets of the batch, and a loss
	// that needs the other form of tuples converts them as PML does. For
	// CrossEntropyLoss, emb holds the logits (n x classes). Compute also sets
	// the Grad of every weight.
	Compute(emb []float64, n, d int, labels []int, tuples *Tuples) (value float64, grad []float64, err error)
	// Weights returns the learnable tensors (nil if none).
	Weights() []*Weight
}

// Weight is a learnable tensor of a loss, row-major in PML's layout.
// Value and Grad are owned by the loss; an optimiser updates Value in place.
type Weight struct {
	Name  string
	Shape []int
	Value []float64
	Grad  []float64
}

// Shaped is a loss whose weights are sized by the data (num_classes,
// embedding_size). The trainer calls SetShape then InitWeights before the
// first Compute.
type Shaped interface {
	Loss
	// SetShape fills in num_classes and embedding_size where the config left
	// them 0; it fails when a configured value cannot hold the data
	// (num_classes below the classes of the dataset, or an embedding size
	// different from the model's).
	SetShape(numClasses, embeddingSize int) error
	// InitWeights draws the weights as PML's constructor does.
	InitWeights(rng *rand.Rand)
}
