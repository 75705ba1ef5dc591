package train

import (
	"fmt"
	"github.com/bench-ml/bench/internal/eval"
	"math"
	"math/rand/v2"

	"github.com/bench-ml/bench/internal/experiment"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/nn"
)

// daml is the state of DeepAdversarialMetricLearning in a fold: the phase
// of the current epoch and the random triplets of the generator branch.
type daml struct {
	cfg      experiment.DAML
	phase    damlPhase
	rng      *rand.PCG // g_triplets: kept in checkpoints
	rand     *rand.Rand
	triplets nn.Triplets
}

func newDAML(cfg experiment.DAML, seed uint64) *daml {
	rng := rand.NewPCG(seed, streamOf("g_triplets"))
	return &daml{cfg: cfg, rng: rng, rand: rand.New(rng)}
}

// damlPhase is what an epoch trains, as PML's update_loss_weights decides:
// the metric alone for the first metric_alone_epochs, then the generator
// alone for g_alone_epochs, then both.
type damlPhase struct{ metric, adv bool }

func phaseOf(cfg experiment.DAML, epoch int) damlPhase {
	metricAlone := epoch <= cfg.MetricAloneEpochs
	advAlone := !metricAlone && epoch <= cfg.MetricAloneEpochs+cfg.GAloneEpochs
	return damlPhase{metric: !advAlone, adv: !metricAlone}
}

// uses reports whether the phase keeps a loss's weight; the others are 0.
func (p damlPhase) uses(name string) bool {
	switch name {
	case "metric_loss", "classifier_loss":
		return p.metric
	case "g_hard_loss", "g_reg_loss", "g_adv_loss":
		return p.adv
	case "synth_loss":
		return p.metric && p.adv
	}
	return false
}

// steps reports whether the phase steps a parameter group's optimiser, as
// PML's step_optimizers: trunk, embedder and classifier with the metric,
// the generator with the adversarial losses. (Loss weights are never
// stepped: DAML rejects losses that have them.)
func (p damlPhase) steps(group string) bool {
	switch group {
	case "trunk", "embedder", "classifier":
		return p.metric
	case "generator":
		return p.adv
	}
	return false
}

// startEpoch sets the epoch's phase. The generator-alone phase puts the
// trunk in eval mode (PML's maybe_exclude_networks_from_gradient), so its
// BatchNorm layers use and keep their running statistics.
func (d *daml) startEpoch(epoch int, m *nn.Model[float32], freezeTrunkBatchNorm bool) {
	d.phase = phaseOf(d.cfg, epoch)
	m.SetFreezeTrunkBatchNorm(freezeTrunkBatchNorm || !d.phase.metric)
}

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

// losses are DAML's losses for the phase: the metric (and classifier)
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
func (d *daml) losses(l *stepLosses) error {
	if d.phase.metric {
		if err := l.metricAndClassifier(); err != nil {
			return err
		}
	}
	if !d.phase.adv {
		return nil
	}
	n, e, t := len(l.labels), l.f.model.EmbeddingSize(), l.f.model.TrunkSize()
	count := len(d.triplets.A)
	rows := append(append(make([]float64, 0, (n+count)*e), l.emb...), eval.Convert[float64](l.out.SynthEmb)...)
	labels := append(make([]int, 0, n+count), l.labels...)
	tuples := &loss.Tuples{Triplets: true, Anchor: d.triplets.A, Positive: d.triplets.P, Negative: make([]int, count)}
	for i, neg := range d.triplets.N {
		labels = append(labels, l.labels[neg])
		tuples.Negative[i] = n + i
	}
	var g []float64
	if err := l.add("synth_loss", rows, n+count, e, labels, tuples, &g, 1); err != nil {
		return err
	}
	if err := l.add("g_adv_loss", rows, n+count, e, labels, tuples, &g, -1); err != nil {
		return err
	}
	if g != nil {
		accumulate(&l.dEmb, g[:n*e], 1)
		accumulate(&l.dSynthEmb, g[n*e:], 1)
	}
	synth, trunk := eval.Convert[float64](l.out.Synth), eval.Convert[float64](l.out.Trunk)
	l.addNormalizedMSE("g_hard_loss", synth, trunk, d.triplets.A, t)
	l.addNormalizedMSE("g_reg_loss", synth, trunk, d.triplets.N, t)
	return nil
}

// addNormalizedMSE adds the weighted mean squared error between the
// L2-normalised synthetic negatives (rows of synth) and the L2-normalised
// trunk outputs of the rows idx (torch's mse_loss of F.normalize), with its
// gradients with respect to both.
func (l *stepLosses) addNormalizedMSE(name string, synth, trunk []float64, idx []int, dim int) {
	w := l.f.weight(name)
	if w == 0 {
		return
	}
	size := float64(len(idx) * dim)
	ds, dx := make([]float64, len(synth)), make([]float64, len(trunk))
	gs, gx := make([]float64, dim), make([]float64, dim)
	var sum float64
	for i, r := range idx {
		s, x := synth[i*dim:(i+1)*dim], trunk[r*dim:(r+1)*dim]
		u, nu := normalize(s)
		v, nv := normalize(x)
		for j := range u {
			diff := u[j] - v[j]
			sum += diff * diff
			gs[j], gx[j] = 2*w*diff/size, -2*w*diff/size
		}
		normalizeGrad(ds[i*dim:(i+1)*dim], gs, u, nu)
		normalizeGrad(dx[r*dim:(r+1)*dim], gx, v, nv)
	}
	l.total += w * sum / size
	l.parts[name] = sum / size
	accumulate(&l.dSynth, ds, 1)
	accumulate(&l.dTrunk, dx, 1)
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
