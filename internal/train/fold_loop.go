package train

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/nn"
	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/trainer"
)

// Training a fold built by newFold (fold_build.go): epochs of steps, each
// evaluation, checkpoints and early stopping.

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
	log.Info("fold trained", "fold", sp.Name, "best_epoch", f.state.BestEpoch, "val_"+s.PrimaryKey(), fmt.Sprintf("%.4f", f.state.BestMetric))
	return expfolder.WriteDone(folder, sp.Name, f.state)
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
	if es, ok := f.sampler.(data.EpochSampler); ok {
		if err := es.StartEpoch(epoch, f.embedItems); err != nil {
			return fmt.Errorf("epoch %d: sampler: %w", epoch, err)
		}
	}
	batches := f.env.trainData.Prefetch(first, func(step int) []int {
		if step >= last {
			return nil
		}
		return f.sampler.Batch(step)
	})
	defer batches.Close()
	f.behaviour.StartEpoch(epoch)
	bar := f.log.bars.Bar(fmt.Sprintf("%s epoch %d/%d", f.split.Name, epoch, s.NumEpochs), last-first, "img", float64(s.TrainBatchSize()), f.log.exp.eta)
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

// embedItems embeds dataset items with the model being trained and the
// eval transforms, for an EpochSampler.
func (f *fold) embedItems(items []int) ([]float64, int, error) {
	emb, dim, _, err := f.env.embedFrom(f.env.evalData, f.Model, items, false)
	return eval.Convert[float64](emb), dim, err
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
	labels := b.Labels // the views' labels are their image's position in the batch
	if len(f.env.spec.TrainViews) == 0 {
		labels = make([]int, len(b.Labels))
		for i, l := range b.Labels {
			labels[i] = f.classIDs[l]
		}
	}
	x := b.X
	if f.subsetMiner != nil {
		var err error
		if x, labels, err = f.mineSubset(b.X, labels); err != nil {
			return 0, nil, err
		}
	}
	if err := f.behaviour.BeforeStep(labels); err != nil {
		return 0, nil, err
	}
	var total float64
	var parts map[string]float64
	err := f.Model.TrainStep(x, func(out nn.Outputs[float32]) (nn.Grads[float32], error) {
		st := trainer.NewStep(&f.Fold, f.behaviour, out, labels)
		err := f.behaviour.Losses(st)
		total, parts = st.Total, st.Parts
		return st.Grads(), err
	})
	if err != nil {
		return 0, nil, err
	}
	if math.IsNaN(total) || math.IsInf(total, 0) {
		return 0, nil, fmt.Errorf("the loss is %v: lower the learning rate or check the loss parameters", total)
	}
	for _, o := range f.modelOpts {
		if f.behaviour.Steps(o.group) {
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

// mineSubset returns the images and labels of the subset batch miner's
// choice among the batch x, made on their embeddings in eval mode, as PML's
// maybe_do_batch_mining.
func (f *fold) mineSubset(x []float32, labels []int) ([]float32, []int, error) {
	n, d := len(labels), f.Model.EmbeddingSize()
	emb, err := f.Model.Embed(x, n)
	if err != nil {
		return nil, nil, err
	}
	idx, err := f.subsetMiner.Subset(eval.Convert[float64](emb), n, d, labels)
	if err != nil {
		return nil, nil, fmt.Errorf("subset_batch_miner: %w", err)
	}
	size := f.Model.InputSize()
	subX, subLabels := make([]float32, 0, len(idx)*size), make([]int, len(idx))
	for j, i := range idx {
		subX = append(subX, x[i*size:(i+1)*size]...)
		subLabels[j] = labels[i]
	}
	return subX, subLabels, nil
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
		f.log.Info("untrained", "fold", f.split.Name, "model", what, "val", formatMetrics(metrics["val"], f.env.spec.PrimaryKey()))
		if trunkOnly {
			continue
		}
		f.recordAccuracies(0, metrics)
		// Epoch 0 competes for the best epoch, as in powerful_benchmarker
		// (only the trunk alone, its epoch -1, does not).
		f.state.BestMetric = metrics["val"][f.env.spec.PrimaryKey()]
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
	primary := metrics["val"][s.PrimaryKey()]
	for _, o := range f.optimizers() {
		o.Plateau(primary)
	}
	improved := primary > f.state.BestMetric
	if improved {
		f.state.BestEpoch, f.state.BestMetric = f.state.Epoch, primary
	}
	f.log.Info("evaluated", "fold", f.split.Name, "epoch", f.state.Epoch, "val", formatMetrics(metrics["val"], s.PrimaryKey()), "best", improved)
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
		if embs[name], dim, labels[name], err = f.env.embed(f.Model, items, trunkOnly); err != nil {
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
