// Package train runs an experiment: for every split scheme (fold) it trains
// a model, keeps the best epoch on the validation set and tests it, then
// aggregates the folds' test results (SPEC sections 5-7).
package train

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
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
	if err := env.checkMemory(); err != nil {
		return err
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
	folder, err := openFolder(o, tree)
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
	schemes := make([]string, len(splits))
	for i, sp := range splits {
		schemes[i] = sp.Name
	}
	hparams := tree.Flat()
	env.sync = func() error {
		return record.WriteExperimentDB(folder, schemes, hparams, o.GlobalDBPath)
	}
	if trainNow {
		log.exp.plan(len(splits) * spec.NumEpochs * spec.IterationsPerEpoch)
		for _, sp := range splits {
			start := time.Now()
			if err := trainFold(ctx, env, folder, sp, o.ResumeTraining, log); err != nil {
				return fmt.Errorf("split scheme %s: %w", sp.Name, err)
			}
			log.Info("fold done", "fold", sp.Name, "time", time.Since(start).Round(time.Second))
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped before testing: %w", context.Cause(ctx))
	}
	if err := testFolds(env, folder, splits, log); err != nil {
		return err
	}
	if err := env.sync(); err != nil {
		return err
	}
	return writeExperimentEvents(folder, schemes, hparams, env.spec.PrimaryMetric)
}

// writeExperimentEvents writes the experiment's TensorBoard session: its
// hyperparameters, the validation primary metric per epoch averaged over
// the folds that reached it, and the test results, which TensorBoard's
// HParams tab shows as the metric columns of the experiment's row.
func writeExperimentEvents(folder *record.Folder, schemes []string, hparams map[string]any, primary string) error {
	sums, counts := map[int64]float64{}, map[int64]int{}
	for _, scheme := range schemes {
		t, err := record.LoadTable(filepath.Join(folder.RecordsDir(scheme), "accuracies_val.csv"))
		if err != nil {
			return err
		}
		epochs, values := t.Points("epoch", primary)
		for i, e := range epochs {
			sums[int64(e)] += values[i]
			counts[int64(e)]++
		}
	}
	var scalars []record.Scalar
	for _, e := range slices.Sorted(maps.Keys(sums)) {
		scalars = append(scalars, record.Scalar{Tag: "val_mean_over_folds/" + primary, Step: e, Value: sums[e] / float64(counts[e])})
	}
	res, err := record.ReadResults(folder.MetaLogsDir())
	if err != nil {
		return err
	}
	for _, m := range slices.Sorted(maps.Keys(res.Separated)) {
		scalars = append(scalars, record.Scalar{Tag: "test_separated/" + m, Value: res.Separated[m].Mean})
	}
	for _, m := range slices.Sorted(maps.Keys(res.Concatenated)) {
		scalars = append(scalars, record.Scalar{Tag: "test_concatenated/" + m, Value: res.Concatenated[m]})
	}
	return record.WriteExperimentEvents(filepath.Join(folder.Path, "tensorboard"), filepath.Base(folder.Path), hparams, scalars)
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

// embeddingsDir keeps the test embeddings when save_embeddings is true,
// named as bench embed names them.
func embeddingsDir(f *record.Folder) string { return filepath.Join(f.Path, "embeddings") }

// testFolds evaluates each fold's best model on the test set ("separated",
// mean and 95% CI over folds) and the folds' concatenated embeddings
// ("concatenated"), and writes both to meta_logs.
func testFolds(env *env, folder *record.Folder, splits []data.Split, log *logger) error {
	test := &record.TestResults{}
	var perFold []map[string]float64
	var embs [][]float32
	var dims []int
	var labels []int
	for _, sp := range splits {
		emb, dim, lab, err := env.embedBest(folder, sp, sp.Test, false)
		if err != nil {
			return err
		}
		if env.spec.SaveEmbeddings {
			if _, err := writeEmbeddings(embeddingsDir(folder), sp.Name+"_test", emb, dim, lab); err != nil {
				return err
			}
		}
		res, err := env.evaluate(emb, lab, dim)
		if err != nil {
			return err
		}
		perFold = append(perFold, res)
		test.Folds = append(test.Folds, record.FoldResult{SplitScheme: sp.Name, Metrics: res})
		test.EmbeddingSize = dim
		embs, dims, labels = append(embs, emb), append(dims, dim), lab
		log.Info("tested", "fold", sp.Name, "test", formatMetrics(res, env.spec.PrimaryMetric))
	}
	results := record.Results{Separated: eval.Aggregate(perFold), Test: test}
	cat, dim, err := eval.ConcatenateNormalized(embs, dims)
	if err != nil {
		return err
	}
	if results.Concatenated, err = env.evaluateWith(cat, labels, dim, env.spec.NormalizeConcatenated); err != nil {
		return err
	}
	if env.spec.SaveEmbeddings {
		if _, err := writeEmbeddings(embeddingsDir(folder), "concatenated_test", cat, dim, labels); err != nil {
			return err
		}
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
		if results.Untrained, err = env.evaluate(emb, lab, dim); err != nil {
			return err
		}
		log.Result("untrained test: %s", formatMetrics(results.Untrained, env.spec.PrimaryMetric))
	}
	if err := record.WriteResults(folder.MetaLogsDir(), results); err != nil {
		return err
	}
	pm := env.spec.PrimaryMetric
	log.Result("test %s: separated %v, concatenated %.4f", pm, results.Separated[pm], results.Concatenated[pm])
	log.Result("results: %s", folder.MetaLogsDir())
	return nil
}
