package data

import "github.com/bench-ml/bench/internal/config"

// One registry per kind of component; adding one is a file and a line here.
var (
	Datasets      = config.NewRegistry[Opener]("dataset")
	SplitManagers = config.NewRegistry[SplitManager]("split manager")
	Samplers      = config.NewRegistry[SamplerFactory]("sampler")
	Transforms    = config.NewRegistry[Transform]("transform")
)

func init() {
	Datasets.Register("Glyphs", newGlyphs)
	Datasets.Register("Omniglot", newOmniglot)
	Datasets.Register("ImageFolder", newImageFolder)
	Datasets.Register("CUB200", newCUB200)
	Datasets.Register("Cars196", newCars196)
	Datasets.Register("StanfordOnlineProducts", newSOP)
	Datasets.Register("MNIST", newMNIST)
	Datasets.Register("FashionMNIST", newFashionMNIST)
	Datasets.Register("TwoStream", newTwoStream)

	SplitManagers.Register("ClassDisjointSplitManager", newClassDisjoint)
	SplitManagers.Register("IndexSplitManager", newIndex)
	SplitManagers.Register("MLRCSplitManager", newMLRC)
	SplitManagers.Register("ClosedSetSplitManager", newClosedSet)
	SplitManagers.Register("PredefinedSplitManager", newPredefined)

	Samplers.Register("MPerClassSampler", newMPerClass)
	Samplers.Register("TuplesToWeightsSampler", newTuplesToWeights)

	Transforms.Register("Resize", newResize)
	Transforms.Register("CenterCrop", newCenterCrop)
	Transforms.Register("RandomResizedCrop", newRandomResizedCrop)
	Transforms.Register("RandomRotation", newRandomRotation)
	Transforms.Register("ColorJitter", newColorJitter)
	Transforms.Register("Grayscale", newGrayscale)
	Transforms.Register("ToTensor", newToTensor)
	Transforms.Register("Normalize", newNormalize)
}
