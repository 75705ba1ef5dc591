package train

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/miner"
	"github.com/bench-ml/bench/internal/nn"
	"github.com/bench-ml/bench/internal/optim"
	"github.com/bench-ml/bench/internal/record"
)

// fold is the training of one split scheme.
type fold struct {
	env      *env
	split    data.Split
	folder   *record.Folder
	log      *logger
	classIDs map[int]int // dataset label -> 0..numClasses-1 over the training classes

	model     *nn.Model[float32]
	losses    map[string]loss.Loss   // by the trainer's loss names (metric_loss, ...)
	miners    map[string]miner.Miner // by name (tuple_miner, ...)
	rngs      map[string]*rand.PCG   // the random streams a checkpoint keeps: sampling miners', g_triplets
	modelOpts []modelOpt
	lossOpt   *optim.Optimizer[float64]
	sampler   data.Sampler
	daml      *daml // DeepAdversarialMetricLearning only

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
type foldState struct {
	Epoch      int     `json:"epoch"`
	BestEpoch  int     `json:"best_epoch"`
	BestMetric float64 `json:"best_metric"`
}

// trainFold trains one split scheme, keeping the latest and the best
// checkpoints, and stops after numEpochs (num_epochs_train) or when
// patience runs out.
func trainFold(ctx context.Context, e *env, folder *record.Folder, sp data.Split, numEpochs int, resume string, log *logger) error {
	f, err := newFold(e, folder, sp, log)
	if err != nil {
		return err
	}
	s := e.spec
	resumed, err := f.restore(resume)
	if err != nil {
		return err
	}
	if resumed {
		log.Info("resumed", "fold", sp.Name, "checkpoint", resume, "epoch", f.state.Epoch)
	} else if s.CheckUntrained {
		if err := f.checkUntrained(); err != nil {
			return err
		}
	}
	// Patience is checked after each evaluation only, as PML's
	// end_of_epoch_hook does; a resumed fold that had run out stays done.
	for f.state.Epoch < numEpochs && f.patienceLeft() {
		if err := f.trainEpoch(ctx, f.state.Epoch+1); err != nil {
			return err
		}
		f.state.Epoch++
		for _, o := range f.optimizers() {
			o.EndEpoch()
		}
		if f.state.Epoch%s.SaveInterval == 0 || f.state.Epoch == s.NumEpochs {
			if err := f.evaluateAndSave(); err != nil {
				return err
			}
		}
	}
	log.Info("fold trained", "fold", sp.Name, "best_epoch", f.state.BestEpoch, "val_"+s.PrimaryMetric, fmt.Sprintf("%.4f", f.state.BestMetric))
	return record.WriteJSON(filepath.Join(folder.Path, sp.Name, doneFile), FoldDone(f.state))
}

// patienceLeft reports whether the last evaluation leaves patience to go
// on: epoch - best_epoch <= patience, always with patience null.
func (f *fold) patienceLeft() bool {
	p := f.env.spec.Patience
	return p == nil || f.state.Epoch-f.state.BestEpoch <= *p || f.state.Epoch%f.env.spec.SaveInterval != 0
}

// iterations is the number of steps of an epoch: iterations_per_epoch, or
// one pass over the sampler when it is null (PML's len(dataloader)).
func (f *fold) iterations() int {
	if n := f.env.spec.IterationsPerEpoch; n > 0 {
		return n
	}
	return f.sampler.Len()
}

func newFold(e *env, folder *record.Folder, sp data.Split, log *logger) (*fold, error) {
	s := e.spec
	f := &fold{env: e, split: sp, folder: folder, log: log, classIDs: classIDs(e.ds, sp.Train),
		state: foldState{BestMetric: math.Inf(-1)}}
	var err error
	if f.model, err = e.newModel(len(f.classIDs)); err != nil {
		return nil, err
	}
	f.model.SetFreezeTrunkBatchNorm(s.FreezeTrunkBatchNorm)
	rng := rand.New(rand.NewPCG(s.Seed, 1))
	f.losses = map[string]loss.Loss{}
	for _, name := range slices.Sorted(maps.Keys(s.LossFuncs)) {
		dim := f.model.EmbeddingSize()
		if name == "classifier_loss" {
			dim = f.model.NumClasses()
		}
		if f.losses[name], err = buildLoss(s.LossFuncs[name], len(f.classIDs), dim, rng); err != nil {
			return nil, err
		}
	}
	f.rngs = map[string]*rand.PCG{}
	f.miners = map[string]miner.Miner{}
	for _, name := range slices.Sorted(maps.Keys(s.Miners)) {
		if f.miners[name], _, err = miner.Miners.Build(s.Miners[name]); err != nil {
			return nil, err
		}
		if r, ok := f.miners[name].(miner.Random); ok {
			// The run's seed drives a sampling miner; the checkpoint keeps
			// its generator's state so a resumed run draws on.
			f.rngs[name] = rand.NewPCG(s.Seed, streamOf(name))
			r.SetRand(rand.New(f.rngs[name]))
		}
	}
	if err := f.checkTrainer(); err != nil {
		return nil, err
	}
	if err := f.buildOptimizers(); err != nil {
		return nil, err
	}
	if s.Trainer.DAML != nil {
		f.daml = newDAML(*s.Trainer.DAML, s.Seed)
		f.rngs["g_triplets"] = f.daml.rng
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

// buildLoss builds a loss and, for a loss with per-class weights, sizes and
// initialises them from the fold's training classes.
func buildLoss(c config.Component, numClasses, dim int, rng *rand.Rand) (loss.Loss, error) {
	l, _, err := loss.Losses.Build(c)
	if err != nil {
		return nil, err
	}
	if sh, ok := l.(loss.Shaped); ok {
		if err := sh.SetShape(numClasses, dim); err != nil {
			return nil, &config.Error{Source: c.Source, Path: c.Where + "." + c.Type, Msg: err.Error()}
		}
		sh.InitWeights(rng)
	}
	return l, nil
}

// checkTrainer checks what the trainer needs of the built model and losses.
func (f *fold) checkTrainer() error {
	t := f.env.spec.Trainer
	if t.Cascaded != nil {
		if msg := t.Cascaded.CheckSize(f.model.EmbeddingSize()); msg != "" {
			return &config.Error{Path: "trainer.CascadedEmbeddings.embedding_sizes", Msg: msg}
		}
	}
	if t.DAML != nil {
		for _, name := range slices.Sorted(maps.Keys(f.losses)) {
			if len(f.losses[name].Weights()) > 0 {
				return &config.Error{Path: "loss_funcs." + name, Msg: "has learnable weights, which DeepAdversarialMetricLearning never " +
					"steps (PML's step_optimizers steps the models' optimisers only); use a loss without weights"}
			}
		}
	}
	return nil
}

// weight is a loss's weight in this step: its loss_weights entry, or 0
// when the DAML phase leaves the loss out.
func (f *fold) weight(name string) float64 {
	if f.daml != nil && !f.daml.phase.uses(name) {
		return 0
	}
	return f.env.spec.LossWeights[name]
}

// streamOf is the PCG stream of a named random generator of the fold; the
// seed is the run's. Stream 1 initialises loss weights.
func streamOf(name string) uint64 {
	switch name {
	case "tuple_miner":
		return 2
	case "g_triplets":
		return 3
	}
	var i uint64
	fmt.Sscanf(name, "tuple_miner_%d", &i)
	return 100 + i
}

// buildOptimizers gives each parameter group its configured optimiser.
func (f *fold) buildOptimizers() error {
	s := f.env.spec
	groups := f.model.Groups()
	for _, key := range []string{"trunk_optimizer", "embedder_optimizer", "classifier_optimizer", "generator_optimizer"} {
		group := key[:len(key)-len("_optimizer")]
		c, ok := s.Optimizers[key]
		if !ok || len(groups[group]) == 0 {
			continue
		}
		cfg, _, err := optim.Optimizers.Build(c)
		if err != nil {
			return err
		}
		f.modelOpts = append(f.modelOpts, modelOpt{group, optim.New(cfg, groups[group])})
	}
	weights := f.lossWeights()
	c, ok := s.Optimizers["metric_loss_optimizer"]
	switch {
	case len(weights) > 0 && !ok:
		return &config.Error{Path: "optimizers.metric_loss_optimizer",
			Msg: "is required: the metric loss has learnable weights (" + weights[0].Name + ")"}
	case len(weights) > 0:
		cfg, _, err := optim.Optimizers.Build(c)
		if err != nil {
			return err
		}
		f.lossOpt = optim.New(cfg, weights)
	}
	return nil
}

// lossWeights exposes the losses' learnable tensors to an optimiser, named
// after their loss; the params alias the losses' storage.
func (f *fold) lossWeights() []*optim.Param[float64] {
	var out []*optim.Param[float64]
	for _, name := range slices.Sorted(maps.Keys(f.losses)) {
		for _, w := range f.losses[name].Weights() {
			out = append(out, &optim.Param[float64]{Name: name + "." + w.Name, Shape: w.Shape, Value: w.Value, Grad: w.Grad})
		}
	}
	return out
}

// optimizers lists every optimiser, for the scheduler hooks.
func (f *fold) optimizers() []interface {
	EndIteration()
	EndEpoch()
	Plateau(float64)
} {
	var out []interface {
		EndIteration()
		EndEpoch()
		Plateau(float64)
	}
	for _, o := range f.modelOpts {
		out = append(out, o)
	}
	if f.lossOpt != nil {
		out = append(out, f.lossOpt)
	}
	return out
}

// trainEpoch runs iterations_per_epoch steps, loading the next batch while
// the current one trains. It stops before a step once ctx is cancelled:
// the epoch is then lost, and a resume starts it again from the last
// checkpoint.
func (f *fold) trainEpoch(ctx context.Context, epoch int) error {
	s := f.env.spec
	first := (epoch - 1) * f.iterations()
	last := first + f.iterations()
	batches := f.env.trainData.Prefetch(first, func(step int) []int {
		if step >= last {
			return nil
		}
		return f.sampler.Batch(step)
	})
	defer batches.Close()
	if f.daml != nil {
		f.daml.startEpoch(epoch, f.model, s.FreezeTrunkBatchNorm)
	}
	bar := f.log.bars.Bar(fmt.Sprintf("%s epoch %d/%d", f.split.Name, epoch, s.NumEpochs), last-first, "img", float64(s.BatchSize), f.log.exp.eta)
	defer bar.Done()
	for step := first; step < last; step++ {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped in epoch %d before iteration %d; %s: %w", epoch, step+1, f.lastCheckpoint(), context.Cause(ctx))
		}
		b, err := batches.Next()
		if err != nil {
			return err
		}
		row := map[string]float64{"iteration": float64(step + 1), "epoch": float64(epoch)}
		// The rates this step uses, read before the schedulers move them.
		var rates []string
		for _, o := range f.modelOpts {
			row["lr_"+o.group] = o.LR()
			rates = append(rates, "lr_"+o.group)
		}
		if f.lossOpt != nil {
			row["lr_metric_loss"] = f.lossOpt.LR()
			rates = append(rates, "lr_metric_loss")
		}
		value, parts, err := f.step(b)
		if err != nil {
			return fmt.Errorf("epoch %d, iteration %d: %w", epoch, step+1, err)
		}
		row["total_loss"] = value
		for k, v := range parts {
			row[k] = v
		}
		// In this order, whatever a map's: the steps, the losses, the
		// miners' counts, the rates.
		columns := slices.Concat([]string{"iteration", "epoch", "total_loss"}, slices.Sorted(maps.Keys(parts)), rates)
		f.lossTable.Add(row, columns...)
		f.log.exp.step()
		bar.SetStatus("loss %.4f", value)
		bar.Set(step - first + 1)
	}
	return nil
}

// lastCheckpoint says which checkpoint a resume would start from.
func (f *fold) lastCheckpoint() string {
	if f.saved > 0 {
		return fmt.Sprintf("the latest checkpoint is of epoch %d", f.saved)
	}
	return "no checkpoint yet, the fold will start over"
}

// step trains on one batch and returns the weighted loss, and each loss's
// value and each miner's tuple counts.
func (f *fold) step(b data.Batch) (float64, map[string]float64, error) {
	labels := make([]int, len(b.Labels))
	for i, l := range b.Labels {
		labels[i] = f.classIDs[l]
	}
	if f.daml != nil {
		if err := f.daml.sampleTriplets(f.model, labels); err != nil {
			return 0, nil, err
		}
	}
	var total float64
	var parts map[string]float64
	err := f.model.TrainStep(b.X, func(out nn.Outputs[float32]) (nn.Grads[float32], error) {
		l := newStepLosses(f, out, labels)
		var err error
		switch {
		case f.daml != nil:
			err = f.daml.losses(l)
		case f.env.spec.Trainer.Cascaded != nil:
			err = l.cascaded(f.env.spec.Trainer.Cascaded.EmbeddingSizes)
		default:
			err = l.metricAndClassifier()
		}
		total, parts = l.total, l.parts
		return l.grads(), err
	})
	if err != nil {
		return 0, nil, err
	}
	if math.IsNaN(total) || math.IsInf(total, 0) {
		return 0, nil, fmt.Errorf("the loss is %v: lower the learning rate or check the loss parameters", total)
	}
	for _, o := range f.modelOpts {
		if f.daml == nil || f.daml.phase.steps(o.group) {
			o.Step()
		}
		o.EndIteration()
	}
	if f.lossOpt != nil {
		f.lossOpt.Step()
		f.lossOpt.EndIteration()
	}
	return total, parts, nil
}

// checkUntrained evaluates before any training: the trunk alone, and the
// trunk with the untrained embedder (epoch 0 of the records).
func (f *fold) checkUntrained() error {
	for _, trunkOnly := range []bool{true, false} {
		metrics, err := f.evaluateSplits(trunkOnly)
		if err != nil {
			return err
		}
		what := "trunk + untrained embedder"
		if trunkOnly {
			what = "trunk only"
		}
		f.log.Info("untrained", "fold", f.split.Name, "model", what, "val", formatMetrics(metrics["val"], f.env.spec.PrimaryMetric))
		if trunkOnly {
			continue
		}
		f.recordAccuracies(0, metrics)
		// Epoch 0 competes for the best epoch, as in powerful_benchmarker
		// (only the trunk alone, its epoch -1, does not).
		f.state.BestMetric = metrics["val"][f.env.spec.PrimaryMetric]
		if err := f.save("best"); err != nil {
			return err
		}
	}
	return f.flush()
}

// evaluateAndSave evaluates the splits to eval, steps the plateau
// schedulers with the primary metric on val, and saves the latest
// checkpoint, and the best when val improved.
func (f *fold) evaluateAndSave() error {
	s := f.env.spec
	metrics, err := f.evaluateSplits(s.Tester.UseTrunkOutput)
	if err != nil {
		return err
	}
	f.recordAccuracies(f.state.Epoch, metrics)
	primary := metrics["val"][s.PrimaryMetric]
	for _, o := range f.optimizers() {
		o.Plateau(primary)
	}
	improved := primary > f.state.BestMetric
	if improved {
		f.state.BestEpoch, f.state.BestMetric = f.state.Epoch, primary
	}
	f.log.Info("evaluated", "fold", f.split.Name, "epoch", f.state.Epoch, "val", formatMetrics(metrics["val"], s.PrimaryMetric), "best", improved)
	// Records first, then best, then latest: a run killed in between
	// resumes from the previous latest, which cuts the records back and
	// trains this epoch again, rewriting best. So a checkpoint never
	// lacks the records before it, and best is never behind latest.
	if err := f.flush(); err != nil {
		return err
	}
	if improved {
		if err := f.save("best"); err != nil {
			return err
		}
	}
	if err := f.save("latest"); err != nil {
		return err
	}
	f.saved = f.state.Epoch
	f.log.Debug("checkpoint saved", "fold", f.split.Name, "epoch", f.state.Epoch, "folder", f.folder.ModelsDir(f.split.Name), "best", improved)
	return nil
}

// flush writes the fold's records and, from them, the experiment's
// databases.
func (f *fold) flush() error {
	if err := f.records.Flush(); err != nil {
		return err
	}
	return f.env.sync()
}

// evaluateSplits computes the metrics of each split to eval, compared with
// the tester's reference set. val always counts, as the best epoch is
// chosen on it.
func (f *fold) evaluateSplits(trunkOnly bool) (map[string]map[string]float64, error) {
	s := f.env.spec
	toEval := slices.Sorted(maps.Keys(f.accuracies))
	embs, labels := map[string][]float32{}, map[string][]int{}
	var dim int
	for _, name := range (eval.Tester{Reference: s.Tester.ReferenceSet}).Needs(toEval) {
		items := map[string][]int{"train": f.split.Train, "val": f.split.Val, "test": f.split.Test}[name]
		var err error
		if embs[name], dim, labels[name], err = f.env.embed(f.model, items, trunkOnly); err != nil {
			return nil, err
		}
	}
	out, err := f.env.test(embs, labels, toEval, dim, s.Tester.ReferenceSet)
	if err != nil {
		return nil, fmt.Errorf("evaluating %w", err)
	}
	return out, nil
}

func (f *fold) recordAccuracies(epoch int, metrics map[string]map[string]float64) {
	for name, m := range metrics {
		row := map[string]float64{"epoch": float64(epoch)}
		for k, v := range m {
			row[k] = v
		}
		f.accuracies[name].Add(row, append([]string{"epoch"}, slices.Sorted(maps.Keys(m))...)...)
	}
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
