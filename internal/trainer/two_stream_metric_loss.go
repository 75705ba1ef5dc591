package trainer

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/miner"
)

// TwoStreamMetricLoss is PML's TwoStreamMetricLoss: it trains on the items
// of a TwoStream dataset, each an anchor and a posneg of one label (a photo
// and a sketch, say), both embedded by the same trunk and embedder.
// tuple_miner mines the anchors against the posnegs (PML's ref_emb, with
// the anchor's own posneg a positive), or, without a miner, every triplet
// of an anchor, a posneg of its label and a posneg of another label;
// metric_loss is then computed, as in PML, on the anchors' and posnegs'
// embeddings stacked (2n rows, the labels twice) with the tuples'
// positives and negatives moved to the posneg rows.
//
// PML embeds the two streams in two forward passes; here they are one
// batch of 2n images, so batch normalisation sees both streams at once.
type TwoStreamMetricLoss struct{ Base }

func newTwoStreamMetricLoss(*config.Params) Trainer { return TwoStreamMetricLoss{} }

func (TwoStreamMetricLoss) Decode(d *Decoder) {
	d.Loss("metric_loss", config.C("ContrastiveLoss", nil))
	d.Miner("tuple_miner", "metric_loss")
	if Has(d.MiningFuncs, "subset_batch_miner") {
		d.MiningFuncs.Fail("subset_batch_miner", "is not supported by TwoStreamMetricLoss: a subset of the stacked batch would break its pairs of anchor and posneg")
	}
	d.TwoStream = true
}

func (t TwoStreamMetricLoss) Start(*Fold) (Behaviour, error) { return t, nil }

// Losses: the step's rows are the n anchors, then their n posnegs.
func (TwoStreamMetricLoss) Losses(s *Step) error {
	n2, d := len(s.Labels), s.Fold.Model.EmbeddingSize()
	n := n2 / 2
	labels := s.Labels[:n]
	var tuples *loss.Tuples
	if _, ok := s.Fold.Miners["tuple_miner"]; ok {
		var err error
		if tuples, err = s.MineRef("tuple_miner", s.Emb[:n*d], n, labels, s.Emb[n*d:], n, labels, d); err != nil {
			return err
		}
	} else {
		tuples = miner.AllRefTriplets(labels, labels)
	}
	return s.Add("metric_loss", s.Emb, n2, d, s.Labels, shiftRefs(tuples, n), &s.DEmb, 1)
}

// shiftRefs moves the references of tuples mined against n references
// stacked after n anchors: positives and negatives by n (PML's
// shift_indices_tuple).
func shiftRefs(t *loss.Tuples, n int) *loss.Tuples {
	shift := func(idx []int) []int {
		out := make([]int, len(idx))
		for i, v := range idx {
			out[i] = v + n
		}
		return out
	}
	return &loss.Tuples{Triplets: t.Triplets, A1: t.A1, P: shift(t.P), A2: t.A2, N: shift(t.N),
		Anchor: t.Anchor, Positive: shift(t.Positive), Negative: shift(t.Negative)}
}
