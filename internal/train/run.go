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
	"time"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/experiment"
	"github.com/bench-ml/bench/internal/provenance"
	"github.com/bench-ml/bench/internal/record"
)

// Run carries out what the options ask: train a new experiment (or resume
// one), then test each fold's best model and aggregate the folds; or, with
// --fold, train and test one fold. When ctx is cancelled (SIGINT, SIGTERM)
// training stops before its next step, leaving the last checkpoint as it
// is, and Run returns an error wrapping ctx's cause (context.Canceled)
// that says where it stopped.
func Run(ctx context.Context, o experiment.Options) (err error) {
	r, err := start(o, o.Fold != "")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, r.release()) }()
	if o.Fold != "" {
		return runFold(ctx, r, o)
	}
	prov, err := provenance.Start(r.folder.Path, o.CommandLine)
	if err != nil {
		return err
	}
	defer func() {
		if perr := prov.Finish(err, errors.Is(err, context.Canceled)); err == nil {
			err = perr
		}
	}()
	if !o.Evaluate && !o.EvaluateEnsemble || o.ResumeTraining != "" {
		r.log.exp.plan(len(r.splits) * r.env.spec.NumEpochs * r.env.spec.IterationsPerEpoch)
		for _, sp := range r.splits {
			start := time.Now()
			if err := trainFold(ctx, r.env, r.folder, sp, o.ResumeTraining, r.log); err != nil {
				return fmt.Errorf("split scheme %s: %w", sp.Name, err)
			}
			r.log.Info("fold done", "fold", sp.Name, "time", time.Since(start).Round(time.Second))
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped before testing: %w", context.Cause(ctx))
	}
	return testFolds(r.env, r.folder, r.splits, r.log)
}

// Prepare does what a run does before training: check the config and
// create the experiment folder with its configs and splits (or open it, to
// resume). A launcher prepares the experiment before its jobs start; it
// shares the experiment's lock with them, as some may still run.
func Prepare(o experiment.Options) (*record.Folder, []data.Split, error) {
	r, err := start(o, true)
	if err != nil {
		return nil, nil, err
	}
	return r.folder, r.splits, r.release()
}

// started is an experiment whose folder is ready, and locked: exclusively
// by a run of every fold, shared by a job of one fold (--fold), so that
// the jobs of one experiment's folds run together but never beside a run
// of the whole experiment.
type started struct {
	env     *env
	folder  *record.Folder
	splits  []data.Split
	log     *logger
	release func() error
}

// start opens the experiment (see started), locked shared or exclusively.
func start(o experiment.Options, shared bool) (_ *started, err error) {
	if o.ExperimentName == "" {
		return nil, errors.New("--experiment_name is required")
	}
	lock := func(dir string) (func() error, error) {
		if shared {
			return record.LockShared(filepath.Join(dir, record.LockFile), "experiment folder "+dir)
		}
		return record.LockExperiment(dir)
	}
	release := func() error { return nil }
	defer func() {
		if err != nil {
			release()
		}
	}()
	// An existing experiment is locked before its saved config is read; a
	// missing one is left to Resolve to report.
	if _, err := record.Open(o.Folder()); o.Existing() && err == nil {
		r, err := lock(o.Folder())
		if err != nil {
			return nil, err
		}
		release = r
		// Under a shared lock, other jobs' temporary files are in use.
		if !shared {
			if err := record.RemoveTemp(o.Folder()); err != nil {
				return nil, err
			}
		}
	}
	tree, spec, err := experiment.Resolve(o)
	if err != nil {
		return nil, err
	}
	ds, err := spec.Dataset(o.DatasetRoot)
	if err != nil {
		return nil, err
	}
	splits, err := spec.SplitManager.Splits(data.Labels(ds))
	if err != nil {
		return nil, err
	}
	env, err := newEnv(spec, ds)
	if err != nil {
		return nil, err
	}
	log := newLogger(o.Log, o.Out, o.Progress)
	env.bars = o.Progress
	var folder *record.Folder
	if o.Existing() {
		if folder, err = openFolder(o, tree, splits); err != nil {
			return nil, err
		}
	} else {
		// What only the data can tell (image sizes against the model, the
		// sampler against the classes, loss shapes) is found here, before
		// the experiment folder exists: a bad config writes nothing.
		if _, err := newFold(env, &record.Folder{Path: o.Folder()}, splits[0], log); err != nil {
			return nil, fmt.Errorf("split scheme %s: %w", splits[0].Name, err)
		}
		if folder, err = createFolder(o, tree, splits); err != nil {
			return nil, err
		}
		r, err := lock(folder.Path)
		if err != nil {
			return nil, err
		}
		release = r
	}
	log.Info("experiment", "folder", folder.Path, "images", ds.Len(), "classes", len(ds.Classes()), "split_schemes", len(splits))
	return &started{env, folder, splits, log, release}, nil
}

// openFolder opens the existing experiment folder, recording any config
// change as a diff. (createFolder makes a new one.)
func openFolder(o experiment.Options, tree *config.Tree, splits []data.Split) (*record.Folder, error) {
	f, err := record.Open(o.Folder())
	if err != nil {
		return nil, err
	}
	if o.Fold == "" {
		if err := record.WriteJSON(filepath.Join(f.Path, splitsFile), splits); err != nil {
			return nil, err
		}
	}
	if !o.MergeArgsWhenResuming || len(o.Overrides) == 0 {
		return f, nil
	}
	saved, err := config.LoadSaved(f.ConfigsDir(), nil)
	if err != nil {
		return nil, err
	}
	changes := config.Diff(saved, tree)
	if len(changes) == 0 {
		return f, nil
	}
	stamp := time.Now().UTC().Format("20060102T150405Z")
	if err := record.WriteJSON(filepath.Join(f.ConfigsDir(), "diffs", stamp+".json"), changes); err != nil {
		return nil, err
	}
	return f, saveConfigs(tree, f.ConfigsDir())
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

// testFolds evaluates each fold's best model on the test set ("separated",
// mean and 95% CI over folds) and the folds' concatenated embeddings
// ("concatenated"), and writes both to meta_logs.
func testFolds(env *env, folder *record.Folder, splits []data.Split, log *logger) error {
	var perFold []map[string]float64
	var embs [][]float32
	var dims []int
	var labels []int
	for _, sp := range splits {
		t, err := testFold(env, folder, sp, log)
		if err != nil {
			return err
		}
		perFold = append(perFold, t.metrics)
		embs, dims, labels = append(embs, t.emb), append(dims, t.dim), t.labels
	}
	separated := eval.Aggregate(perFold)
	if err := writeSummary(folder, "separated", separated); err != nil {
		return err
	}
	cat, dim, err := eval.ConcatenateNormalized(embs, dims)
	if err != nil {
		return err
	}
	concatenated, err := env.evaluateWith(cat, labels, dim, env.spec.NormalizeConcatenated)
	if err != nil {
		return err
	}
	if err := writeMetrics(folder, "concatenated", concatenated); err != nil {
		return err
	}
	if env.spec.CheckUntrained {
		// The same model before training, on the same test set: the
		// baseline that training must beat.
		m, err := env.newModel(len(classIDs(env.ds, splits[0].Train)))
		if err != nil {
			return err
		}
		emb, dim, lab, err := env.embed(m, splits[0].Test, false)
		if err != nil {
			return err
		}
		untrained, err := env.evaluate(emb, lab, dim)
		if err != nil {
			return err
		}
		if err := writeMetrics(folder, "untrained", untrained); err != nil {
			return err
		}
		log.Result("untrained test: %s", formatMetrics(untrained, env.spec.PrimaryMetric))
	}
	pm := env.spec.PrimaryMetric
	s := separated[pm]
	log.Result("test %s: separated %.4f ± %.4f (95%% CI %.4f-%.4f over %d folds), concatenated %.4f",
		pm, s.Mean, s.StdErr, s.CILow, s.CIHigh, s.N, concatenated[pm])
	log.Result("results: %s", folder.MetaLogsDir())
	return nil
}

// foldTest is a fold's best model on the test set.
type foldTest struct {
	metrics map[string]float64
	emb     []float32
	dim     int
	labels  []int
}

// testFold embeds the test set with a fold's best model, scores it, and
// saves the metrics as <scheme>/test.json.
func testFold(env *env, folder *record.Folder, sp data.Split, log *logger) (foldTest, error) {
	best := checkpointPath(folder, sp.Name, "best")
	c, _, err := readCheckpoint(best, "best")
	if errors.Is(err, fs.ErrNotExist) {
		return foldTest{}, fmt.Errorf("split scheme %s has no best model (%s): train it first", sp.Name, best)
	}
	if err != nil {
		return foldTest{}, err
	}
	m, err := env.newModel(len(classIDs(env.ds, sp.Train)))
	if err != nil {
		return foldTest{}, err
	}
	if err := m.SetTensors(modelTensors(c)); err != nil {
		return foldTest{}, fmt.Errorf("%s: %w", best, err)
	}
	var t foldTest
	if t.emb, t.dim, t.labels, err = env.embed(m, sp.Test, false); err != nil {
		return foldTest{}, err
	}
	if t.metrics, err = env.evaluate(t.emb, t.labels, t.dim); err != nil {
		return foldTest{}, err
	}
	log.Info("tested", "fold", sp.Name, "test", formatMetrics(t.metrics, env.spec.PrimaryMetric))
	return t, record.WriteJSON(filepath.Join(folder.Path, sp.Name, "test.json"), t.metrics)
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
