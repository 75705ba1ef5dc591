package train

import (
	"fmt"
	"maps"
	"slices"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/nn"
	"github.com/bench-ml/bench/internal/progress"
	"github.com/bench-ml/bench/internal/spec"
)

// modelExt is the file extension of a model checkpoint.
const modelExt = ".safetensors"

// env is what every fold of an experiment shares: the spec, the dataset and
// its loaders.
type env struct {
	spec       *spec.Spec
	ds         data.Dataset
	trainData  source
	evalData   source
	numClasses int                // of the whole dataset; a fold's training set has fewer
	bars       *progress.Reporter // of embedding and neighbour search; nil shows none
	// sync writes the experiment's databases from its folder; the folds
	// call it after each flush of their records. Nil until the folder
	// exists.
	sync func() error
	// trunk is the models' trunk: the configured one, or Identity on the
	// cached outputs of a frozen trunk.
	trunk nn.Trunk
	// evalTransforms are the eval transforms with the trunk's
	// preprocessing, what the feature cache is keyed by.
	evalTransforms []config.Component
}

// source makes batches: of images (data.Loader) or of cached trunk
// outputs (data.FeatureLoader).
type source interface {
	Shape() data.Shape
	Load(indices []int, step int) (data.Batch, error)
	Prefetch(from int, indices func(step int) []int) *data.Prefetcher
}

func newEnv(s *spec.Spec, ds data.Dataset) (*env, error) {
	// A zoo trunk's input normalisation follows the configured transforms.
	var pre []config.Component
	if z, ok := s.Trunk.Value.(*nn.Zoo); ok {
		pre = z.Preprocessing()
	}
	loader := func(transforms []config.Component, workers int) (*data.Loader, error) {
		pipe, err := data.NewPipeline(append(slices.Clip(transforms), pre...))
		if err != nil {
			return nil, err
		}
		pipe.NormalizeByDefault(ds.Shape(), data.ImageNetMean, data.ImageNetStd)
		l, err := data.NewLoader(ds, pipe, s.Seed)
		if err != nil {
			return nil, err
		}
		return l.WithWorkers(workers), nil
	}
	trainData, err := trainSource(s, loader)
	if err != nil {
		return nil, err
	}
	evalData, err := loader(s.EvalTransforms, s.Tester.Workers)
	if err != nil {
		return nil, err
	}
	if trainData.Shape() != evalData.Shape() {
		return nil, fmt.Errorf("transforms.train makes %s images but transforms.eval makes %s: the model needs one size",
			trainData.Shape(), evalData.Shape())
	}
	return &env{spec: s, ds: ds, trainData: trainData, evalData: evalData, numClasses: len(ds.Classes()),
		trunk: s.Trunk.Value, evalTransforms: append(slices.Clip(s.EvalTransforms), pre...)}, nil
}

// trainSource is the loader of the training batches: of the items through
// transforms.train, or of their views (spec.TrainViews).
func trainSource(s *spec.Spec, loader func([]config.Component, int) (*data.Loader, error)) (source, error) {
	if len(s.TrainViews) == 0 {
		return loader(s.TrainTransforms, s.Workers)
	}
	if trunkFrozen(s) && s.Trunk.Type != "Identity" {
		return nil, fmt.Errorf("trainer %s trains on augmented views, but the trunk is frozen (no trunk_optimizer, or freeze_trunk) "+
			"and a frozen trunk's outputs are cached without the training transforms: add a trunk_optimizer", s.Trainer.Type)
	}
	views := make([]*data.Loader, len(s.TrainViews))
	for i, transforms := range s.TrainViews {
		var err error
		if views[i], err = loader(transforms, s.Workers); err != nil {
			return nil, err
		}
	}
	return data.NewViews(views)
}

// newModel builds a fresh model for a fold; numClasses sizes the classifier
// head, when there is one.
func (e *env) newModel(numClasses int) (*nn.Model[float32], error) {
	s := e.spec
	shape := e.trainData.Shape()
	cfg := nn.Config{
		Trunk:         e.trunk,
		Embedder:      s.Embedder.Value,
		Classifier:    s.Classifier.Value,
		Heads:         s.Heads,
		Generator:     s.Generator.Value,
		NumTriplets:   s.NumTriplets,
		InputShape:    []int{shape.C, shape.H, shape.W},
		BatchSize:     s.TrainBatchSize(),
		EvalBatchSize: s.Tester.BatchSize,
		Seed:          int64(s.Seed),
	}
	if cfg.Classifier != nil || len(cfg.Heads) > 0 {
		cfg.NumClasses = numClasses
	}
	return nn.New(cfg)
}

// embed computes the embeddings (or trunk outputs) of the given items with
// the eval transforms, in chunks of the tester's batch size.
func (e *env) embed(m *nn.Model[float32], items []int, trunkOnly bool) (emb []float32, dim int, labels []int, err error) {
	dim = m.EmbeddingSize()
	if trunkOnly {
		dim = m.TrunkSize()
	}
	emb = make([]float32, 0, len(items)*dim)
	labels = make([]int, 0, len(items))
	chunk := e.spec.Tester.BatchSize
	bar := e.bars.Bar("embedding", len(items), "img", 1, nil)
	defer bar.Done()
	for start := 0; start < len(items); start += chunk {
		idx := items[start:min(start+chunk, len(items))]
		b, err := e.evalData.Load(idx, 0)
		if err != nil {
			return nil, 0, nil, err
		}
		var out []float32
		if trunkOnly {
			out, err = m.EmbedTrunk(b.X, len(idx))
		} else {
			out, err = m.Embed(b.X, len(idx))
		}
		if err != nil {
			return nil, 0, nil, err
		}
		emb = append(emb, out...)
		labels = append(labels, b.Labels...)
		bar.Set(len(labels))
	}
	return emb, dim, labels, nil
}

// evaluate computes the tester's metrics, the query set compared to itself.
func (e *env) evaluate(emb []float32, labels []int, dim int) (map[string]float64, error) {
	opt := e.spec.Tester.Accuracy
	opt.Seed = int64(e.spec.Seed)
	bar := e.bars.Bar("neighbour search", len(labels), "queries", 1, nil)
	opt.Progress = bar.Set
	res, err := eval.Evaluate(emb, labels, nil, nil, dim, opt)
	bar.Done()
	if err != nil {
		return nil, err
	}
	if keep := e.spec.Tester.Metrics; len(keep) > 0 {
		maps.DeleteFunc(res.Metrics, func(m string, _ float64) bool { return !slices.Contains(keep, m) })
	}
	return res.Metrics, nil
}
