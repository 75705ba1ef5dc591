// Package component lets a researcher add components to bench from their
// own Go program: a trainer, loss, miner, distance, reducer, regularizer,
// trunk, embedder, sampler, transform or dataset, registered under a config name, with its
// parameters read and validated as the built-in components' are. The
// program then runs bench's command line, cli.Main, so every command and
// config knows the new names:
//
//	func main() {
//		component.Losses.Register("CenterContrastiveLoss", newCenterContrastive)
//		cli.Main()
//	}
//
// and a config selects it as any other component:
//
//	loss_funcs:
//	  metric_loss:
//	    CenterContrastiveLoss: {neg_margin: 0.8}
//
// A constructor reads its parameters from Params (each read names its
// default and checks); a missing key takes the default, a wrong value or an
// unknown key is one error naming the file and key path, before anything
// runs. The resolved parameters, defaults included, are saved with the
// experiment, as for the built-in components. Register components before
// cli.Main: the jobs a launcher starts run the same executable, so they
// know them too. examples/custom_loss is a complete program.
//
// The types here are bench's own (aliases of its internal packages); what
// they document is the contract a component keeps.
package component

import (
	"image"
	"math/rand/v2"

	"gopkg.in/yaml.v3"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/loss/ad"
	"github.com/bench-ml/bench/internal/miner"
	"github.com/bench-ml/bench/internal/nn"
	"github.com/bench-ml/bench/internal/trainer"
)

// Params are a component's configured parameters. Float, Int, Bool,
// String, Floats, ... read one with its default and checks (Min, Max,
// Above, Below); Fail reports a problem with one; an unread key is an error.
type Params = config.Params

// Check validates a number parameter; Min, Max, Above and Below make them.
type Check = config.Check

// Checks of number parameters: inclusive (Min, Max) or strict (Above, Below) bounds.
var (
	Min   = config.Min
	Max   = config.Max
	Above = config.Above
	Below = config.Below
)

type (
	// Loss is a metric loss: its value and exact gradient for a batch.
	Loss = loss.Loss
	// Shaped is a loss with weights sized by the data (number of classes,
	// embedding size), such as proxies.
	Shaped = loss.Shaped
	// Weight is a learnable tensor of a loss, updated by metric_loss_optimizer.
	Weight = loss.Weight
	// Tuples are the pairs or triplets of a batch a miner chose.
	Tuples = loss.Tuples
	// Miner picks the tuples of a batch a loss is computed on.
	Miner = miner.Miner
	// Distance is a matrix of distances (or similarities) between embeddings.
	Distance = loss.Distance
	// Reducer turns a loss's per-element, per-pair or per-triplet losses into
	// a number; ReducerFunc makes one.
	Reducer = loss.Reducer
	// ReducerFunc is a Reducer from a function of one sub-loss's losses.
	ReducerFunc = loss.ReducerFunc
	// Regularizer is a penalty a loss adds on the batch's embeddings
	// (embedding_regularizer) or on its class weights, a row per class
	// (weight_regularizer); RegularizerFunc makes one.
	Regularizer = loss.Regularizer
	// RegularizerFunc is a Regularizer from a function of the rows.
	RegularizerFunc = loss.RegularizerFunc
	// Tape records operations on float64 matrices (Nodes) and computes
	// their gradient (Backward): what losses and distances compute on.
	Tape = ad.Tape
	// Node is a row-major matrix on a Tape, with its gradient.
	Node = ad.Node
	// Trunk is a trunk model. Its network is built by bench's internal
	// layers, so a new trunk name is a preset of a built-in one (see
	// Trunks).
	Trunk = nn.Trunk
	// Embedder is the embedder model (MLP, Identity, ListOfModels).
	Embedder = nn.Embedder
	// Dataset is a labelled image dataset.
	Dataset = data.Dataset
	// Opener opens a configured dataset under --dataset_root.
	Opener = data.Opener
	// Shape is an image's channels (1 or 3), height and width.
	Shape = data.Shape
	// Sampler gives the dataset indices of each training batch.
	Sampler = data.Sampler
	// SamplerFactory binds a configured sampler to a training set.
	SamplerFactory = data.SamplerFactory
	// Transform is one step of a transforms pipeline; ImageFunc makes one.
	Transform = data.Transform

	// Trainer is a training method (config key trainer): in Decode it
	// chooses its losses, miners and models, in Start it begins a fold.
	Trainer = trainer.Trainer
	// Behaviour is a method's training of one fold, step by step; embed
	// TrainerBase for the steps it leaves as they are.
	Behaviour = trainer.Behaviour
	// TrainerBase is the behaviour every method shares (PML's BaseTrainer).
	TrainerBase = trainer.Base
	// MetricLossOnly is the built-in method to build on: metric_loss on the
	// embeddings, on tuple_miner's tuples.
	MetricLossOnly = trainer.MetricLossOnly
	// Decoder is what a Trainer reads its components with.
	Decoder = trainer.Decoder
	// Fold is a fold's model, losses and miners, given to Trainer.Start.
	Fold = trainer.Fold
	// Step is one training step: the model's outputs, the losses added up
	// so far and their gradients.
	Step = trainer.Step
	// Config is a component as a config writes it, {Type: Params}: the
	// default a Decoder takes for an absent loss or model.
	Config = config.Component
)

// Stateful is a component that keeps state while it trains (learnt
// weights, a random stream, a memory of past batches). A constructor runs
// once per run; each fold takes Instance of its value, so a component
// whose state must not pass from one fold to the next implements Fresh,
// returning an independent copy in the state the constructor left it in.
// A component without Fresh is shared by the folds.
type Stateful[T any] = config.Stateful[T]

// Instance returns v for one fold: v.Fresh() when v is Stateful, else v.
// A component holding another (a sampler's miner, a loss's inner loss)
// takes its own instance with it, in its Fresh or per fold.
func Instance[T any](v T) T { return config.Instance(v) }

// Accumulate adds w*g to *dst, allocating it on first use: how a trainer
// adds a loss's gradient to a Step's.
func Accumulate(dst *[]float64, g []float64, w float64) { trainer.Accumulate(dst, g, w) }

// ImageFunc makes a Transform of a function that changes an image and keeps
// its channels and size, drawing any randomness from rng (the item's own
// generator, so a run is reproducible from its seed).
func ImageFunc(f func(img image.Image, rng *rand.Rand) image.Image) Transform {
	return data.ImageFunc(f)
}

// Registry holds the components of one kind by config name.
type Registry[T any] struct{ r *config.Registry[T] }

// The registries of every kind of component, by the config key that names
// one: trainer, loss_funcs, mining_funcs, a loss's or miner's distance and
// reducer, a loss's embedding_regularizer and weight_regularizer, models.trunk, models.embedder, sampler, transforms, dataset.
var (
	Trainers     = Registry[Trainer]{trainer.Trainers}
	Losses       = Registry[Loss]{loss.Losses}
	Miners       = Registry[Miner]{miner.Miners}
	Distances    = Registry[Distance]{loss.Distances}
	Reducers     = Registry[Reducer]{loss.Reducers}
	Regularizers = Registry[Regularizer]{loss.Regularizers}
	Trunks       = Registry[Trunk]{nn.Trunks}
	Embedders    = Registry[Embedder]{nn.Embedders}
	Samplers     = Registry[SamplerFactory]{data.Samplers}
	Transforms   = Registry[Transform]{data.Transforms}
	Datasets     = Registry[Opener]{data.Datasets}
)

// Register adds a component under its config name. The constructor reads
// the parameters from p; it is called once for every config that names the
// component, when the config is decoded, and its value serves every fold
// (see Stateful). Register panics when the name is taken.
func (r Registry[T]) Register(name string, ctor func(p *Params) T) { r.r.Register(name, ctor) }

// New builds a component as a config would, from its YAML form
// "{Name: {param: value}}": how to use one in a test of its own.
func (r Registry[T]) New(yamlComponent string) (T, error) {
	var zero T
	var raw any
	if err := yaml.Unmarshal([]byte(yamlComponent), &raw); err != nil {
		return zero, err
	}
	c, err := config.ParseComponent(raw, "", "")
	if err != nil {
		return zero, err
	}
	v, _, err := r.r.Build(c)
	return v, err
}

// Param builds the component given as parameter key of p (a loss's
// "distance", say), typeName with its defaults when the key is absent, and
// records its resolved parameters in p's.
func (r Registry[T]) Param(p *Params, key, typeName string) T {
	return config.BuildNested(p, r.r, key, config.C(typeName, nil))
}
