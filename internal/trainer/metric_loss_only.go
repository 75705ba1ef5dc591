package trainer

import "github.com/bench-ml/bench/internal/config"

// MetricLossOnly trains the trunk and embedder with metric_loss on the
// embeddings, on tuple_miner's tuples when one is configured.
type MetricLossOnly struct{ Base }

func newMetricLossOnly(*config.Params) Trainer { return MetricLossOnly{} }

func (MetricLossOnly) Decode(d *Decoder) {
	d.Loss("metric_loss", config.C("ContrastiveLoss", nil))
	d.Miner("tuple_miner", "metric_loss")
}

func (t MetricLossOnly) Start(*Fold) (Behaviour, error) { return t, nil }

func (MetricLossOnly) Losses(s *Step) error { return metricLoss(s) }

// metricLoss is metric_loss on the embeddings with tuple_miner's tuples.
func metricLoss(s *Step) error {
	n, d := len(s.Labels), s.Fold.Model.EmbeddingSize()
	tuples, err := s.Mine("tuple_miner", s.Emb, n, d)
	if err != nil {
		return err
	}
	return s.Add("metric_loss", s.Emb, n, d, s.Labels, tuples, &s.DEmb, 1)
}
