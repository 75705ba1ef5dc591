package train

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/miner"
	"github.com/bench-ml/bench/internal/optim"
	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/trainer"
)

// Building a fold: its fresh model, losses, miners and optimisers from the
// spec's decoded components, and the trainer's behaviour. (fold_loop.go
// trains it.)

// fold is the training of one split scheme.
type fold struct {
	env      *env
	split    data.Split
	folder   *record.Folder
	log      *logger
	classIDs map[int]int // dataset label -> 0..numClasses-1 over the training classes

	// trainer.Fold holds the fold's model, losses, miners and the random
	// streams a checkpoint keeps; behaviour is the trainer's training.
	trainer.Fold
	behaviour trainer.Behaviour
	// subsetMiner, when configured, picks the items of each loaded batch
	// the step trains on.
	subsetMiner miner.SubsetMiner
	modelOpts   []modelOpt
	lossOpt     *optim.Optimizer[float64]
	sampler     data.Sampler

	records    *record.Records
	lossTable  *record.Table
	accuracies map[string]*record.Table // by split name

	state foldState
	saved int // the epoch of the latest checkpoint, 0 before the first
}

// modelOpt is the optimiser of one parameter group of the model.
type modelOpt struct {
	group string // trunk, embedder, classifier, generator
	*optim.Optimizer[float32]
}

// foldState is what a checkpoint needs besides tensors.
type foldState = expfolder.FoldState

func newFold(e *env, folder *record.Folder, sp data.Split, log *logger) (*fold, error) {
	s := e.spec
	f := &fold{env: e, split: sp, folder: folder, log: log, classIDs: classIDs(e.ds, sp.Train),
		state: foldState{BestMetric: math.Inf(-1)}}
	f.Fold = trainer.Fold{Weights: s.LossWeights, Seed: s.Seed, FreezeTrunkBatchNorm: s.FreezeTrunkBatchNorm}
	var err error
	if f.Model, err = e.newModel(len(f.classIDs)); err != nil {
		return nil, err
	}
	f.Model.SetFreezeTrunkBatchNorm(s.FreezeTrunkBatchNorm)
	rng := rand.New(rand.NewPCG(s.Seed, 1))
	f.Losses = map[string]loss.Loss{}
	for _, name := range slices.Sorted(maps.Keys(s.LossFuncs)) {
		dim := f.Model.EmbeddingSize()
		if strings.HasPrefix(name, "classifier_loss") { // classifier_loss_<i> of a head too
			dim = f.Model.NumClasses()
		}
		if f.Losses[name], err = newLoss(s.LossFuncs[name], len(f.classIDs), dim, rng); err != nil {
			return nil, err
		}
		if set, ok := loss.Randomized(f.Losses[name]); ok {
			set(f.Rand("loss/" + name))
		}
	}
	f.Miners = map[string]miner.Miner{}
	for _, name := range slices.Sorted(maps.Keys(s.Miners)) {
		f.Miners[name] = config.Instance(s.Miners[name].Value)
		if r, ok := f.Miners[name].(miner.Random); ok {
			r.SetRand(f.Rand(name))
		}
	}
	if s.SubsetMiner.Value != nil {
		f.subsetMiner = config.Instance(s.SubsetMiner.Value)
		if r, ok := f.subsetMiner.(miner.Random); ok {
			r.SetRand(f.Rand("subset_batch_miner"))
		}
	}
	if f.behaviour, err = s.Trainer.Value.Start(&f.Fold); err != nil {
		return nil, err
	}
	if err := f.buildOptimizers(); err != nil {
		return nil, err
	}
	if f.sampler, err = s.Sampler(e.ds, sp.Train, s.BatchSize, s.Seed); err != nil {
		return nil, fmt.Errorf("sampler: %w", err)
	}
	f.records = record.NewRecords(folder.RecordsDir(sp.Name))
	f.lossTable = f.records.Table("losses", "iteration")
	f.accuracies = map[string]*record.Table{}
	for _, name := range s.SplitsToEval {
		f.accuracies[name] = f.records.Table("accuracies_"+name, "epoch")
	}
	return f, nil
}

// newLoss makes the fold's instance of a loss and, for a loss with
// per-class weights, sizes and initialises them from the fold's training
// classes.
func newLoss(c config.Built[loss.Loss], numClasses, dim int, rng *rand.Rand) (loss.Loss, error) {
	l := config.Instance(c.Value)
	if sh, ok := l.(loss.Shaped); ok {
		if err := sh.SetShape(numClasses, dim); err != nil {
			return nil, &config.Error{Source: c.Source, Path: config.JoinPath(c.Where, c.Type), Err: err}
		}
		sh.InitWeights(rng)
	}
	return l, nil
}

// buildOptimizers gives each parameter group its configured optimiser.
func (f *fold) buildOptimizers() error {
	s := f.env.spec
	groups := f.Model.Groups()
	// The fixed groups first, then the classifier heads' (classifier_<i>).
	order := []string{"trunk", "embedder", "classifier", "generator"}
	for _, group := range slices.Sorted(maps.Keys(groups)) {
		if !slices.Contains(order, group) {
			order = append(order, group)
		}
	}
	for _, group := range order {
		c, ok := s.Optimizers[group+"_optimizer"]
		if !ok || len(groups[group]) == 0 {
			continue
		}
		f.modelOpts = append(f.modelOpts, modelOpt{group, optim.New(c.Value, groups[group])})
	}
	weights := f.lossWeights()
	c, ok := s.Optimizers["metric_loss_optimizer"]
	switch {
	case len(weights) > 0 && !ok:
		return &config.Error{Path: "optimizers.metric_loss_optimizer",
			Msg: "is required: the metric loss has learnable weights (" + weights[0].Name + ")"}
	case len(weights) > 0:
		f.lossOpt = optim.New(c.Value, weights)
	}
	return nil
}

// lossWeights exposes the losses' learnable tensors to an optimiser, named
// after their loss; the params alias the losses' storage.
func (f *fold) lossWeights() []*optim.Param[float64] {
	return f.lossTensors(loss.Loss.Weights)
}

// lossState is what a checkpoint keeps of the losses: their weights and
// their buffers.
func (f *fold) lossState() []*optim.Param[float64] {
	return append(f.lossWeights(), f.lossTensors(loss.Buffers)...)
}

// lossTensors are the tensors of the fold's losses that of gives, named
// <loss>.<tensor>.
func (f *fold) lossTensors(of func(loss.Loss) []*loss.Weight) []*optim.Param[float64] {
	var out []*optim.Param[float64]
	for _, name := range slices.Sorted(maps.Keys(f.Losses)) {
		for _, w := range of(f.Losses[name]) {
			out = append(out, &optim.Param[float64]{Name: name + "." + w.Name, Shape: w.Shape, Value: w.Value, Grad: w.Grad})
		}
	}
	return out
}

// classIDs numbers the classes of the training items 0..C-1 in label
// order, as losses with per-class weights and the classifier need.
func classIDs(ds data.Dataset, items []int) map[int]int {
	seen := map[int]bool{}
	for _, i := range items {
		seen[ds.Label(i)] = true
	}
	labels := make([]int, 0, len(seen))
	for l := range seen {
		labels = append(labels, l)
	}
	sort.Ints(labels)
	ids := make(map[int]int, len(labels))
	for i, l := range labels {
		ids[l] = i
	}
	return ids
}
