// Package experiment turns the merged config into a typed, validated Spec
// and runs it: split schemes, one training per fold, the final test
// evaluation and its aggregation over folds.
package experiment

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
	Accuracy       eval.Options
	// Metrics, when not empty, are the only metrics kept (AccuracyCalculator's
	// include minus its exclude).
	Metrics []string
}

// Spec is a validated experiment: what runs. Components are kept as their
// config so each fold builds fresh instances (new weights, new optimiser
// state) from the same description.
type Spec struct {
	Trainer              Trainer
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

	Dataset      data.Opener
	SplitManager data.SplitManager

	Trunk, Embedder config.Component
	Classifier      config.Component // Type "" = no classifier head
	Generator       config.Component // DeepAdversarialMetricLearning only
	BatchSize       int

	LossFuncs   map[string]config.Component // by the trainer's loss names: metric_loss, classifier_loss, ...
	Miners      map[string]config.Component // tuple_miner (tuple_miner_<i> for CascadedEmbeddings), when configured
	Sampler     data.SamplerFactory
	LossWeights map[string]float64 // of every loss name, also those without a loss func (g_hard_loss)

	TrainTransforms, EvalTransforms []config.Component

	Optimizers map[string]config.Component // trunk_optimizer, embedder_optimizer, ...

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
	s := &Spec{}
	decodeGeneral(p, s)
	decodeDataset(p, s)
	decodeModels(p, s)
	decodeLosses(p, s)
	decodeTransforms(p, s, t)
	decodeOptimizers(p, s)
	decodeEval(p, s)
	decodePB(p, s)
	if err := p.Err(); err != nil {
		return nil, err
	}
	resolved := p.Resolved()
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
	s.Trainer = config.BuildNested(p, Trainers, "trainer", config.C(MetricLossOnly, nil))
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

func decodeModels(p *config.Params, s *Spec) {
	m := p.Map("models")
	s.Trunk = buildComponent(m, nn.Trunks, "trunk", config.C("ConvNet", nil))
	s.Embedder = buildComponent(m, nn.Embedders, "embedder", config.C("MLP", nil))
	switch s.Trainer.Name {
	case TrainWithClassifier:
		s.Classifier = buildComponent(m, nn.Classifiers, "classifier", config.C("MLP", nil))
	case DeepAdversarialMetricLearning:
		// The classifier is optional, as in PML's TrainWithClassifier.
		if slices.Contains(m.Keys(), "classifier") {
			s.Classifier = buildComponent(m, nn.Classifiers, "classifier", config.Component{})
		}
		if !slices.Contains(m.Keys(), "generator") {
			m.Fail("generator", "is required by DeepAdversarialMetricLearning, e.g. {MLP: {layer_sizes: [1, 1], final_relu: true}}")
		} else {
			s.Generator = buildComponent(m, nn.Generators, "generator", config.Component{})
		}
	case CascadedEmbeddings:
		// The embedding size is known here unless the embedder is the
		// identity; the trainer checks again on the built model.
		if e, _, err := nn.Embedders.Build(s.Embedder); err == nil && len(e.LayerSizes) > 0 {
			if msg := s.Trainer.Cascaded.CheckSize(e.LayerSizes[len(e.LayerSizes)-1]); msg != "" {
				p.Fail("trainer.CascadedEmbeddings.embedding_sizes", "%s", msg)
			}
		}
		for _, k := range m.Keys() {
			if strings.HasPrefix(k, "classifier") {
				m.Fail(k, "CascadedEmbeddings with classifier heads is not supported; remove it")
			}
		}
	}
	s.BatchSize = p.Int("batch_size", 32, config.Min(2))
}

// buildComponent validates a component with its registry and returns its
// resolved form, from which each fold builds its own instance.
func buildComponent[T any](p *config.Params, r *config.Registry[T], key string, def config.Component) config.Component {
	config.BuildNested(p, r, key, def)
	resolved, _ := p.Resolved()[key].(map[string]any)
	c := def
	for typ, params := range resolved {
		m, _ := params.(map[string]any)
		c = config.Component{Type: typ, Params: m, Where: p.Where() + "." + key, Source: p.Source(key)}
	}
	return c
}

func decodeLosses(p *config.Params, s *Spec) {
	lf, mf := p.Map("loss_funcs"), p.Map("mining_funcs")
	s.LossFuncs = map[string]config.Component{}
	s.Miners = map[string]config.Component{}
	var extraWeights []string // losses computed by the trainer itself
	if s.Trainer.Name == CascadedEmbeddings {
		decodeCascadedLosses(lf, mf, s)
	} else {
		s.LossFuncs["metric_loss"] = buildComponent(lf, loss.Losses, "metric_loss", config.C("ContrastiveLoss", nil))
		if s.Classifier.Type != "" && s.Trainer.Name == DeepAdversarialMetricLearning && !slices.Contains(lf.Keys(), "classifier_loss") {
			s.Classifier = config.Component{} // as PML's DAML: without a classifier_loss the classifier is unused
		}
		if s.Classifier.Type != "" {
			s.LossFuncs["classifier_loss"] = buildComponent(lf, loss.Losses, "classifier_loss", config.C("CrossEntropyLoss", nil))
		}
		if s.Trainer.Name == DeepAdversarialMetricLearning {
			decodeDAMLLosses(lf, s)
			extraWeights = []string{"g_hard_loss", "g_reg_loss"}
		}
		if slices.Contains(mf.Keys(), "tuple_miner") {
			s.Miners["tuple_miner"] = buildComponent(mf, miner.Miners, "tuple_miner", config.Component{})
		}
	}
	if p.EmptyMap("sampler") {
		p.Map("sampler")
		s.Sampler = data.NewRandom // plain random batches, as powerful_benchmarker
	} else {
		s.Sampler = config.BuildNested(p, data.Samplers, "sampler", config.C("MPerClassSampler", map[string]any{"m": 4}))
	}
	lw := p.Map("loss_weights")
	s.LossWeights = map[string]float64{}
	for _, name := range slices.Concat(slices.Sorted(maps.Keys(s.LossFuncs)), extraWeights) {
		s.LossWeights[name] = lw.Float(name, 1, config.Min(0))
	}
}

func decodeTransforms(p *config.Params, s *Spec, t *config.Tree) {
	tr := p.Map("transforms")
	s.TrainTransforms = config.BuildOrdered(tr, data.Transforms, "train", t.Keys("transforms.train"))
	s.EvalTransforms = config.BuildOrdered(tr, data.Transforms, "eval", t.Keys("transforms.eval"))
}

// optimizerKeys name the optimiser of each parameter group; the generator's
// is known to DeepAdversarialMetricLearning only.
var optimizerKeys = []string{"trunk_optimizer", "embedder_optimizer", "metric_loss_optimizer", "classifier_optimizer"}

func decodeOptimizers(p *config.Params, s *Spec) {
	o := p.Map("optimizers")
	s.Optimizers = map[string]config.Component{}
	keys := optimizerKeys
	if s.Trainer.Name == DeepAdversarialMetricLearning {
		keys = append(slices.Clip(keys), "generator_optimizer")
	}
	for _, key := range keys {
		if !slices.Contains(o.Keys(), key) {
			continue
		}
		s.Optimizers[key] = buildComponent(o, optim.Optimizers, key, config.Component{})
	}
	// Without a trunk_optimizer the trunk is frozen (and its outputs cached),
	// as in powerful_benchmarker.
	required := []string{"embedder_optimizer"}
	if s.Trainer.Name == DeepAdversarialMetricLearning {
		required = append(required, "generator_optimizer")
	}
	for _, key := range required {
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
	g := tester.Map("GlobalEmbeddingSpaceTester")
	for _, k := range tester.Keys() {
		if k != "GlobalEmbeddingSpaceTester" {
			tester.Fail(k, "unknown tester; allowed: GlobalEmbeddingSpaceTester")
		}
	}
	g.String("reference_set", "compared_to_self", "compared_to_self")
	s.Tester.Normalize = g.Bool("normalize_embeddings", true)
	s.Tester.UseTrunkOutput = g.Bool("use_trunk_output", false)
	s.Tester.BatchSize = g.Int("batch_size", 128, config.Min(1))
	s.Tester.Workers = s.Workers
	if g.Has("dataloader_num_workers") {
		s.Tester.Workers = g.Int("dataloader_num_workers", s.Workers, config.Min(0))
	}
	pbTesterParams(g)
	ac := g.Map("accuracy_calculator").Map("AccuracyCalculator")
	s.Tester.Accuracy = eval.Options{
		K:          ac.String("k", "max_bin_count"),
		RecallK:    ac.Ints("recall_at_k", []int{1, 2, 4, 8}, config.Min(1)),
		AvgOfAvgs:  ac.Bool("avg_of_avgs", false),
		Clustering: ac.Bool("clustering", false),
		Normalize:  s.Tester.Normalize,
	}
	s.PrimaryMetric = p.String("eval_primary_metric", "mean_average_precision_at_r",
		"mean_average_precision_at_r", "r_precision", "precision_at_1", "mean_average_precision", "mean_reciprocal_rank")
	decodeIncludeExclude(ac, s)
	s.SplitsToEval = p.Strings("splits_to_eval", []string{"val"}, "train", "val")
	if !slices.Contains(s.SplitsToEval, "val") {
		p.Fail("splits_to_eval", "must include val: the best epoch is chosen on it")
	}
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
