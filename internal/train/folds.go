package train

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"syscall"
	"time"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/provenance"
	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/spec"
)

// createFolder makes the experiment folder in one rename of a complete
// temporary folder holding the resolved configs and the splits, so that
// concurrent fold jobs see either no folder or a whole one: the first
// rename wins, as os.Mkdir would. With --fold a folder that exists already
// is joined when its configs are byte for byte this run's and its splits
// the same split schemes (an earlier bench wrote splits.json in another
// form); else it is an error, as a finished experiment is never
// overwritten.
func createFolder(o spec.Options, tree *config.Tree, splits []data.Split) (*record.Folder, error) {
	if err := os.MkdirAll(o.RootExperimentFolder, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(o.RootExperimentFolder, "."+o.ExperimentName+".new*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) // gone already after a successful rename
	staged := record.Folder{Path: tmp}
	if err := saveConfigs(tree, staged.ConfigsDir()); err != nil {
		return nil, err
	}
	if err := expfolder.WriteSplits(tmp, splits); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	path := o.Folder()
	err = os.Rename(tmp, path)
	if err == nil {
		return &record.Folder{Path: path}, nil
	}
	if !errors.Is(err, fs.ErrExist) && !errors.Is(err, syscall.ENOTEMPTY) {
		return nil, fmt.Errorf("creating experiment folder %s: %w", path, err)
	}
	// A folder in use says so first: by whom, rather than only that it exists.
	unlock, err := record.LockShared(filepath.Join(path, record.LockFile), "experiment folder "+path)
	if err != nil {
		return nil, err
	}
	unlock()
	if o.Fold == "" {
		return nil, fmt.Errorf("experiment folder %s already exists and is not empty; choose another --experiment_name, or use --resume_training / --evaluate", path)
	}
	other := func(name string) error {
		return fmt.Errorf("experiment folder %s exists with another %s than this run's: a fold joins an experiment of the same config only; "+
			"check the flags, or continue it with --resume_training latest", path, name)
	}
	for _, cat := range config.Categories {
		name := filepath.Join("configs", cat+".yaml")
		want, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil {
			return nil, err
		}
		got, err := os.ReadFile(filepath.Join(path, name))
		if err != nil || !bytes.Equal(got, want) {
			return nil, other(name)
		}
	}
	// The splits as read back, so that both sides are decoded alike.
	want, err := expfolder.ReadSplits(tmp)
	if err != nil {
		return nil, err
	}
	got, err := expfolder.ReadSplits(path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && !reflect.DeepEqual(got, want) {
		return nil, other(expfolder.SplitsFile)
	}
	if err != nil {
		return nil, err
	}
	return &record.Folder{Path: path}, nil
}

// pickFold finds the split scheme --fold names, by index or by name.
func pickFold(splits []data.Split, fold string) (data.Split, error) {
	for i, sp := range splits {
		if fold == sp.Name || fold == strconv.Itoa(i) {
			return sp, nil
		}
	}
	return data.Split{}, &config.Error{Source: "--fold", Msg: fmt.Sprintf("want a split scheme index 0..%d or name, got %q", len(splits)-1, fold)}
}

// foldLockWait is how long a fold job waits for another job of its fold to end.
const foldLockWait = 90 * time.Second

// runFold trains and tests one split scheme, under its lock so that two
// jobs never train it at once. A fold that has a checkpoint is only
// continued with --resume_training, which is what a requeued job does.
// Its provenance goes in its own folder, as jobs of other folds write
// theirs at the same time.
func runFold(ctx context.Context, r *started, o spec.Options) (err error) {
	if o.Evaluate || o.EvaluateEnsemble {
		return errors.New("--fold trains one split scheme; test and aggregate the folds with bench aggregate")
	}
	sp, err := pickFold(r.splits, o.Fold)
	if err != nil {
		return err
	}
	dir := filepath.Join(r.folder.Path, sp.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// A requeued job may start while its predecessor, signalled, still
	// saves its checkpoint: wait for the fold's lock a while.
	unlock, err := record.Lock(filepath.Join(dir, record.LockFile), "split scheme "+dir)
	for deadline := time.Now().Add(foldLockWait); err != nil && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		unlock, err = record.Lock(filepath.Join(dir, record.LockFile), "split scheme "+dir)
	}
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	if err := record.RemoveTemp(dir); err != nil {
		return err
	}
	latest := expfolder.CheckpointPath(r.folder, sp.Name, "latest")
	if _, err := os.Stat(latest); err == nil && o.ResumeTraining == "" {
		return fmt.Errorf("split scheme %s of %s has started already (%s): continue it with --resume_training latest", sp.Name, r.folder.Path, latest)
	}
	prov, err := provenance.Start(dir, o.CommandLine)
	if err != nil {
		return err
	}
	defer func() {
		if perr := prov.Finish(err, errors.Is(err, context.Canceled)); err == nil {
			err = perr
		}
	}()
	r.log.exp.plan(r.env.spec.NumEpochs * r.env.spec.IterationsPerEpoch)
	start := time.Now()
	if err := trainFold(ctx, r.env, r.folder, sp, r.env.spec.NumEpochs, o.ResumeTraining, r.log); err != nil {
		return fmt.Errorf("split scheme %s: %w", sp.Name, err)
	}
	r.log.Info("fold done", "fold", sp.Name, "time", time.Since(start).Round(time.Second))
	return testFold(r.env, r.folder, sp, r.log)
}

// Aggregate tests every fold's best model and aggregates them, as the end
// of a serial run does, once every fold's job has finished: the same
// numbers, as testing is deterministic.
func Aggregate(o spec.Options) (err error) {
	if o.ExperimentName == "" {
		return errors.New("--experiment_name is required")
	}
	folder, err := record.Open(o.Folder())
	if err != nil {
		return err
	}
	splits, err := expfolder.ReadSplits(folder.Path)
	if err != nil {
		return err
	}
	var unfinished []string
	for _, sp := range splits {
		d, err := expfolder.ReadDone(folder, sp.Name)
		if err != nil {
			return err
		}
		if d == nil {
			unfinished = append(unfinished, sp.Name)
		}
	}
	if len(unfinished) > 0 {
		return fmt.Errorf("%s: split schemes %v have not finished training; bench status --experiment_name %s shows them", folder.Path, unfinished, o.ExperimentName)
	}
	// Shared: the jobs that trained the folds may not have ended yet.
	o.Evaluate, o.ResumeTraining, o.Fold = true, "", ""
	r, err := start(context.Background(), o, true)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, r.release()) }()
	return r.finish(stages{separated: true, ensemble: true}) // as after training
}

// testFold embeds the test set with a fold's best model, as testFolds does,
// and saves its metrics as <scheme>/test.json.
func testFold(env *env, folder *record.Folder, sp data.Split, log *logger) error {
	emb, dim, labels, err := env.embedBest(folder, sp, sp.Test, false)
	if err != nil {
		return err
	}
	res, err := env.evaluate(emb, labels, dim)
	if err != nil {
		return err
	}
	log.Info("tested", "fold", sp.Name, "test", formatMetrics(res, env.spec.PrimaryKey()))
	return expfolder.WriteFoldTest(folder, sp.Name, res)
}
