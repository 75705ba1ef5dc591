package nn

import "github.com/bench-ml/bench/internal/config"

// The models config's components: models.trunk, models.embedder and
// models.classifier (TrainWithClassifier's head, whose output size, the
// number of classes, is appended to its layer_sizes as powerful_benchmarker
// does).
var (
	Trunks      = config.NewRegistry[Trunk]("trunk")
	Embedders   = config.NewRegistry[Embedder]("embedder")
	Classifiers = config.NewRegistry[*MLP]("classifier")
	Generators  = config.NewRegistry[*Generator]("generator")
)

func init() {
	Trunks.Register("ConvNet", newConvNet)
	Trunks.Register("ResNet", newResNet)
	Trunks.Register("Identity", newIdentity)
	Embedders.Register("MLP", func(p *config.Params) Embedder { return newMLP([]int{128})(p) })
	Embedders.Register("Identity", newIdentityEmbedder)
	Embedders.Register("ListOfModels", newListOfModels)
	Classifiers.Register("MLP", newMLP([]int{}))
	Generators.Register("MLP", newGenerator)
}
