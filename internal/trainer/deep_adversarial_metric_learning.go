package trainer

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/nn"
)

// DeepAdversarialMetricLearning is TrainWithClassifier (the classifier
// optional) plus a generator that synthesises a hard negative for
// GTripletsPerAnchor random triplets per anchor: the first
// MetricAloneEpochs epochs train the metric alone, the next GAloneEpochs
// the generator alone, the rest both.
type DeepAdversarialMetricLearning struct {
	MetricAloneEpochs  int
	GAloneEpochs       int
	GTripletsPerAnchor int
}

func newDAML(p *config.Params) Trainer {
	return DeepAdversarialMetricLearning{
		MetricAloneEpochs:  p.Int("metric_alone_epochs", 0, config.Min(0)),
		GAloneEpochs:       p.Int("g_alone_epochs", 0, config.Min(0)),
		GTripletsPerAnchor: p.Int("g_triplets_per_anchor", 100, config.Min(1)),
	}
}

func (t DeepAdversarialMetricLearning) Decode(d *Decoder) {
	// The classifier is optional, as in PML's TrainWithClassifier.
	if Has(d.Models, "classifier") {
		d.DecodeClassifier(config.Component{})
	}
	if !Has(d.Models, "generator") {
		d.Models.Fail("generator", "is required by DeepAdversarialMetricLearning, e.g. {MLP: {layer_sizes: [1, 1], final_relu: true}}")
	} else {
		d.Generator = config.BuildComponent(d.Models, nn.Generators, "generator", config.Component{})
	}
	d.NumTriplets = d.BatchSize * t.GTripletsPerAnchor
	d.Loss("metric_loss", config.C("ContrastiveLoss", nil))
	if d.Classifier.Type != "" && !Has(d.LossFuncs, "classifier_loss") {
		d.Classifier = config.Built[*nn.MLP]{} // as PML's DAML: without a classifier_loss the classifier is unused
	}
	if d.Classifier.Type != "" {
		d.Loss("classifier_loss", config.C("CrossEntropyLoss", nil))
	}
	// synth_loss and g_adv_loss, which PML requires, are computed on the
	// packaged (anchor, positive, synthetic negative) triplets; Losses
	// evaluates them on the distinct rows only (the batch and the
	// synthetic negatives), which equals PML's value and gradient for a
	// loss of independent triplets: TripletMarginLoss, the DAML paper's.
	for _, key := range []string{"synth_loss", "g_adv_loss"} {
		if !Has(d.LossFuncs, key) {
			d.LossFuncs.Fail(key, "is required by DeepAdversarialMetricLearning, e.g. {TripletMarginLoss: {margin: 0.01}}")
			continue
		}
		if c := d.Loss(key, config.Component{}); c.Type != "" && c.Type != "TripletMarginLoss" {
			d.LossFuncs.Fail(key, "%s is not supported here: DeepAdversarialMetricLearning computes %s on packaged triplets, which needs TripletMarginLoss", c.Type, key)
		}
	}
	d.ExtraWeights = []string{"g_hard_loss", "g_reg_loss"}
	d.Miner("tuple_miner", "metric_loss")
	d.Optimizers = []string{"generator_optimizer"}
}

func (t DeepAdversarialMetricLearning) Start(f *Fold) (Behaviour, error) {
	for _, name := range slices.Sorted(maps.Keys(f.Losses)) {
		if len(f.Losses[name].Weights()) > 0 {
			return nil, &config.Error{Path: "loss_funcs." + name, Msg: "has learnable weights, which DeepAdversarialMetricLearning never " +
				"steps (PML's step_optimizers steps the models' optimisers only); use a loss without weights"}
		}
	}
	return &daml{cfg: t, fold: f, rand: f.Rand("g_triplets")}, nil
}

// daml is DeepAdversarialMetricLearning's training of a fold: the phase of
// the current epoch and the random triplets of the generator branch.
type daml struct {
	cfg      DeepAdversarialMetricLearning
	fold     *Fold
	phase    damlPhase
	rand     *rand.Rand // g_triplets: its state is kept in checkpoints
	triplets nn.Triplets
}

// damlPhase is what an epoch trains, as PML's update_loss_weights decides:
// the metric alone for the first metric_alone_epochs, then the generator
// alone for g_alone_epochs, then both.
type damlPhase struct{ metric, adv bool }

func (t DeepAdversarialMetricLearning) phaseOf(epoch int) damlPhase {
	metricAlone := epoch <= t.MetricAloneEpochs
	advAlone := !metricAlone && epoch <= t.MetricAloneEpochs+t.GAloneEpochs
	return damlPhase{metric: !advAlone, adv: !metricAlone}
}

// Uses reports whether the phase keeps a loss's weight; the others are 0.
func (d *daml) Uses(name string) bool {
	switch name {
	case "metric_loss", "classifier_loss":
		return d.phase.metric
	case "g_hard_loss", "g_reg_loss", "g_adv_loss":
		return d.phase.adv
	case "synth_loss":
		return d.phase.metric && d.phase.adv
	}
	return false
}

// Steps reports whether the phase steps a parameter group's optimiser, as
// PML's step_optimizers: trunk, embedder and classifier with the metric,
// the generator with the adversarial losses. (Loss weights are never
// stepped: Start rejects losses that have them.)
func (d *daml) Steps(group string) bool {
	switch group {
	case "trunk", "embedder", "classifier":
		return d.phase.metric
	case "generator":
		return d.phase.adv
	}
	return false
}

// StartEpoch sets the epoch's phase. The generator-alone phase puts the
// trunk in eval mode (PML's maybe_exclude_networks_from_gradient), so its
// BatchNorm layers use and keep their running statistics.
func (d *daml) StartEpoch(epoch int) {
	d.phase = d.cfg.phaseOf(epoch)
	d.fold.Model.SetFreezeTrunkBatchNorm(d.fold.FreezeTrunkBatchNorm || !d.phase.metric)
}

// BeforeStep samples the generator's triplets.
func (d *daml) BeforeStep(labels []int) error { return d.sampleTriplets(d.fold.Model, labels) }

// sampleTriplets draws g_triplets_per_anchor random triplets for every
// anchor of the batch, as PML's get_random_triplet_indices: positives
// without replacement when the anchor has enough of them, negatives with
// replacement. The count is fixed (the model's graph is), so every anchor
// needs a positive and a negative.
func (d *daml) sampleTriplets(m *nn.Model[float32], labels []int) error {
	k := d.cfg.GTripletsPerAnchor
	t := nn.Triplets{A: d.triplets.A[:0], P: d.triplets.P[:0], N: d.triplets.N[:0]}
	var pos, neg []int
	for a, la := range labels {
		pos, neg = pos[:0], neg[:0]
		for j, lj := range labels {
			switch {
			case lj != la:
				neg = append(neg, j)
			case j != a:
				pos = append(pos, j)
			}
		}
		if len(pos) == 0 || len(neg) == 0 {
			return fmt.Errorf("DeepAdversarialMetricLearning: anchor %d of the batch has no positive or no negative; "+
				"the generator needs both for every anchor (use MPerClassSampler with m >= 2 and batch_size >= 2m)", a)
		}
		if len(pos) >= k {
			d.rand.Shuffle(len(pos), func(i, j int) { pos[i], pos[j] = pos[j], pos[i] })
			t.P = append(t.P, pos[:k]...)
		} else {
			for range k {
				t.P = append(t.P, pos[d.rand.IntN(len(pos))])
			}
		}
		for range k {
			t.A = append(t.A, a)
			t.N = append(t.N, neg[d.rand.IntN(len(neg))])
		}
	}
	d.triplets = t
	return m.SetTriplets(t)
}

// Losses are DAML's losses for the phase: the metric (and classifier)
// losses of TrainWithClassifier, and on the synthetic triplets synth_loss,
// g_adv_loss (negated) and the generator's g_hard_loss and g_reg_loss.
//
// PML embeds the 3 x triplets rows [anchor, positive, synthetic negative]
// and packages each consecutive three as a triplet. The anchor and
// positive rows are rows of the batch, whose embeddings the model has
// computed already, so the losses here see the batch followed by the
// synthetic negatives, with triplets (a, p, batch + i): the same distances
// per triplet, hence the same TripletMarginLoss value and gradients, on
// batch + triplets rows instead of 3 x triplets.
func (d *daml) Losses(s *Step) error {
	if d.phase.metric {
		if err := metricLoss(s); err != nil {
			return err
		}
		if err := classifierLoss(s); err != nil {
			return err
		}
	}
	if !d.phase.adv {
		return nil
	}
	n, e, t := len(s.Labels), s.Fold.Model.EmbeddingSize(), s.Fold.Model.TrunkSize()
	count := len(d.triplets.A)
	rows := append(append(make([]float64, 0, (n+count)*e), s.Emb...), eval.Convert[float64](s.Out.SynthEmb)...)
	labels := append(make([]int, 0, n+count), s.Labels...)
	tuples := &loss.Tuples{Triplets: true, Anchor: d.triplets.A, Positive: d.triplets.P, Negative: make([]int, count)}
	for i, neg := range d.triplets.N {
		labels = append(labels, s.Labels[neg])
		tuples.Negative[i] = n + i
	}
	var g []float64
	if err := s.Add("synth_loss", rows, n+count, e, labels, tuples, &g, 1); err != nil {
		return err
	}
	if err := s.Add("g_adv_loss", rows, n+count, e, labels, tuples, &g, -1); err != nil {
		return err
	}
	if g != nil {
		Accumulate(&s.DEmb, g[:n*e], 1)
		Accumulate(&s.DSynthEmb, g[n*e:], 1)
	}
	synth, trunk := eval.Convert[float64](s.Out.Synth), eval.Convert[float64](s.Out.Trunk)
	s.addNormalizedMSE("g_hard_loss", synth, trunk, d.triplets.A, t)
	s.addNormalizedMSE("g_reg_loss", synth, trunk, d.triplets.N, t)
	return nil
}

// addNormalizedMSE adds the weighted mean squared error between the
// L2-normalised synthetic negatives (rows of synth) and the L2-normalised
// trunk outputs of the rows idx (torch's mse_loss of F.normalize), with its
// gradients with respect to both.
func (s *Step) addNormalizedMSE(name string, synth, trunk []float64, idx []int, dim int) {
	w := s.Weight(name)
	if w == 0 {
		return
	}
	size := float64(len(idx) * dim)
	ds, dx := make([]float64, len(synth)), make([]float64, len(trunk))
	gs, gx := make([]float64, dim), make([]float64, dim)
	var sum float64
	for i, r := range idx {
		sy, x := synth[i*dim:(i+1)*dim], trunk[r*dim:(r+1)*dim]
		u, nu := normalize(sy)
		v, nv := normalize(x)
		for j := range u {
			diff := u[j] - v[j]
			sum += diff * diff
			gs[j], gx[j] = 2*w*diff/size, -2*w*diff/size
		}
		normalizeGrad(ds[i*dim:(i+1)*dim], gs, u, nu)
		normalizeGrad(dx[r*dim:(r+1)*dim], gx, v, nv)
	}
	s.Total += w * sum / size
	s.Parts[name] = sum / size
	Accumulate(&s.DSynth, ds, 1)
	Accumulate(&s.DTrunk, dx, 1)
}

// normEps is F.normalize's eps: x / max(|x|, eps).
const normEps = 1e-12

func normalize(x []float64) ([]float64, float64) {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	norm := math.Sqrt(ss)
	u := make([]float64, len(x))
	for i, v := range x {
		u[i] = v / max(norm, normEps)
	}
	return u, norm
}

// normalizeGrad adds to dx the gradient through u = x/|x| of g = dL/du:
// (g - u (u.g)) / |x|, or g/eps where the norm is clamped.
func normalizeGrad(dx, g, u []float64, norm float64) {
	if norm <= normEps {
		for i, v := range g {
			dx[i] += v / normEps
		}
		return
	}
	var ug float64
	for i, v := range g {
		ug += u[i] * v
	}
	for i, v := range g {
		dx[i] += (v - u[i]*ug) / norm
	}
}
