// Package train runs an experiment: for every split scheme (fold) it trains
// a model, keeps the best epoch on the validation set and tests it, then
// aggregates the folds' test results (SPEC sections 5-7).
package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/provenance"
	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/spec"
)

// Run carries out what the options ask: train a new experiment (or resume
// one), then test each fold's best model and aggregate the folds; or, with
// --fold, train and test one fold. When ctx is cancelled (SIGINT, SIGTERM)
// training stops before its next step, leaving the last checkpoint as it
// is, and Run returns an error wrapping ctx's cause (context.Canceled)
// that says where it stopped.
func Run(ctx context.Context, o spec.Options) (err error) {
	if o.ReproduceResults != "" && o.DiffsToReplay == nil {
		return reproduce(ctx, o)
	}
	r, err := start(ctx, o, o.Fold != "")
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
		if err != nil && o.Existing() && !r.log.changed() {
			// A resume or evaluation refused before it changed anything
			// (a damaged checkpoint) leaves no trace.
			err = errors.Join(err, prov.Withdraw())
			return
		}
		if perr := prov.Finish(err, errors.Is(err, context.Canceled)); err == nil {
			err = perr
		}
	}()
	trainNow := !o.Evaluate && !o.EvaluateEnsemble || o.ResumeTraining != ""
	if trainNow {
		r.log.exp.plan(len(r.splits) * r.env.spec.NumEpochs * r.env.spec.IterationsPerEpoch)
		for i, sp := range r.splits {
			start := time.Now()
			limit := r.env.spec.NumEpochs
			if o.EpochLimits != nil {
				limit = min(limit, o.EpochLimits[i])
			}
			if err := trainFold(ctx, r.env, r.folder, sp, limit, o.ResumeTraining, r.log); err != nil {
				return fmt.Errorf("split scheme %s: %w", sp.Name, err)
			}
			r.log.Info("fold done", "fold", sp.Name, "time", time.Since(start).Round(time.Second))
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped before testing: %w", context.Cause(ctx))
	}
	if o.EpochLimits != nil {
		return nil // a stage of a reproduction: the last stage tests
	}
	return r.finish(stagesOf(o, trainNow))
}

// finish tests every fold's best model, aggregates the folds, and brings
// the experiment's database and TensorBoard session up to date.
func (r *started) finish(st stages) error {
	if err := testFolds(r.env, r.folder, r.splits, st, r.log); err != nil {
		return err
	}
	if err := r.env.sync(); err != nil {
		return err
	}
	return writeExperimentEvents(r.folder, expfolder.SchemeNames(r.splits), r.hparams, r.env.spec.PrimaryKey())
}

// Prepare does what a run does before training: check the config and
// create the experiment folder with its configs and splits (or open it, to
// resume). A launcher prepares the experiment before its jobs start; it
// shares the experiment's lock with them, as some may still run.
func Prepare(o spec.Options) (*record.Folder, []data.Split, error) {
	r, err := start(context.Background(), o, true)
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
	hparams map[string]any
	log     *logger
	release func() error
}

// start opens the experiment (see started), locked shared or exclusively;
// ctx stops the trunk outputs of a feature cache being computed.
func start(ctx context.Context, o spec.Options, shared bool) (_ *started, err error) {
	if o.ExperimentName == "" {
		return nil, errors.New("--experiment_name is required")
	}
	if err := config.CheckName("--experiment_name", o.ExperimentName); err != nil {
		return nil, err
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
	tree, s, err := spec.Resolve(o)
	if err != nil {
		return nil, err
	}
	ds, err := s.Dataset(o.DatasetRoot)
	if err != nil {
		return nil, err
	}
	splits, err := s.SplitManager.Splits(ds)
	if err != nil {
		return nil, err
	}
	if o.EpochLimits != nil && len(o.EpochLimits) != len(splits) {
		return nil, fmt.Errorf("%s: the config change was recorded for %d split schemes, the config makes %d", o.ReproduceResults, len(o.EpochLimits), len(splits))
	}
	env, err := newEnv(s, ds)
	if err != nil {
		return nil, err
	}
	if err := env.checkMemory(); err != nil {
		return nil, err
	}
	log := newLogger(o.Log, o.Out, o.Progress)
	env.bars = o.Progress
	// The cache holds one stream: a TwoStream dataset's frozen trunk runs
	// on its images at every step.
	if trunkFrozen(s) && s.Trunk.Type != "Identity" && !s.TwoStream && env.posnegData == nil {
		if err := env.useFeatureCache(ctx, filepath.Join(o.RootExperimentFolder, featureCacheDir), log); err != nil {
			return nil, err
		}
	}
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
	hparams := tree.Flat()
	env.sync = func() error {
		return expfolder.WriteExperimentDB(folder, expfolder.SchemeNames(splits), hparams, o.GlobalDBPath)
	}
	return &started{env, folder, splits, hparams, log, release}, nil
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
	res, err := expfolder.ReadResults(folder.MetaLogsDir())
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

// openFolder opens the existing experiment folder. (createFolder makes a
// new one.) Resuming with a changed config keeps the saved configs and
// records the change, as powerful_benchmarker does, in
// configs/resume_training_config_diffs_<epochs of each split scheme>/,
// which --reproduce_results replays; --evaluate changes nothing.
func openFolder(o spec.Options, tree *config.Tree, splits []data.Split) (*record.Folder, error) {
	f, err := record.Open(o.Folder())
	if err != nil {
		return nil, err
	}
	accepted, edited, err := handEdits(f, o.MergeArgsWhenResuming && o.ResumeTraining != "")
	if err != nil {
		return nil, err
	}
	if o.Fold == "" {
		if err := checkSplits(f, splits, o.MergeArgsWhenResuming && o.ResumeTraining != ""); err != nil {
			return nil, err
		}
	}
	if o.ResumeTraining == "" {
		return f, nil
	}
	epochs, err := latestEpochs(f, splits)
	if err != nil {
		return nil, err
	}
	// Against the config the experiment ran with: a hand edit accepted by
	// --merge_argparse_when_resuming is recorded as a change like any
	// other, and the saved files go back to the originals.
	write := func(path string, data []byte) error {
		rel, err := filepath.Rel(f.ConfigsDir(), path)
		if err != nil {
			return err
		}
		return errors.Join(record.WriteFileAtomic(filepath.Join(f.ConfigsDir(), acceptedDir, rel), data), record.WriteFileAtomic(path, data))
	}
	if _, err := config.SaveDiff(f.ConfigsDir(), accepted, tree, epochs, write); err != nil {
		return nil, err
	}
	if !edited {
		return f, nil
	}
	for _, cat := range config.Categories {
		data, err := os.ReadFile(filepath.Join(f.ConfigsDir(), acceptedDir, cat+".yaml"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := record.WriteFileAtomic(filepath.Join(f.ConfigsDir(), cat+".yaml"), data); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// acceptedDir, in the configs folder, is a copy of the saved configs and
// recorded changes as bench wrote them, so that an edit by hand, which
// would train or test on other splits, data or models, is found.
const acceptedDir = ".accepted"

// handEdits compares the saved configs with their accepted copy and
// returns the config the experiment ran with. An edit is refused in one
// line unless accept (a resume with --merge_argparse_when_resuming).
// Experiments saved before the copy existed have their saved files only.
func handEdits(f *record.Folder, accept bool) (*config.Tree, bool, error) {
	saved, err := config.LoadSaved(f.ConfigsDir(), nil)
	if err != nil {
		return nil, false, err
	}
	dir := filepath.Join(f.ConfigsDir(), acceptedDir)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return saved, false, nil
	}
	accepted, err := config.LoadSaved(dir, nil)
	if err != nil {
		return nil, false, err
	}
	edits := config.Diff(accepted, saved)
	if len(edits) > 0 && !accept {
		return nil, false, fmt.Errorf("the saved config in %s was edited since bench wrote it (%s); undo the edit, or resume with --merge_argparse_when_resuming to continue with it (the change is then recorded)",
			f.ConfigsDir(), describeChanges(edits))
	}
	return accepted, len(edits) > 0, nil
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

// checkSplits compares the split schemes the config makes with the saved
// ones: other splits (a changed dataset, or a config changed around the
// copy) are refused unless accept, which saves the new ones.
func checkSplits(f *record.Folder, splits []data.Split, accept bool) error {
	path := expfolder.SplitsPath(f.Path)
	saved, err := expfolder.ReadSplits(f.Path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err == nil && sameJSON(saved, splits) {
		return nil
	}
	if err == nil && !accept {
		return fmt.Errorf("%s: the config and dataset now make other split schemes than the experiment was trained on; undo the change, or resume with --merge_argparse_when_resuming to continue with them", path)
	}
	return expfolder.WriteSplits(f.Path, splits)
}

// latestEpochs reads the epoch of each split scheme's latest checkpoint
// (0 before the first).
func latestEpochs(f *record.Folder, splits []data.Split) ([]int, error) {
	epochs := make([]int, len(splits))
	for i, sp := range splits {
		_, st, err := expfolder.ReadCheckpoint(expfolder.CheckpointPath(f, sp.Name, "latest"), "latest")
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

// sameJSON reports whether a and b read back from JSON as the same value.
func sameJSON(a, b any) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	if erra != nil || errb != nil {
		return false
	}
	var va, vb any
	return json.Unmarshal(ja, &va) == nil && json.Unmarshal(jb, &vb) == nil && reflect.DeepEqual(va, vb)
}

// saveConfigs writes the config, one file per category, into dir and its
// accepted copy (the copy first: a kill in between leaves files that differ
// from it as an edit would, and the next resume says so).
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

// embeddingsDir keeps the test embeddings when save_embeddings is true,
// named as bench embed names them.
func embeddingsDir(f *record.Folder) string { return filepath.Join(f.Path, "embeddings") }

// stages are what the test stage computes: after training, all of them;
// --evaluate the folds' own results (test and splits_to_eval) and
// --evaluate_ensemble the folds' concatenated embeddings, as
// powerful_benchmarker's eval and eval_ensemble.
type stages struct{ separated, ensemble, splitsToEval bool }

func stagesOf(o spec.Options, trained bool) stages {
	if trained {
		return stages{separated: true, ensemble: true}
	}
	return stages{separated: o.Evaluate, ensemble: o.EvaluateEnsemble, splitsToEval: o.Evaluate}
}

// testFolds evaluates each fold's best model on the test set ("separated",
// mean and 95% CI over folds) and the folds' concatenated embeddings
// ("concatenated"), and writes both to meta_logs; with splitsToEval, also
// each best model on its fold's splits_to_eval ("separated_<split>") and
// the untrained trunk ("untrained_trunk").
func testFolds(env *env, folder *record.Folder, splits []data.Split, st stages, log *logger) error {
	test := &expfolder.TestResults{}
	var perFold []map[string]float64
	perSplit := map[string][]map[string]float64{}
	var embs [][]float32
	var dims []int
	var labels []int
	trunkOnly := env.spec.Tester.UseTrunkOutput
	for _, sp := range splits {
		emb, dim, lab, err := env.embedBest(folder, sp, sp.Test, trunkOnly)
		if err != nil {
			return err
		}
		if env.spec.SaveEmbeddings {
			log.wrote = true
			if _, err := writeEmbeddings(embeddingsDir(folder), sp.Name+"_test", emb, dim, lab); err != nil {
				return err
			}
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
		test.Folds = append(test.Folds, expfolder.FoldResult{SplitScheme: sp.Name, Metrics: res})
		test.EmbeddingSize = dim
		log.Info("tested", "fold", sp.Name, "test", formatMetrics(res, env.spec.PrimaryKey()))
		for _, name := range env.spec.SplitsToEval {
			if !st.splitsToEval {
				break
			}
			if name == "test" {
				continue // tested above
			}
			items := map[string][]int{"train": sp.Train, "val": sp.Val}[name]
			emb, dim, lab, err := env.embedBest(folder, sp, items, trunkOnly)
			if err != nil {
				return err
			}
			res, err := env.evaluate(emb, lab, dim)
			if err != nil {
				return err
			}
			perSplit[name] = append(perSplit[name], res)
			log.Info("tested", "fold", sp.Name, name, formatMetrics(res, env.spec.PrimaryKey()))
		}
	}
	var results expfolder.Results
	pm := env.spec.PrimaryKey()
	var summary []string
	if st.separated {
		results.Separated, results.Test = eval.Aggregate(perFold), test
		summary = append(summary, fmt.Sprintf("separated %v", results.Separated[pm]))
	}
	if st.ensemble {
		cat, dim, err := eval.Concatenate(embs, dims, env.spec.NormalizeConcatenated)
		if err != nil {
			return err
		}
		if results.Concatenated, err = env.evaluate(cat, labels, dim); err != nil {
			return err
		}
		if env.spec.SaveEmbeddings {
			log.wrote = true
			if _, err := writeEmbeddings(embeddingsDir(folder), "concatenated_test", cat, dim, labels); err != nil {
				return err
			}
		}
		summary = append(summary, fmt.Sprintf("concatenated %.4f", results.Concatenated[pm]))
	}
	for name, res := range perSplit {
		if results.SeparatedSplits == nil {
			results.SeparatedSplits = map[string]map[string]eval.Summary{}
		}
		results.SeparatedSplits[name] = eval.Aggregate(res)
	}
	if env.spec.CheckUntrained {
		// The same model before training, on the same test set: the
		// baseline that training must beat; every fold starts from it.
		m, err := env.newModel(len(classIDs(env.ds, splits[0].Train)))
		if err != nil {
			return err
		}
		emb, dim, lab, err := env.embed(m, splits[0].Test, trunkOnly)
		if err != nil {
			return err
		}
		if results.Untrained, err = env.evaluate(emb, lab, dim); err != nil {
			return err
		}
		log.Result("untrained test: %s", formatMetrics(results.Untrained, pm))
		if st.splitsToEval { // powerful_benchmarker's epoch -1
			if emb, dim, lab, err = env.embed(m, splits[0].Test, true); err != nil {
				return err
			}
			trunk, err := env.evaluate(emb, lab, dim)
			if err != nil {
				return err
			}
			results.UntrainedTrunk = trunk
			log.Result("untrained trunk test: %s", formatMetrics(trunk, pm))
		}
	}
	log.wrote = true
	if err := expfolder.WriteResults(folder.MetaLogsDir(), results); err != nil {
		return err
	}
	log.Result("test %s: %s", pm, strings.Join(summary, ", "))
	log.Result("results: %s", folder.MetaLogsDir())
	return nil
}
