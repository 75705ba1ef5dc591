package loss

import "github.com/bench-ml/bench/internal/config"

// The registries of losses, distances and reducers by their PML names.
var (
	Losses    = config.NewRegistry[Loss]("loss")
	Distances = config.NewRegistry[Distance]("distance")
	Reducers  = config.NewRegistry[Reducer]("reducer")
)

func init() {
	Losses.Register("ContrastiveLoss", newContrastive)
	Losses.Register("SignalToNoiseRatioContrastiveLoss", newSNRContrastive)
	Losses.Register("TripletMarginLoss", newTripletMargin)
	Losses.Register("MarginLoss", newMarginLoss)

	Distances.Register("LpDistance", newLpDistance)
	Distances.Register("CosineSimilarity", newCosineSimilarity)
	Distances.Register("DotProductSimilarity", newDotProductSimilarity)
	Distances.Register("SNRDistance", newSNRDistance)

	Reducers.Register("MeanReducer", newMeanReducer)
	Reducers.Register("SumReducer", newSumReducer)
	Reducers.Register("AvgNonZeroReducer", newAvgNonZeroReducer)
	Reducers.Register("ThresholdReducer", newThresholdReducer)
	Reducers.Register("DivisorReducer", newDivisorReducer)
	Reducers.Register("DoNothingReducer", newDoNothingReducer)
}
