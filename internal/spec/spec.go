// Package spec resolves an experiment's config (files and overrides, or the
// saved configs of an experiment) into a typed, validated Spec, decoded
// once: what internal/train runs.
package spec

import (
	"maps"
	"slices"
	"strings"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/miner"
	"github.com/bench-ml/bench/internal/nn"
	"github.com/bench-ml/bench/internal/optim"
	"github.com/bench-ml/bench/internal/trainer"
)

// categoryOf places every top-level key in the category whose file it is
// saved in. It is also the list of known top-level keys: any other key is a
// typo, reported with a did-you-mean.
var categoryOf = map[string]string{
	"trainer":                  "config_general",
	"num_epochs_train":         "config_general",
	"iterations_per_epoch":     "config_general",
	"save_interval":            "config_general",
	"patience":                 "config_general",
	"check_untrained_accuracy": "config_general",
	"freeze_trunk_batchnorm":   "config_general",
	"freeze_trunk":             "config_general",
	"feature_cache":            "config_general",
	"dataloader_num_workers":   "config_general",
	"seed":                     "config_general",
	"dataset":                  "config_dataset",
	"split_manager":            "config_dataset",
	"models":                   "config_models",
	"batch_size":               "config_models",
	"loss_funcs":               "config_loss_and_miners",
	"mining_funcs":             "config_loss_and_miners",
	"sampler":                  "config_loss_and_miners",
	"loss_weights":             "config_loss_and_miners",
	"transforms":               "config_transforms",
	"optimizers":               "config_optimizers",
	"tester":                   "config_eval",
	"eval_primary_metric":      "config_eval",
	"splits_to_eval":           "config_eval",
	"aggregator":               "config_eval",
	"ensemble":                 "config_eval",
	"save_embeddings":          "config_eval",
	"hook_container":           "config_eval",
	"factories":                "config_factories",
	// powerful_benchmarker's settings, accepted when present (pb.go)
	"api_parser":                             "config_general",
	"skip_eval_if_already_done":              "config_general",
	"skip_ensemble_eval_if_already_done":     "config_general",
	"log_data_to_tensorboard":                "config_general",
	"save_figures_on_tensorboard":            "config_general",
	"save_lists_in_db":                       "config_general",
	"override_required_compatible_factories": "config_general",
}

// Tester holds GlobalEmbeddingSpaceTester's settings.
type Tester struct {
	Normalize      bool
	UseTrunkOutput bool
	BatchSize      int
	Workers        int // goroutines transforming a batch; 0 = one per CPU
	LabelLevel     int // the level of the dataset's label hierarchy evaluated
	// ReferenceSet is what each split to eval is compared with (PML's
	// reference_set: eval.ReferenceSets).
	ReferenceSet string
	// SameParent is WithSameParentLabelTester: each item compared with the
	// items of its parent label (the next level of the hierarchy) only.
	SameParent bool
	// TwoStream is GlobalTwoStreamEmbeddingSpaceTester: the anchors of a
	// TwoStream dataset's items compared with their posnegs.
	TwoStream bool
	Accuracy  eval.Options
	// Metrics, when not empty, are the only metrics kept (AccuracyCalculator's
	// include minus its exclude).
	Metrics []string
}

// Spec is a validated experiment: what runs. Every component is decoded
// once into a typed value; each fold takes its own copy of those that keep
// state (losses' weights, miners' random streams) with config.Instance.
type Spec struct {
	Trainer              config.Built[trainer.Trainer]
	NumEpochs            int
	IterationsPerEpoch   int // 0: one pass over the sampler (null, as PML's None)
	SaveInterval         int
	Patience             *int // nil: no early stopping (null, as powerful_benchmarker)
	CheckUntrained       bool
	FreezeTrunkBatchNorm bool
	// FreezeTrunk keeps the trunk's weights as loaded even with a
	// trunk_optimizer; a frozen trunk's outputs are cached.
	FreezeTrunk bool
	// CachedAugmentations is feature_cache.augmentations: how many
	// randomly augmented versions of each training image a frozen trunk's
	// cache holds (0: the eval transforms' one).
	CachedAugmentations int
	Workers             int // goroutines transforming a batch; 0 = one per CPU
	Seed                uint64
	// LabelLevel is the level of the dataset's label hierarchy trained on
	// (label_hierarchy_level; SOP's super-classes are level 1).
	LabelLevel int

	Dataset      data.Opener
	SplitManager data.SplitManager

	Trunk      config.Built[nn.Trunk]
	Embedder   config.Built[nn.Embedder]
	Classifier config.Built[*nn.MLP]       // Type "" = no classifier head
	Heads      []nn.Head                   // classifier heads on slices of the embedding (CascadedEmbeddings)
	Generator  config.Built[*nn.Generator] // Type "" = none (DeepAdversarialMetricLearning's)
	// NumTriplets is the generator's triplets per step.
	NumTriplets int
	BatchSize   int

	LossFuncs map[string]config.Built[loss.Loss]   // by the trainer's loss names: metric_loss, classifier_loss, ...
	Miners    map[string]config.Built[miner.Miner] // tuple_miner (tuple_miner_<i> for CascadedEmbeddings), when configured
	// SubsetMiner (Type "" = none) picks the items of each loaded batch
	// that the step trains on (mining_funcs.subset_batch_miner).
	SubsetMiner config.Built[miner.SubsetMiner]
	Sampler     data.SamplerFactory
	LossWeights map[string]float64 // of every loss name, also those without a loss func (g_hard_loss)

	TrainTransforms, EvalTransforms []config.Component
	// TrainViews, when not empty, replace TrainTransforms: each training
	// item is seen once per view, through the transforms of
	// transforms.augmentation<N> in the config's order
	// (UnsupervisedEmbeddingsUsingAugmentations).
	TrainViews [][]config.Component
	// TwoStream trains on the anchors and posnegs of a TwoStream dataset
	// (TwoStreamMetricLoss): a loaded batch holds both streams.
	TwoStream bool

	Optimizers map[string]config.Built[optim.Config] // trunk_optimizer, embedder_optimizer, ...

	Tester        Tester
	PrimaryMetric string
	SplitsToEval  []string
	// NormalizeConcatenated L2-normalises each fold's embeddings before
	// they are concatenated (ConcatenateEmbeddings).
	NormalizeConcatenated bool
	// SaveEmbeddings keeps the test embeddings of every fold's best model
	// and their concatenation in the experiment folder.
	SaveEmbeddings bool
}

// Decode validates the merged tree and returns the Spec. It also writes
// every default back into the tree, so that what is saved and shown is the
// fully resolved config.
func Decode(t *config.Tree) (*Spec, error) {
	if ss := t.SearchSpace(); len(ss) > 0 {
		return nil, &config.Error{Source: t.Source(ss[0].Path), Path: ss[0].Path,
			Msg: "is a hyperparameter search range (" + ss[0].String() + "); a single run needs a value"}
	}
	raw, _ := t.Get("")
	rawMap, _ := raw.(map[string]any)
	p := config.NewParamsFunc(rawMap, "", t.Source)
	from, err := liftNested(rawMap, p)
	if err != nil {
		return nil, err
	}
	wrapped, err := liftLayersToExtract(rawMap, p)
	if err != nil {
		return nil, err
	}
	s := &Spec{}
	decodeGeneral(p, s)
	decodeDataset(p, s)
	c := decodeTrainerComponents(p, s)
	decodeTransforms(p, s, t, c.Views)
	if sm := s.SubsetMiner.Value; sm != nil && sm.OutputBatchSize() > s.LoadedBatchSize() {
		p.Fail(config.JoinPath("mining_funcs", "subset_batch_miner", s.SubsetMiner.Type, "output_batch_size"),
			"is %d, more than the %d images of a loaded batch", sm.OutputBatchSize(), s.LoadedBatchSize())
	}
	decodeOptimizers(p, s, c.Optimizers, c.OptionalOptimizers)
	decodeEval(p, s)
	decodePB(p, s)
	if err := p.Err(); err != nil {
		return nil, err
	}
	resolved := p.Resolved()
	if wrapped {
		unwrapEmbedder(resolved)
	}
	for key, v := range resolved {
		if writeBack(resolved, key, v, from) {
			delete(resolved, key)
		}
	}
	for key, v := range resolved {
		// A key stays in the category that set it, such as
		// powerful_benchmarker's splits_to_eval in config_dataset.
		cat := t.Category(key)
		if cat == "" {
			cat = categoryOf[key]
		}
		if err := t.SetTop(cat, key, v, "default"); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func decodeGeneral(p *config.Params, s *Spec) {
	s.Trainer = config.BuildComponent(p, trainer.Trainers, "trainer", config.C("MetricLossOnly", nil))
	s.NumEpochs = p.Int("num_epochs_train", 6, config.Min(1))
	if n := p.NullableInt("iterations_per_epoch", 50, config.Min(1)); n != nil {
		s.IterationsPerEpoch = *n
	}
	s.SaveInterval = p.Int("save_interval", 1, config.Min(1))
	s.Patience = p.NullableInt("patience", 2, config.Min(0))
	s.CheckUntrained = p.Bool("check_untrained_accuracy", true)
	s.FreezeTrunkBatchNorm = p.Bool("freeze_trunk_batchnorm", false)
	s.FreezeTrunk = p.Bool("freeze_trunk", false)
	if p.Has("feature_cache") {
		s.CachedAugmentations = p.Map("feature_cache").Int("augmentations", 0, config.Min(0))
	}
	s.Workers = p.Int("dataloader_num_workers", 0, config.Min(0)) // 0: one per CPU
	s.Seed = uint64(p.Int("seed", 0, config.Min(0)))
}

func decodeDataset(p *config.Params, s *Spec) {
	s.Dataset = config.BuildNested(p, data.Datasets, "dataset", config.C("Glyphs", nil))
	s.SplitManager = config.BuildNested(p, data.SplitManagers, "split_manager", config.C("ClassDisjointSplitManager", nil))
}

// decodeTrainerComponents reads the models, losses, miners, sampler and
// loss weights: the trunk and embedder here, the rest as the trainer
// chooses (trainer.Trainer.Decode). It returns what the trainer chose.
func decodeTrainerComponents(p *config.Params, s *Spec) trainer.Components {
	m := p.Map("models")
	s.Trunk = config.BuildComponent(m, nn.Trunks, "trunk", config.C("ConvNet", nil))
	s.Embedder = config.BuildComponent(m, nn.Embedders, "embedder", config.C("MLP", nil))
	s.BatchSize = p.Int("batch_size", 32, config.Min(2))
	d := &trainer.Decoder{Root: p, Models: m, LossFuncs: p.Map("loss_funcs"), MiningFuncs: p.Map("mining_funcs"),
		Embedder: s.Embedder, BatchSize: s.BatchSize}
	// Every trainer takes a subset batch miner, as PML's BaseTrainer; the
	// trainer then sees batches of its output size.
	if trainer.Has(d.MiningFuncs, "subset_batch_miner") {
		s.SubsetMiner = config.BuildComponent(d.MiningFuncs, miner.SubsetMiners, "subset_batch_miner", config.Component{})
		if s.SubsetMiner.Value != nil {
			d.BatchSize = s.SubsetMiner.Value.OutputBatchSize()
		}
	}
	if s.Trainer.Value != nil {
		s.Trainer.Value.Decode(d)
	}
	c := d.Components
	s.Classifier, s.Heads, s.Generator, s.NumTriplets, s.LossFuncs, s.Miners = c.Classifier, c.Heads, c.Generator, c.NumTriplets, c.Losses, c.Miners
	s.TwoStream = c.TwoStream
	if p.EmptyMap("sampler") {
		p.Map("sampler")
		s.Sampler = data.NewRandom // plain random batches, as powerful_benchmarker
	} else {
		s.Sampler = config.BuildNested(p, data.Samplers, "sampler", config.C("MPerClassSampler", map[string]any{}))
	}
	if c.Views {
		// The views of an image are its only positives, so its batches are
		// plain random, whatever the sampler, as powerful_benchmarker sets it.
		s.Sampler = data.NewRandom
	}
	lw := p.Map("loss_weights")
	s.LossWeights = map[string]float64{}
	for _, name := range slices.Concat(slices.Sorted(maps.Keys(s.LossFuncs)), c.ExtraWeights) {
		s.LossWeights[name] = lw.Float(name, 1, config.Min(0))
	}
	return c
}

// decodeTransforms reads transforms.train and transforms.eval, and the views
// transforms.augmentation<N>, which only a trainer with views uses (views).
func decodeTransforms(p *config.Params, s *Spec, t *config.Tree, views bool) {
	tr := p.Map("transforms")
	s.TrainTransforms = config.BuildOrdered(tr, data.Transforms, "train", t.Keys("transforms.train"))
	s.EvalTransforms = config.BuildOrdered(tr, data.Transforms, "eval", t.Keys("transforms.eval"))
	var augmentations [][]config.Component
	for _, key := range t.Keys("transforms") {
		if strings.HasPrefix(key, "augmentation") {
			augmentations = append(augmentations, config.BuildOrdered(tr, data.Transforms, key, t.Keys("transforms."+key)))
		}
	}
	if !views {
		return
	}
	if len(augmentations) == 0 {
		tr.Fail("augmentation1", "is required by %s: the transforms of one view of each image, one transforms.augmentation<N> per view", s.Trainer.Type)
	}
	s.TrainViews = augmentations
}

// LoadedBatchSize is the number of images of a loaded batch: batch_size,
// times the number of views when the trainer trains on views, or times 2
// streams.
func (s *Spec) LoadedBatchSize() int {
	if s.TwoStream {
		return 2 * s.BatchSize
	}
	return s.BatchSize * max(1, len(s.TrainViews))
}

// TrainBatchSize is the number of images of a training step: the subset
// batch miner's output size, or the loaded batch.
func (s *Spec) TrainBatchSize() int {
	if sm := s.SubsetMiner.Value; sm != nil {
		return sm.OutputBatchSize()
	}
	return s.LoadedBatchSize()
}

// optimizerKeys name the optimiser of each parameter group of every
// trainer; a trainer may require more (the generator's).
var optimizerKeys = []string{"trunk_optimizer", "embedder_optimizer", "metric_loss_optimizer", "classifier_optimizer"}

func decodeOptimizers(p *config.Params, s *Spec, extra, optional []string) {
	o := p.Map("optimizers")
	s.Optimizers = map[string]config.Built[optim.Config]{}
	for _, key := range slices.Concat(optimizerKeys, extra, optional) {
		if !slices.Contains(o.Keys(), key) {
			continue
		}
		s.Optimizers[key] = config.BuildComponent(o, optim.Optimizers, key, config.Component{})
	}
	// Without a trunk_optimizer the trunk is frozen (and its outputs cached),
	// as in powerful_benchmarker.
	for _, key := range slices.Concat([]string{"embedder_optimizer"}, extra) {
		if _, ok := s.Optimizers[key]; !ok {
			o.Fail(key, "is required (the %s is trained)", strings.TrimSuffix(key, "_optimizer"))
		}
	}
	if _, trained := s.Optimizers["trunk_optimizer"]; trained && !s.FreezeTrunk && s.CachedAugmentations > 0 {
		p.Fail("feature_cache", "augmentations are cached for a frozen trunk only: set freeze_trunk: true, or remove optimizers.trunk_optimizer")
	}
}

func decodeEval(p *config.Params, s *Spec) {
	tester := p.Map("tester")
	name := "GlobalEmbeddingSpaceTester"
	testers := []string{"GlobalEmbeddingSpaceTester", "WithSameParentLabelTester", "GlobalTwoStreamEmbeddingSpaceTester"}
	for _, k := range tester.Keys() {
		switch {
		case !slices.Contains(testers, k):
			tester.Fail(k, "unknown tester; allowed: %s", strings.Join(testers, ", "))
		case len(tester.Keys()) > 1:
			tester.Fail(k, "one tester only")
		default:
			name = k
		}
	}
	g := tester.Map(name)
	s.Tester.SameParent = name == "WithSameParentLabelTester"
	s.Tester.TwoStream = name == "GlobalTwoStreamEmbeddingSpaceTester"
	if s.Tester.TwoStream {
		// PML asserts it: the anchors are compared with their own split's posnegs.
		s.Tester.ReferenceSet = g.String("reference_set", eval.ComparedToSelf, eval.ComparedToSelf)
	} else {
		s.Tester.ReferenceSet = g.String("reference_set", eval.ComparedToSelf, eval.ReferenceSets...)
	}
	s.Tester.Normalize = g.Bool("normalize_embeddings", true)
	s.Tester.UseTrunkOutput = g.Bool("use_trunk_output", false)
	s.Tester.BatchSize = g.Int("batch_size", 128, config.Min(1))
	s.Tester.Workers = s.Workers
	if g.Has("dataloader_num_workers") {
		s.Tester.Workers = g.Int("dataloader_num_workers", s.Workers, config.Min(0))
	}
	pbTesterParams(g, &s.Tester)
	ac := g.Map("accuracy_calculator").Map("AccuracyCalculator")
	s.Tester.Accuracy = eval.Options{
		K:          ac.String("k", "max_bin_count"),
		RecallK:    ac.Ints("recall_at_k", []int{1, 2, 4, 8}, config.Min(1)),
		AvgOfAvgs:  ac.Bool("avg_of_avgs", false),
		Clustering: ac.Bool("clustering", true), // PML 0.9.92 reports NMI and AMI by default
		Normalize:  s.Tester.Normalize,
	}
	s.PrimaryMetric = p.String("eval_primary_metric", "mean_average_precision_at_r",
		"mean_average_precision_at_r", "r_precision", "precision_at_1", "mean_average_precision", "mean_reciprocal_rank")
	decodeIncludeExclude(ac, s)
	// Training needs val (Resolve checks); --evaluate takes any splits, as
	// powerful_benchmarker's `--splits_to_eval [test] --evaluate`.
	s.SplitsToEval = p.Strings("splits_to_eval", []string{"val"}, "train", "val", "test")
	agg := p.Map("aggregator").Map("MeanAggregator")
	if agg.Has("split_to_aggregate") {
		agg.String("split_to_aggregate", "val", "val", "test")
	}
	ce := p.Map("ensemble").Map("ConcatenateEmbeddings")
	s.NormalizeConcatenated = ce.Bool("normalize_embeddings", true)
	if ce.Has("use_trunk_output") && ce.Bool("use_trunk_output", false) {
		ce.Fail("use_trunk_output", "only false is supported: the ensemble concatenates the folds' embeddings")
	}
	s.SaveEmbeddings = p.Bool("save_embeddings", false)
}
