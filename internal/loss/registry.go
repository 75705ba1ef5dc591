package loss

import "github.com/bench-ml/bench/internal/config"

// The registries of losses, distances, reducers and regularizers by their
// PML names.
var (
	Losses       = config.NewRegistry[Loss]("loss")
	Distances    = config.NewRegistry[Distance]("distance")
	Reducers     = config.NewRegistry[Reducer]("reducer")
	Regularizers = config.NewRegistry[Regularizer]("regularizer")
)

func init() {
	Losses.Register("ContrastiveLoss", newContrastive)
	Losses.Register("SignalToNoiseRatioContrastiveLoss", newSNRContrastive)
	Losses.Register("TripletMarginLoss", newTripletMargin)
	Losses.Register("MarginLoss", newMarginLoss)
	Losses.Register("MultiSimilarityLoss", newMultiSimilarity)
	Losses.Register("NTXentLoss", newNTXent)
	Losses.Register("SupConLoss", newSupCon)
	Losses.Register("CircleLoss", newCircle)
	Losses.Register("LiftedStructureLoss", newLiftedStructure)
	Losses.Register("GeneralizedLiftedStructureLoss", newGeneralizedLifted)
	Losses.Register("FastAPLoss", newFastAP)
	Losses.Register("TupletMarginLoss", newTupletMargin)
	Losses.Register("NCALoss", newNCA)
	Losses.Register("ProxyNCALoss", newProxyNCA)
	Losses.Register("ProxyAnchorLoss", newProxyAnchor)
	Losses.Register("NormalizedSoftmaxLoss", newNormalizedSoftmax)
	Losses.Register("CosFaceLoss", newCosFace)
	Losses.Register("ArcFaceLoss", newArcFace)
	Losses.Register("SubCenterArcFaceLoss", newSubCenterArcFace)
	Losses.Register("LargeMarginSoftmaxLoss", newLargeMarginSoftmax)
	Losses.Register("SphereFaceLoss", newSphereFace)
	Losses.Register("SoftTripleLoss", newSoftTriple)
	Losses.Register("AngularLoss", newAngular)
	Losses.Register("NPairsLoss", newNPairs)
	Losses.Register("IntraPairVarianceLoss", newIntraPairVariance)
	Losses.Register("InstanceLoss", newInstance)
	Losses.Register("RankedListLoss", newRankedList)
	Losses.Register("PNPLoss", newPNP)
	Losses.Register("HistogramLoss", newHistogram)
	Losses.Register("ThresholdConsistentMarginLoss", newThresholdConsistentMargin)
	Losses.Register("DynamicSoftMarginLoss", newDynamicSoftMargin)
	Losses.Register("P2SGradLoss", newP2SGrad)
	Losses.Register("CrossEntropyLoss", newCrossEntropy)
	Losses.Register("CrossBatchMemory", newCrossBatchMemory)

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

	Regularizers.Register("LpRegularizer", newLpRegularizer)
	Regularizers.Register("ZeroMeanRegularizer", newZeroMeanRegularizer)
	Regularizers.Register("CenterInvariantRegularizer", newCenterInvariantRegularizer)
	Regularizers.Register("RegularFaceRegularizer", newRegularFaceRegularizer)
	Regularizers.Register("SparseCentersRegularizer", newSparseCentersRegularizer)
}
