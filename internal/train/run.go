// Package train runs an experiment: for every split scheme (fold) it trains
// a model, keeps the best epoch on the validation set and tests it, then
// aggregates the folds' test results (SPEC sections 5-7).
package train

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/experiment"
	"github.com/bench-ml/bench/internal/provenance"
	"github.com/bench-ml/bench/internal/record"
)

// Run carries out what the options ask: train a new experiment (or resume
// one), then test each fold's best model and aggregate the folds. When ctx
// is cancelled (SIGINT, SIGTERM) training stops before its next step,
// leaving the last checkpoint as it is, and Run returns an error wrapping
// ctx's cause (context.Canceled) that says where it stopped.
func Run(ctx context.Context, o experiment.Options) (err error) {
	if o.ExperimentName == "" {
		return errors.New("--experiment_name is required")
	}
	if o.ReproduceResults != "" && o.DiffsToReplay == nil {
		return reproduce(ctx, o)
	}
	// An existing experiment is locked before its saved config is read; a
	// missing one is left to Resolve to report.
	if _, err := record.Open(o.Folder()); o.Existing() && err == nil {
		unlock, err := record.LockExperiment(o.Folder())
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, unlock()) }()
		if err := record.RemoveTemp(o.Folder()); err != nil {
			return err
		}
	}
	tree, spec, err := experiment.Resolve(o)
	if err != nil {
		return err
	}
	ds, err := spec.Dataset(o.DatasetRoot)
	if err != nil {
		return err
	}
	splits, err := spec.SplitManager.Splits(data.Labels(ds))
	if err != nil {
		return err
	}
	env, err := newEnv(spec, ds)
	if err != nil {
		return err
	}
	if o.EpochLimits != nil && len(o.EpochLimits) != len(splits) {
		return fmt.Errorf("%s: the config change was recorded for %d split schemes, the config makes %d", o.ReproduceResults, len(o.EpochLimits), len(splits))
	}
	log := newLogger(o.Log, o.Out, o.Progress)
	env.bars = o.Progress
	trainNow := !o.Evaluate && !o.EvaluateEnsemble || o.ResumeTraining != ""
	if trainNow {
		// What only the data can tell (image sizes against the model, the
		// sampler against the classes, loss shapes) is found here, before
		// the experiment folder exists: a bad config writes nothing.
		if _, err := newFold(env, &record.Folder{Path: o.Folder()}, splits[0], log); err != nil {
			return fmt.Errorf("split scheme %s: %w", splits[0].Name, err)
		}
	}
	folder, err := openFolder(o, tree, splits)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, folder.Close()) }()
	prov, err := provenance.Start(folder.Path, o.CommandLine)
	if err != nil {
		return err
	}
	defer func() {
		if perr := prov.Finish(err, errors.Is(err, context.Canceled)); err == nil {
			err = perr
		}
	}()
	if err := record.WriteJSON(filepath.Join(folder.Path, "splits.json"), splits); err != nil {
		return err
	}
	log.Info("experiment", "folder", folder.Path, "images", ds.Len(), "classes", len(ds.Classes()), "split_schemes", len(splits))
	if trainNow {
		log.exp.plan(len(splits) * spec.NumEpochs * spec.IterationsPerEpoch)
		for i, sp := range splits {
			start := time.Now()
			limit := spec.NumEpochs
			if o.EpochLimits != nil {
				limit = min(limit, o.EpochLimits[i])
			}
			if err := trainFold(ctx, env, folder, sp, limit, o.ResumeTraining, log); err != nil {
				return fmt.Errorf("split scheme %s: %w", sp.Name, err)
			}
			log.Info("fold done", "fold", sp.Name, "time", time.Since(start).Round(time.Second))
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped before testing: %w", context.Cause(ctx))
	}
	if o.EpochLimits != nil {
		return nil // a stage of a reproduction: the last stage tests
	}
	return testFolds(env, folder, splits, stagesOf(o, trainNow), log)
}

// openFolder creates (and locks) the experiment folder and saves the resolved config
// first, so that a run is reproducible from its folder even if it dies; or
// opens the existing one. Resuming with a changed config keeps the saved
// configs and records the change, as powerful_benchmarker does, in
// configs/resume_training_config_diffs_<epochs of each split scheme>/,
// which --reproduce_results replays.
func openFolder(o experiment.Options, tree *config.Tree, splits []data.Split) (*record.Folder, error) {
	if !o.Existing() {
		f, err := record.Create(o.RootExperimentFolder, o.ExperimentName)
		if err != nil {
			return nil, err
		}
		if err := saveConfigs(tree, f.ConfigsDir()); err != nil {
			return nil, errors.Join(err, f.Close())
		}
		return f, nil
	}
	f, err := record.Open(o.Folder())
	if err != nil || o.ResumeTraining == "" {
		return f, err // --evaluate leaves the saved configs as they are
	}
	saved, err := config.LoadSaved(f.ConfigsDir(), nil)
	if err != nil {
		return nil, err
	}
	epochs, err := latestEpochs(f, splits)
	if err != nil {
		return nil, err
	}
	_, err = config.SaveDiff(f.ConfigsDir(), saved, tree, epochs, record.WriteFileAtomic)
	return f, err
}

// latestEpochs reads the epoch of each split scheme's latest checkpoint
// (0 before the first).
func latestEpochs(f *record.Folder, splits []data.Split) ([]int, error) {
	epochs := make([]int, len(splits))
	for i, sp := range splits {
		_, st, err := readCheckpoint(checkpointPath(f, sp.Name, "latest"), "latest")
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		epochs[i] = st.Fold.Epoch
	}
	return epochs, nil
}

func saveConfigs(tree *config.Tree, dir string) error {
	for _, cat := range config.Categories {
		text, err := tree.YAML(cat)
		if err != nil {
			return err
		}
		if err := record.WriteFileAtomic(filepath.Join(dir, cat+".yaml"), text); err != nil {
			return err
		}
	}
	return nil
}

// stages are what the test stage computes: after training, all of them;
// --evaluate the folds' own results (test and splits_to_eval) and
// --evaluate_ensemble the folds' concatenated embeddings, as
// powerful_benchmarker's eval and eval_ensemble.
type stages struct{ separated, ensemble, splitsToEval bool }

func stagesOf(o experiment.Options, trained bool) stages {
	if trained {
		return stages{separated: true, ensemble: true}
	}
	return stages{separated: o.Evaluate, ensemble: o.EvaluateEnsemble, splitsToEval: o.Evaluate}
}

// testFolds evaluates each fold's best model on the test set ("separated",
// mean and 95% CI over folds) and the folds' concatenated embeddings
// ("concatenated"), and writes both to meta_logs; with splitsToEval, also
// each best model on its fold's splits_to_eval ("separated_<split>").
func testFolds(env *env, folder *record.Folder, splits []data.Split, st stages, log *logger) error {
	var perFold []map[string]float64
	perSplit := map[string][]map[string]float64{}
	var embs [][]float32
	var dims []int
	var labels []int
	trunkOnly := env.spec.Tester.UseTrunkOutput
	for _, sp := range splits {
		best := checkpointPath(folder, sp.Name, "best")
		c, _, err := readCheckpoint(best, "best")
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("split scheme %s has no best model (%s): train it first", sp.Name, best)
		}
		if err != nil {
			return err
		}
		m, err := env.newModel(len(classIDs(env.ds, sp.Train)))
		if err != nil {
			return err
		}
		if err := m.SetTensors(modelTensors(c)); err != nil {
			return fmt.Errorf("%s: %w", best, err)
		}
		emb, dim, lab, err := env.embed(m, sp.Test, trunkOnly)
		if err != nil {
			return err
		}
		embs, dims, labels = append(embs, emb), append(dims, dim), lab
		if !st.separated {
			continue
		}
		res, err := env.evaluate(emb, lab, dim)
		if err != nil {
			return err
		}
		perFold = append(perFold, res)
		log.Info("tested", "fold", sp.Name, "test", formatMetrics(res, env.spec.PrimaryMetric))
		if !st.splitsToEval {
			continue
		}
		for _, name := range env.spec.SplitsToEval {
			items := map[string][]int{"train": sp.Train, "val": sp.Val}[name]
			emb, dim, lab, err := env.embed(m, items, trunkOnly)
			if err != nil {
				return err
			}
			res, err := env.evaluate(emb, lab, dim)
			if err != nil {
				return err
			}
			perSplit[name] = append(perSplit[name], res)
			log.Info("tested", "fold", sp.Name, name, formatMetrics(res, env.spec.PrimaryMetric))
		}
	}
	pm := env.spec.PrimaryMetric
	var summary []string
	if st.separated {
		separated := eval.Aggregate(perFold)
		if err := writeSummary(folder, "separated", separated); err != nil {
			return err
		}
		for _, name := range slices.Sorted(maps.Keys(perSplit)) {
			if err := writeSummary(folder, "separated_"+name, eval.Aggregate(perSplit[name])); err != nil {
				return err
			}
		}
		s := separated[pm]
		summary = append(summary, fmt.Sprintf("separated %.4f ± %.4f (95%% CI %.4f-%.4f over %d folds)", s.Mean, s.StdErr, s.CILow, s.CIHigh, s.N))
	}
	if st.ensemble {
		cat, dim, err := eval.Concatenate(embs, dims, env.spec.NormalizeConcatenated)
		if err != nil {
			return err
		}
		concatenated, err := env.evaluate(cat, labels, dim)
		if err != nil {
			return err
		}
		if err := writeMetrics(folder, "concatenated", concatenated); err != nil {
			return err
		}
		summary = append(summary, fmt.Sprintf("concatenated %.4f", concatenated[pm]))
	}
	if env.spec.CheckUntrained {
		if err := testUntrained(env, folder, splits[0], st, log); err != nil {
			return err
		}
	}
	log.Result("test %s: %s", pm, strings.Join(summary, ", "))
	log.Result("results: %s", folder.MetaLogsDir())
	return nil
}

// testUntrained tests the model before training, the baseline that
// training must beat: with its untrained embedder ("untrained") and, when
// evaluating, the trunk alone ("untrained_trunk", powerful_benchmarker's
// epoch -1). Every fold starts from the same weights, so one model serves.
func testUntrained(env *env, folder *record.Folder, sp data.Split, st stages, log *logger) error {
	m, err := env.newModel(len(classIDs(env.ds, sp.Train)))
	if err != nil {
		return err
	}
	type untrainedRun struct {
		name      string
		trunkOnly bool
	}
	runs := []untrainedRun{{"untrained", env.spec.Tester.UseTrunkOutput}}
	if st.splitsToEval {
		runs = append(runs, untrainedRun{"untrained_trunk", true})
	}
	for _, r := range runs {
		emb, dim, lab, err := env.embed(m, sp.Test, r.trunkOnly)
		if err != nil {
			return err
		}
		res, err := env.evaluate(emb, lab, dim)
		if err != nil {
			return err
		}
		if err := writeMetrics(folder, r.name, res); err != nil {
			return err
		}
		log.Result("%s test: %s", strings.ReplaceAll(r.name, "_", " "), formatMetrics(res, env.spec.PrimaryMetric))
	}
	return nil
}

// writeSummary writes the per-metric mean, standard error and 95% interval
// over folds as CSV and JSON.
func writeSummary(folder *record.Folder, name string, s map[string]eval.Summary) error {
	dir := folder.MetaLogsDir()
	tab := record.NewTable(filepath.Join(dir, name+".csv"))
	out := map[string]map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(s)) {
		v := s[k]
		row := map[string]float64{"mean": v.Mean, "stderr": v.StdErr, "ci95_low": v.CILow, "ci95_high": v.CIHigh, "n": float64(v.N)}
		out[k] = map[string]any{}
		for name, x := range row {
			// One fold has no spread: NaN, which JSON spells null.
			out[k][name] = x
			if math.IsNaN(x) {
				out[k][name] = nil
			}
		}
		tab.AddLabeled("metric", k, row, "mean", "stderr", "ci95_low", "ci95_high", "n")
	}
	if err := tab.Flush(); err != nil {
		return err
	}
	return record.WriteJSON(filepath.Join(dir, name+".json"), out)
}

// writeMetrics writes one evaluation's metrics as CSV and JSON.
func writeMetrics(folder *record.Folder, name string, m map[string]float64) error {
	dir := folder.MetaLogsDir()
	tab := record.NewTable(filepath.Join(dir, name+".csv"))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		tab.AddLabeled("metric", k, map[string]float64{"value": m[k]}, "value")
	}
	if err := tab.Flush(); err != nil {
		return err
	}
	return record.WriteJSON(filepath.Join(dir, name+".json"), m)
}
