package trainer

import "github.com/bench-ml/bench/internal/config"

// Trainers are the training methods by their PML names. A constructor reads
// the method's parameters (trainer.<Name>.*) and returns the configured
// method.
var Trainers = config.NewRegistry[Trainer]("trainer")

func init() {
	Trainers.Register("MetricLossOnly", newMetricLossOnly)
	Trainers.Register("TrainWithClassifier", newTrainWithClassifier)
	Trainers.Register("CascadedEmbeddings", newCascadedEmbeddings)
	Trainers.Register("DeepAdversarialMetricLearning", newDAML)
	Trainers.Register("UnsupervisedEmbeddingsUsingAugmentations", newUnsupervisedEmbeddingsUsingAugmentations)
	Trainers.Register("TwoStreamMetricLoss", newTwoStreamMetricLoss)
}
