package trainer

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/eval"
)

// TrainWithClassifier is MetricLossOnly plus a classifier head on the
// embeddings trained with classifier_loss on its logits.
type TrainWithClassifier struct{ Base }

func newTrainWithClassifier(*config.Params) Trainer { return TrainWithClassifier{} }

func (TrainWithClassifier) Decode(d *Decoder) {
	d.DecodeClassifier(config.C("MLP", nil))
	MetricLossOnly{}.Decode(d)
	d.Loss("classifier_loss", config.C("CrossEntropyLoss", nil))
}

func (t TrainWithClassifier) Start(*Fold) (Behaviour, error) { return t, nil }

func (TrainWithClassifier) Losses(s *Step) error {
	if err := metricLoss(s); err != nil {
		return err
	}
	return classifierLoss(s)
}

// classifierLoss is classifier_loss on the logits, when there is one.
func classifierLoss(s *Step) error {
	if _, ok := s.Fold.Losses["classifier_loss"]; !ok {
		return nil
	}
	n := len(s.Labels)
	return s.Add("classifier_loss", eval.Convert[float64](s.Out.Logits), n, s.Fold.Model.NumClasses(), s.Labels, nil, &s.DLogits, 1)
}
