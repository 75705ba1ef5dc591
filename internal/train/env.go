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

// env is what every fold of an experiment shares: the spec, the dataset and
// its loaders.
type env struct {
	spec      *spec.Spec
	ds        data.Dataset
	trainData source
	evalData  source
	// posnegData is the eval loader of a TwoStream dataset's posnegs, for
	// GlobalTwoStreamEmbeddingSpaceTester; nil for another tester.
	posnegData source
	numClasses int                // of the whole dataset; a fold's training set has fewer
	bars       *progress.Reporter // of embedding and neighbour search; nil shows none
	// sync writes the experiment's databases from its folder; the folds
	// call it after each flush of their records. Nil until the folder
	// exists.
	sync func() error
	// trunk is the models' trunk: the configured one, or Identity on the
	// cached outputs of a frozen trunk.
	trunk nn.Trunk
	// evalTransforms and trainTransforms are the transforms with the
	// trunk's preprocessing, what the feature cache is keyed by.
	evalTransforms, trainTransforms []config.Component
	// evalLabels are the dataset's labels at the tester's level of the
	// label hierarchy; ds is labelled at the trainer's.
	evalLabels []int
	// parentOf maps an evaluated label to its parent label, for
	// WithSameParentLabelTester.
	parentOf map[int]int
}

// source makes batches: of images (data.Loader) or of cached trunk
// outputs (data.FeatureLoader).
type source interface {
	Shape() data.Shape
	Load(indices []int, step int) (data.Batch, error)
	Prefetch(from int, indices func(step int) []int) *data.Prefetcher
}

func newEnv(s *spec.Spec, ds data.Dataset) (*env, error) {
	evalLabels, err := data.LabelsAt(ds, s.Tester.LabelLevel)
	if err != nil {
		return nil, fmt.Errorf("tester label_hierarchy_level: %w", err)
	}
	var parentOf map[int]int
	if s.Tester.SameParent {
		if parentOf, err = parentLabels(ds, s.Tester.LabelLevel, evalLabels); err != nil {
			return nil, err
		}
	}
	two, _ := ds.(*data.TwoStream)
	if (s.TwoStream || s.Tester.TwoStream) && two == nil {
		what := "trainer " + s.Trainer.Type
		if !s.TwoStream {
			what = "tester GlobalTwoStreamEmbeddingSpaceTester"
		}
		return nil, fmt.Errorf("%s needs a dataset of anchors and posnegs: dataset: {TwoStream: {anchors: <dataset>, posnegs: <dataset>}}", what)
	}
	// A zoo trunk's input normalisation follows the configured transforms.
	var pre []config.Component
	if z, ok := s.Trunk.Value.(*nn.Zoo); ok {
		pre = z.Preprocessing()
	}
	// The fixed start of every pipeline of ds runs once per image, not at
	// each visit; a frozen trunk's feature cache is keyed by the decoded
	// images and computes its features once anyway.
	fixed := 0
	if !trunkFrozen(s) {
		lists := [][]config.Component{append(slices.Clip(s.EvalTransforms), pre...)}
		for _, l := range append([][]config.Component{s.TrainTransforms}, s.TrainViews...) {
			lists = append(lists, append(slices.Clip(l), pre...))
		}
		if ds, fixed, err = data.Precompute(ds, lists...); err != nil {
			return nil, err
		}
	}
	if ds, err = data.AtLevel(ds, s.LabelLevel); err != nil {
		return nil, fmt.Errorf("trainer label_hierarchy_level: %w", err)
	}
	loaderOf := func(ds data.Dataset, transforms []config.Component, workers int) (*data.Loader, error) {
		pipe, err := data.NewPipeline(append(slices.Clip(transforms), pre...)[fixed:])
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
	loader := func(transforms []config.Component, workers int) (*data.Loader, error) {
		return loaderOf(ds, transforms, workers)
	}
	var trainData source
	if s.TwoStream {
		trainData, err = twoStreamSource(s, loader, func(transforms []config.Component, workers int) (*data.Loader, error) {
			return loaderOf(two.PosNegs(), transforms, workers)
		})
	} else {
		trainData, err = trainSource(s, loader)
	}
	if err != nil {
		return nil, err
	}
	evalData, err := loader(s.EvalTransforms, s.Tester.Workers)
	if err != nil {
		return nil, err
	}
	var posnegData source
	if s.Tester.TwoStream {
		if posnegData, err = loaderOf(two.PosNegs(), s.EvalTransforms, s.Tester.Workers); err != nil {
			return nil, err
		}
	}
	if trainData.Shape() != evalData.Shape() {
		return nil, fmt.Errorf("transforms.train makes %s images but transforms.eval makes %s: the model needs one size",
			trainData.Shape(), evalData.Shape())
	}
	return &env{spec: s, ds: ds, trainData: trainData, evalData: evalData, posnegData: posnegData, numClasses: len(ds.Classes()),
		trunk: s.Trunk.Value, evalTransforms: append(slices.Clip(s.EvalTransforms), pre...),
		trainTransforms: append(slices.Clip(s.TrainTransforms), pre...), evalLabels: evalLabels, parentOf: parentOf}, nil
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

// twoStreamSource is the loader of TwoStreamMetricLoss's batches: the
// anchors, then the posnegs, both through transforms.train.
func twoStreamSource(s *spec.Spec, anchors, posnegs func([]config.Component, int) (*data.Loader, error)) (source, error) {
	a, err := anchors(s.TrainTransforms, s.Workers)
	if err != nil {
		return nil, err
	}
	pn, err := posnegs(s.TrainTransforms, s.Workers)
	if err != nil {
		return nil, err
	}
	return data.NewTwoStreams(a, pn)
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
// the eval transforms, in chunks of the tester's batch size. For
// GlobalTwoStreamEmbeddingSpaceTester they are the items' anchors, then
// their posnegs, with the labels twice, as PML's tester stacks them.
func (e *env) embed(m *nn.Model[float32], items []int, trunkOnly bool) (emb []float32, dim int, labels []int, err error) {
	if emb, dim, labels, err = e.embedFrom(e.evalData, m, items, trunkOnly); err != nil || e.posnegData == nil {
		return emb, dim, labels, err
	}
	posnegs, _, _, err := e.embedFrom(e.posnegData, m, items, trunkOnly)
	if err != nil {
		return nil, 0, nil, err
	}
	return slices.Concat(emb, posnegs), dim, slices.Concat(labels, labels), nil
}

// embedFrom embeds the items of one loader.
func (e *env) embedFrom(src source, m *nn.Model[float32], items []int, trunkOnly bool) (emb []float32, dim int, labels []int, err error) {
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
		b, err := src.Load(idx, 0)
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
		for _, i := range idx {
			labels = append(labels, e.evalLabels[i])
		}
		bar.Set(len(labels))
	}
	return emb, dim, labels, nil
}

// evaluate computes the tester's metrics of one set compared to itself (the
// final test, the ensemble, the untrained baseline).
func (e *env) evaluate(emb []float32, labels []int, dim int) (map[string]float64, error) {
	out, err := e.test(map[string][]float32{"": emb}, map[string][]int{"": labels}, []string{""}, dim, eval.ComparedToSelf)
	return out[""], err
}

// test computes the tester's metrics of each split of toEval, compared with
// the reference set; embs and labels hold the splits the tester needs.
func (e *env) test(embs map[string][]float32, labels map[string][]int, toEval []string, dim int, reference string) (map[string]map[string]float64, error) {
	t := eval.Tester{Reference: reference, SameParent: e.spec.Tester.SameParent, TwoStream: e.spec.Tester.TwoStream, Options: e.spec.Tester.Accuracy}
	t.Options.Seed = int64(e.spec.Seed)
	sets := map[string]eval.Set{}
	n := 0
	for name, emb := range embs {
		set := eval.Set{Emb: emb, Labels: labels[name]}
		if t.SameParent {
			for _, l := range set.Labels {
				set.Parents = append(set.Parents, e.parentOf[l])
			}
		}
		sets[name] = set
		n += len(set.Labels)
	}
	if t.TwoStream {
		n /= 2 // the anchors are the queries
	}
	bar := e.bars.Bar("neighbour search", n, "queries", 1, nil)
	t.Options.Progress = bar.Set
	out, err := t.Test(sets, toEval, dim)
	bar.Done()
	if err != nil {
		return nil, err
	}
	if keep := e.spec.Tester.Metrics; len(keep) > 0 {
		for _, m := range out {
			maps.DeleteFunc(m, func(m string, _ float64) bool { return !slices.Contains(keep, m) })
		}
	}
	return out, nil
}

// parentLabels maps each label at the tester's level to its parent label,
// for WithSameParentLabelTester: the next level of a hierarchy in which
// every class has one parent (SOP's product and super-class).
func parentLabels(ds data.Dataset, level int, labels []int) (map[int]int, error) {
	parents, err := data.LabelsAt(ds, level+1)
	if err != nil {
		return nil, fmt.Errorf("WithSameParentLabelTester compares items within their parent label, level %d: %w", level+1, err)
	}
	parentOf := map[int]int{}
	for i, l := range labels {
		if p, ok := parentOf[l]; ok && p != parents[i] {
			return nil, fmt.Errorf("WithSameParentLabelTester: class %d of level %d has the parent labels %d and %d", l, level, p, parents[i])
		}
		parentOf[l] = parents[i]
	}
	return parentOf, nil
}
