// Package trainer holds the training methods, as PML's trainers/: the
// behaviour every method shares (this file, step.go and fold.go, PML's
// BaseTrainer) and one file per method. A method is registered by its
// config name in Trainers (registry.go); adding one is a file and a
// registry line.
package trainer

import (
	"slices"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/miner"
	"github.com/bench-ml/bench/internal/nn"
)

// Trainer is a configured training method, built once from the trainer
// config and shared by the folds.
type Trainer interface {
	// Decode reads, when the spec is decoded, the models, losses, miners
	// and optimisers the method trains with beyond the trunk and embedder.
	Decode(d *Decoder)
	// Start begins the method's training of one fold, once the fold's
	// model, losses and miners are built.
	Start(f *Fold) (Behaviour, error)
}

// Behaviour is a method's training of one fold: what PML's trainers
// override of BaseTrainer. Base implements all but Losses.
type Behaviour interface {
	// StartEpoch is called before each epoch's first step.
	StartEpoch(epoch int)
	// BeforeStep is called before the forward pass of each step.
	BeforeStep(labels []int) error
	// Losses computes the step's weighted losses and their gradients.
	Losses(s *Step) error
	// Uses reports whether the current step counts the named loss (PML's
	// loss weight 0 leaves it out).
	Uses(loss string) bool
	// Steps reports whether the current step updates the parameter group
	// (trunk, embedder, classifier, generator).
	Steps(group string) bool
}

// Base is the behaviour PML's BaseTrainer gives every method: nothing
// before an epoch or a step, every loss counted and every group stepped.
type Base struct{}

func (Base) StartEpoch(int)         {}
func (Base) BeforeStep([]int) error { return nil }
func (Base) Uses(string) bool       { return true }
func (Base) Steps(string) bool      { return true }

// Decoder is what a method reads its components with, in Trainer.Decode:
// the models, loss_funcs and mining_funcs configs, the components decoded
// before it, and the Components it chooses.
type Decoder struct {
	Root                           *config.Params // the whole config, for errors of the method's own parameters
	Models, LossFuncs, MiningFuncs *config.Params
	Embedder                       config.Built[nn.Embedder]
	BatchSize                      int
	Components
}

// Components are what a method chose in Decode.
type Components struct {
	Classifier config.Built[*nn.MLP] // Type "": no classifier head
	// Heads are classifier heads on slices of the embedding, instead of
	// Classifier (CascadedEmbeddings' classifier_<i>).
	Heads     []nn.Head
	Generator config.Built[*nn.Generator] // Type "": none
	// NumTriplets is the generator's triplets per step.
	NumTriplets int
	// Losses and Miners by the method's names (metric_loss, tuple_miner, ...).
	Losses map[string]config.Built[loss.Loss]
	Miners map[string]config.Built[miner.Miner]
	// ExtraWeights name loss_weights entries of losses the method computes
	// itself (no loss func).
	ExtraWeights []string
	// Views trains on several views of each image of a batch, made by the
	// transforms transforms.augmentation<N>, labelled by the image's
	// position in the batch, and batches drawn plain random.
	Views bool
	// TwoStream trains on the two streams of a TwoStream dataset: each
	// batch holds the anchors of its items, then their posnegs.
	TwoStream bool
	// Optimizers are the required optimiser keys beyond the trunk's,
	// embedder's, classifier's and metric loss's (generator_optimizer);
	// OptionalOptimizers the optional ones (classifier_<i>_optimizer),
	// without which a group is not trained.
	Optimizers, OptionalOptimizers []string
}

// Has reports whether the config p has key.
func Has(p *config.Params, key string) bool { return slices.Contains(p.Keys(), key) }

// Loss decodes the loss under loss_funcs.key (def when absent) and keeps
// it.
func (d *Decoder) Loss(key string, def config.Component) config.Built[loss.Loss] {
	f := config.BuildComponent(d.LossFuncs, loss.Losses, key, def)
	if d.Losses == nil {
		d.Losses = map[string]config.Built[loss.Loss]{}
	}
	d.Losses[key] = f
	return f
}

// Miner decodes the miner under mining_funcs.key, when configured, and
// keeps it; its tuples feed the loss decoded as loss_funcs.feeds, which
// must take them.
func (d *Decoder) Miner(key, feeds string) {
	if !Has(d.MiningFuncs, key) {
		return
	}
	if d.Miners == nil {
		d.Miners = map[string]config.Built[miner.Miner]{}
	}
	d.Miners[key] = config.BuildComponent(d.MiningFuncs, miner.Miners, key, config.Component{})
	if l := d.Losses[feeds]; l.Value != nil && !loss.TakesTuples(l.Value) {
		d.MiningFuncs.Fail(key, "loss_funcs.%s (%s) takes no miner tuples, as in PML: remove %s", feeds, l.Type, key)
	}
}

// DecodeClassifier decodes models.classifier (def when absent).
func (d *Decoder) DecodeClassifier(def config.Component) {
	d.Components.Classifier = config.BuildComponent(d.Models, nn.Classifiers, "classifier", def)
}
