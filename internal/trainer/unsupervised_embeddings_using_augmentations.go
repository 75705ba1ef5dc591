package trainer

import "github.com/bench-ml/bench/internal/config"

// UnsupervisedEmbeddingsUsingAugmentations is MetricLossOnly without the
// dataset's labels: each image of a batch is seen once per
// transforms.augmentation<N>, and the views of one image are the positives
// (their label is the image's position in the batch), as PML's trainer with
// powerful_benchmarker's settings (plain random batches; transforms.train
// unused).
type UnsupervisedEmbeddingsUsingAugmentations struct{ MetricLossOnly }

func newUnsupervisedEmbeddingsUsingAugmentations(*config.Params) Trainer {
	return UnsupervisedEmbeddingsUsingAugmentations{}
}

func (t UnsupervisedEmbeddingsUsingAugmentations) Decode(d *Decoder) {
	t.MetricLossOnly.Decode(d)
	d.Views = true
}

func (t UnsupervisedEmbeddingsUsingAugmentations) Start(*Fold) (Behaviour, error) { return t, nil }
