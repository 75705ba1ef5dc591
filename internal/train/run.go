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
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/experiment"
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
	if err := config.CheckName("--experiment_name", o.ExperimentName); err != nil {
		return err
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
	log := newLogger(o.Out, o.Progress)
	trainNow := !o.Evaluate && !o.EvaluateEnsemble || o.ResumeTraining != ""
	if trainNow {
		// What only the data can tell (image sizes against the model, the
		// sampler against the classes, loss shapes) is found here, before
		// the experiment folder exists: a bad config writes nothing.
		if _, err := newFold(env, &record.Folder{Path: o.Folder()}, splits[0], log); err != nil {
			return fmt.Errorf("split scheme %s: %w", splits[0].Name, err)
		}
	}
	folder, err := openFolder(o, tree)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, folder.Close()) }()
	if err := record.WriteJSON(filepath.Join(folder.Path, "splits.json"), splits); err != nil {
		return err
	}
	log.Printf("experiment %s: %d images, %d classes, %d split schemes", folder.Path, ds.Len(), len(ds.Classes()), len(splits))
	if trainNow {
		for _, sp := range splits {
			start := time.Now()
			if err := trainFold(ctx, env, folder, sp, o.ResumeTraining, log); err != nil {
				return fmt.Errorf("split scheme %s: %w", sp.Name, err)
			}
			log.Printf("%s: trained in %s", sp.Name, time.Since(start).Round(time.Second))
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped before testing: %w", context.Cause(ctx))
	}
	return testFolds(env, folder, splits, log)
}

// openFolder creates (and locks) the experiment folder and saves the resolved config
// first, so that a run is reproducible from its folder even if it dies; or
// opens the existing one, recording any config change as a diff.
func openFolder(o experiment.Options, tree *config.Tree) (*record.Folder, error) {
	if !o.Existing() {
		f, err := record.Create(o.RootExperimentFolder, o.ExperimentName)
		if err != nil {
			return nil, err
		}
		// The configs folder appears whole: a folder without it is no
		// experiment, which the next run with the same name replaces.
		if err := record.WriteDirAtomic(f.ConfigsDir(), func(dir string) error { return saveConfigs(tree, dir) }); err != nil {
			return nil, errors.Join(err, f.Close())
		}
		return f, nil
	}
	f, err := record.Open(o.Folder())
	if err != nil {
		return nil, err
	}
	// The accepted copy is the config the experiment runs with; the saved
	// files differ from it when edited by hand. (Experiments from before
	// the copy have their saved files only.)
	accepted := filepath.Join(f.ConfigsDir(), acceptedDir)
	if _, err := os.Stat(accepted); err != nil {
		accepted = f.ConfigsDir()
	}
	saved, err := config.LoadSaved(accepted, nil)
	if err != nil {
		return nil, err
	}
	if !o.MergeArgsWhenResuming {
		if edits := config.Diff(saved, tree); len(edits) > 0 {
			return nil, fmt.Errorf("the saved config in %s was edited since the experiment started (%s); undo the edit, or give --merge_argparse_when_resuming to continue with it (the change is then recorded)",
				f.ConfigsDir(), describeChanges(edits))
		}
		return f, nil
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

// acceptedDir, in the configs folder, holds a copy of the config files
// as the experiment last accepted them, so that a resume finds edits of the
// files (which would train on other splits, data or models).
const acceptedDir = ".accepted"

// saveConfigs writes the config, one file per category, into dir and its
// accepted copy; the copy first, so that a kill in between leaves files
// that differ from it as an edit would, and the next resume says so.
func saveConfigs(tree *config.Tree, dir string) error {
	for _, d := range []string{filepath.Join(dir, acceptedDir), dir} {
		for _, cat := range config.Categories {
			text, err := tree.YAML(cat)
			if err != nil {
				return err
			}
			if err := record.WriteFileAtomic(filepath.Join(d, cat+".yaml"), text); err != nil {
				return err
			}
		}
	}
	return nil
}

// describeChanges lists the first changes of a diff, for one line.
func describeChanges(changes []config.Change) string {
	var parts []string
	for i, c := range changes {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(changes)-i))
			break
		}
		parts = append(parts, c.String())
	}
	return strings.Join(parts, "; ")
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
		emb, dim, lab, err := env.embed(m, sp.Test, false)
		if err != nil {
			return err
		}
		res, err := env.evaluate(emb, lab, dim)
		if err != nil {
			return err
		}
		perFold = append(perFold, res)
		embs, dims, labels = append(embs, emb), append(dims, dim), lab
		log.Printf("%s test: %s", sp.Name, formatMetrics(res, env.spec.PrimaryMetric))
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
		log.Printf("untrained test: %s", formatMetrics(untrained, env.spec.PrimaryMetric))
	}
	pm := env.spec.PrimaryMetric
	s := separated[pm]
	log.Printf("test %s: separated %.4f ± %.4f (95%% CI %.4f-%.4f over %d folds), concatenated %.4f",
		pm, s.Mean, s.StdErr, s.CILow, s.CIHigh, s.N, concatenated[pm])
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
