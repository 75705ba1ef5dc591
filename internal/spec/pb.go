package spec

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/eval"
)

// powerful_benchmarker v0.9.33 writes some of bench's top-level settings
// inside a component: the run settings as parameters of the trainer (PML's
// BaseTrainer arguments), the primary metric in hook_container. Both layouts
// decode to the same Spec; a setting written in both places is an error,
// since neither file order nor intent says which one wins.

// A nested home of top-level settings: the component key and its settings.
type nestedHome struct {
	key      string   // top-level key of the component: trainer, hook_container
	settings []string // top-level keys that may be written as its parameters
	only     []string // its parameters bench keeps there (no top-level form)
}

var nestedHomes = []nestedHome{
	{key: "trainer",
		settings: []string{"iterations_per_epoch", "dataloader_num_workers", "batch_size", "freeze_trunk_batchnorm", "loss_weights"},
		only:     []string{"label_hierarchy_level", "set_min_label_to_zero"}},
	{key: "hook_container", settings: []string{"eval_primary_metric"}},
}

// hookKey maps a hook_container parameter to bench's top-level key.
var hookKey = map[string]string{"primary_metric": "eval_primary_metric"}

// lifted records, for a setting read from a component's parameters, the
// component key and type whose resolved parameters it is written back into.
type lifted struct{ key, typ string }

// liftNested moves the settings written as parameters of a component into
// the top-level map p reads, so that the component builds without them. It
// returns the component each setting is written back into once resolved:
// those read from it, its "only" parameters, and, when a component holds
// any setting, the settings written nowhere (their defaults).
func liftNested(rawMap map[string]any, p *config.Params) (map[string]lifted, error) {
	out := map[string]lifted{}
	for _, h := range nestedHomes {
		comp, ok := rawMap[h.key].(map[string]any)
		if !ok || len(comp) != 1 {
			continue // absent, or an error Decode reports
		}
		for typ, params := range comp {
			pm, _ := params.(map[string]any)
			if params != nil && pm == nil {
				continue // not a map: an error Decode reports
			}
			home := lifted{h.key, typ}
			rest, nested := map[string]any{}, false
			for k, v := range pm {
				top := k
				if h.key == "hook_container" {
					top = hookKey[k]
				}
				switch {
				case slices.Contains(h.settings, top):
					path := config.JoinPath(h.key, typ, k)
					if _, twice := rawMap[top]; twice {
						return nil, &config.Error{Source: p.Source(path), Path: path,
							Msg: fmt.Sprintf("is also set as the top-level key %s (%s); write it in one place", top, p.Source(top))}
					}
					p.Move(top, path, v)
					out[top], nested = home, true
				case slices.Contains(h.only, k):
					p.Move(k, config.JoinPath(h.key, typ, k), v)
				default:
					rest[k] = v
				}
			}
			for _, k := range h.only {
				out[k] = home
			}
			for _, k := range h.settings {
				if _, written := rawMap[k]; nested && !written {
					out[k] = home
				}
			}
			rawMap[h.key] = map[string]any{typ: rest}
		}
	}
	return out, nil
}

// writeBack puts the resolved value of a setting into the resolved
// parameters of the component it belongs to; it reports whether it did.
func writeBack(resolved map[string]any, key string, v any, from map[string]lifted) bool {
	l, ok := from[key]
	if !ok && slices.Contains(nestedHomes[0].only, key) {
		l.key, ok = "trainer", true // the trainer was not written: its default type
		for typ := range resolved["trainer"].(map[string]any) {
			l.typ = typ
		}
	}
	if !ok {
		return false
	}
	comp, _ := resolved[l.key].(map[string]any)
	params, _ := comp[l.typ].(map[string]any)
	if params == nil {
		return false
	}
	for k, top := range hookKey {
		if l.key == "hook_container" && top == key {
			key = k
		}
	}
	params[key] = v
	return true
}

// decodePB reads the settings only powerful_benchmarker's configs write.
// Each is implemented, or accepted where it changes nothing in bench; values
// bench cannot honour are errors saying why (README "powerful_benchmarker
// settings").
func decodePB(p *config.Params, s *Spec) {
	s.LabelLevel = p.Int("label_hierarchy_level", 0, config.Min(0))
	if !p.Bool("set_min_label_to_zero", true) {
		p.Fail("set_min_label_to_zero", "only true is supported: bench numbers a fold's training classes 0..C-1")
	}
	if p.Has("api_parser") {
		p.Null("api_parser", "bench picks the training code from trainer")
	}
	for _, k := range []string{"skip_eval_if_already_done", "skip_ensemble_eval_if_already_done", "log_data_to_tensorboard",
		"save_figures_on_tensorboard", "save_lists_in_db", "override_required_compatible_factories"} {
		if p.Has(k) {
			p.Bool(k, false)
		}
	}
	if p.Has("hook_container") {
		hook := p.Map("hook_container")
		for _, k := range hook.Keys() {
			if k != "HookContainer" {
				hook.Fail(k, "unknown hook container; allowed: HookContainer")
			}
		}
		hc := hook.Map("HookContainer")
		hc.String("validation_split_name", "val", "val")
		if !hc.Bool("save_models", true) {
			hc.Fail("save_models", "only true is supported: bench always saves the latest and the best models")
		}
	}
	if p.Has("factories") {
		decodeFactories(p.Map("factories"))
	}
}

// pbFactories are powerful_benchmarker's factory kinds and their default
// classes: bench's components are built by bench, so only these are valid.
var pbFactories = map[string]string{
	"model": "ModelFactory", "loss": "LossFactory", "miner": "MinerFactory", "sampler": "SamplerFactory",
	"optimizer": "OptimizerFactory", "tester": "TesterFactory", "trainer": "TrainerFactory",
	"transform": "TransformFactory", "split_manager": "SplitManagerFactory", "record_keeper": "RecordKeeperFactory",
	"hook": "HookFactory", "aggregator": "AggregatorFactory", "ensemble": "EnsembleFactory",
}

func decodeFactories(f *config.Params) {
	for _, kind := range f.Keys() {
		want, ok := pbFactories[kind]
		if !ok {
			f.Fail(kind, "unknown factory kind; allowed: %s", strings.Join(slices.Sorted(maps.Keys(pbFactories)), ", "))
			continue
		}
		m := f.Map(kind)
		for _, typ := range m.Keys() {
			if typ != want {
				m.Fail(typ, "only %s is supported: bench has no custom factories", want)
				continue
			}
			if len(m.Map(typ).Keys()) != 0 {
				m.Fail(typ, "%s takes no parameters in bench", want)
			}
		}
	}
}

// pbTesterParams reads the tester parameters of powerful_benchmarker that
// bench accepts with one value, when a config writes them, and the level of
// the label hierarchy evaluated.
func pbTesterParams(g *config.Params, t *Tester) {
	if g.Has("pca") {
		g.Null("pca", "bench scores the embeddings themselves")
	}
	if g.Has("visualizer") {
		if v := g.Map("visualizer"); len(v.Keys()) != 0 {
			g.Fail("visualizer", "only {} or null is supported: bench draws no embedding plots")
		}
	}
	if g.Has("label_hierarchy_level") {
		t.LabelLevel = g.Int("label_hierarchy_level", 0, config.Min(0))
	}
}

// decodeIncludeExclude reads AccuracyCalculator's include and exclude, as
// PML: include names the metrics to compute (empty: the defaults), exclude
// drops some. NMI or AMI in include turns clustering on. The primary metric
// must stay.
func decodeIncludeExclude(ac *config.Params, s *Spec) {
	if !ac.Has("include") && !ac.Has("exclude") {
		return
	}
	names := []string{"precision_at_1", "r_precision", "mean_average_precision_at_r", "mean_average_precision",
		"mean_reciprocal_rank", eval.NMIName, eval.AMIName}
	for _, k := range s.Tester.Accuracy.RecallK {
		names = append(names, fmt.Sprintf("recall_at_%d", k))
	}
	include := ac.Strings("include", nil, names...)
	exclude := ac.Strings("exclude", nil, names...)
	if len(include) == 0 { // the defaults: every metric bench computes
		for _, m := range names {
			if s.Tester.Accuracy.Clustering || (m != eval.NMIName && m != eval.AMIName) {
				include = append(include, m)
			}
		}
	}
	for _, m := range include {
		if slices.Contains(exclude, m) {
			continue
		}
		s.Tester.Metrics = append(s.Tester.Metrics, m)
		if m == eval.NMIName || m == eval.AMIName {
			s.Tester.Accuracy.Clustering = true
		}
	}
	if !slices.Contains(s.Tester.Metrics, s.PrimaryMetric) {
		ac.Fail("exclude", "leaves out eval_primary_metric %s, which chooses the best epoch", s.PrimaryMetric)
	}
}

// liftLayersToExtract rewrites powerful_benchmarker's cascaded model into
// bench's form of it. There (config_models/cascaded.yaml with
// CascadedEmbeddings) a top-level layers_to_extract makes its API parser
// wrap the trunk in a LayerExtractor of those layers, the embedder in a
// ListOfModels of one copy per layer, and set the trainer's
// embedding_sizes to the copies' output sizes. In bench these are the zoo
// trunk's layers_to_extract, the ListOfModels embedder and
// CascadedEmbeddings' embedding_sizes; a config already written that way
// (a resolved one) is left as it is. It reports whether it wrapped the
// embedder, which the resolved config unwraps (unwrapEmbedder).
func liftLayersToExtract(rawMap map[string]any, p *config.Params) (wrapped bool, err error) {
	layers, ok := rawMap["layers_to_extract"]
	if !ok {
		return false, nil
	}
	delete(rawMap, "layers_to_extract")
	fail := func(path, format string, args ...any) error {
		return &config.Error{Source: p.Source(path), Path: path, Msg: fmt.Sprintf(format, args...)}
	}
	list, ok := layers.([]any)
	if !ok || len(list) == 0 {
		return false, fail("layers_to_extract", "want a list of the trunk's layers, e.g. [Mixed_6e, fc]")
	}
	trainerType, trainerParams := component(rawMap["trainer"])
	if trainerType != "CascadedEmbeddings" {
		return false, fail("layers_to_extract", "is powerful_benchmarker's cascaded model, which needs trainer CascadedEmbeddings (got %s)",
			cmp.Or(trainerType, "the default, MetricLossOnly"))
	}
	models, _ := rawMap["models"].(map[string]any)
	trunkType, trunkParams := component(models["trunk"])
	if trunkType == "" {
		return false, fail("layers_to_extract", "needs models.trunk, one of the zoo's trunks (e.g. inception_v3)")
	}
	path := config.JoinPath("models", "trunk", trunkType, "layers_to_extract")
	if written, ok := trunkParams["layers_to_extract"]; ok && !reflect.DeepEqual(written, list) {
		return false, fail(path, "is %v, and the top-level layers_to_extract %v; write it in one place", written, list)
	}
	trunkParams["layers_to_extract"] = list
	embedderType, embedderParams := component(models["embedder"])
	if embedderType == "" {
		embedderType, embedderParams = "MLP", map[string]any{}
	}
	if embedderType != "ListOfModels" {
		if _, ok := trainerParams["embedding_sizes"]; !ok {
			if sizes, ok := embedderParams["layer_sizes"].([]any); ok && embedderType == "MLP" && len(sizes) > 0 {
				each := make([]any, len(list))
				for i := range each {
					each[i] = sizes[len(sizes)-1]
				}
				trainerParams["embedding_sizes"] = each
			}
		}
		embedderParams = map[string]any{"model": map[string]any{embedderType: embedderParams}}
		embedderType, wrapped = "ListOfModels", true
	}
	rawMap["trainer"] = map[string]any{trainerType: trainerParams}
	rawMap["models"] = mergeMaps(models, map[string]any{
		"trunk":    map[string]any{trunkType: trunkParams},
		"embedder": map[string]any{embedderType: embedderParams},
	})
	return wrapped, nil
}

// unwrapEmbedder puts back the embedder liftLayersToExtract wrapped, so
// that the resolved config keeps the layout it was written in.
func unwrapEmbedder(resolved map[string]any) {
	models, _ := resolved["models"].(map[string]any)
	if _, list := component(models["embedder"]); list != nil {
		models["embedder"] = list["model"]
	}
}

// component splits a raw component {Type: params} into its type and a
// copy of its parameters; "" when raw is not one component (an error the
// decoding reports).
func component(raw any) (string, map[string]any) {
	m, ok := raw.(map[string]any)
	if !ok || len(m) != 1 {
		return "", nil
	}
	for typ, params := range m {
		pm, _ := params.(map[string]any)
		return typ, maps.Clone(pm)
	}
	return "", nil
}

// mergeMaps is a copy of a with b's keys set.
func mergeMaps(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]any{}
	}
	maps.Copy(out, b)
	return out
}
