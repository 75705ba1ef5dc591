package train

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/bench-ml/bench/internal/arrayio"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/spec"
)

// EmbedRequest is what `bench embed` asks of an experiment.
type EmbedRequest struct {
	Split          string // test, val or train
	Fold           string // "all", a fold's position (0, 1, ...) or its split scheme name
	UseTrunkOutput bool
	Out            string
}

// Embed writes the embeddings of a split by each chosen fold's best model,
// computed exactly as the test does, into r.Out as
// <split_scheme>_<split>_{embeddings,labels}.npy, and for the test set of
// more than one fold the ensemble the run evaluates,
// concatenated_test_{embeddings,labels}.npy. It returns the files written.
func Embed(o spec.Options, r EmbedRequest) ([]string, error) {
	if !slices.Contains([]string{"test", "val", "train"}, r.Split) {
		return nil, fmt.Errorf("--split %s: want test, val or train", r.Split)
	}
	if r.Out == "" {
		return nil, fmt.Errorf("--out is required")
	}
	o.Evaluate = true // the saved configs, and nothing written to the experiment
	env, splits, err := openExperiment(o)
	if err != nil {
		return nil, err
	}
	chosen, err := chooseFolds(splits, r.Fold)
	if err != nil {
		return nil, err
	}
	var written []string
	var embs [][]float32
	var dims []int
	var labels []int
	for _, sp := range chosen {
		emb, dim, lab, err := env.embedBest(&record.Folder{Path: o.Folder()}, sp, items(sp, r.Split), r.UseTrunkOutput)
		if err != nil {
			return nil, err
		}
		files, err := writeEmbeddings(r.Out, sp.Name+"_"+r.Split, emb, dim, lab)
		if err != nil {
			return nil, err
		}
		written = append(written, files...)
		embs, dims, labels = append(embs, emb), append(dims, dim), lab
	}
	if r.Split == "test" && len(chosen) > 1 {
		cat, dim, err := eval.Concatenate(embs, dims, true)
		if err != nil {
			return nil, err
		}
		files, err := writeEmbeddings(r.Out, "concatenated_test", cat, dim, labels)
		if err != nil {
			return nil, err
		}
		written = append(written, files...)
	}
	return written, nil
}

// openExperiment loads an existing experiment's saved config, dataset and
// split schemes.
func openExperiment(o spec.Options) (*env, []data.Split, error) {
	_, spec, err := spec.Resolve(o)
	if err != nil {
		return nil, nil, err
	}
	ds, err := spec.Dataset(o.DatasetRoot)
	if err != nil {
		return nil, nil, err
	}
	splits, err := spec.SplitManager.Splits(data.Labels(ds))
	if err != nil {
		return nil, nil, err
	}
	env, err := newEnv(spec, ds)
	return env, splits, err
}

// chooseFolds picks the folds fold names: "all", a position or a split
// scheme name.
func chooseFolds(splits []data.Split, fold string) ([]data.Split, error) {
	if fold == "all" || fold == "" {
		return splits, nil
	}
	names := make([]string, len(splits))
	for i, sp := range splits {
		names[i] = sp.Name
		if sp.Name == fold {
			return splits[i : i+1], nil
		}
	}
	if i, err := strconv.Atoi(fold); err == nil && i >= 0 && i < len(splits) {
		return splits[i : i+1], nil
	}
	return nil, fmt.Errorf("--fold %s: want all, 0..%d or one of %v", fold, len(splits)-1, names)
}

func items(sp data.Split, split string) []int {
	switch split {
	case "val":
		return sp.Val
	case "train":
		return sp.Train
	}
	return sp.Test
}

// embedBest embeds items with the best model of a split scheme.
func (e *env) embedBest(folder *record.Folder, sp data.Split, items []int, trunkOnly bool) ([]float32, int, []int, error) {
	best := checkpointPath(folder, sp.Name, "best")
	c, _, err := readCheckpoint(best, "best")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil, fmt.Errorf("split scheme %s has no best model (%s): train it first", sp.Name, best)
	}
	if err != nil {
		return nil, 0, nil, err
	}
	m, err := e.newModel(len(classIDs(e.ds, sp.Train)))
	if err != nil {
		return nil, 0, nil, err
	}
	if err := m.SetTensors(modelTensors(c)); err != nil {
		return nil, 0, nil, fmt.Errorf("%s: %w", best, err)
	}
	return e.embed(m, items, trunkOnly)
}

// writeEmbeddings writes <prefix>_embeddings.npy (float32, as computed)
// and <prefix>_labels.npy into dir.
func writeEmbeddings(dir, prefix string, emb []float32, dim int, labels []int) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ef, lf := filepath.Join(dir, prefix+"_embeddings.npy"), filepath.Join(dir, prefix+"_labels.npy")
	if err := arrayio.WriteArray32(ef, emb, len(labels), dim); err != nil {
		return nil, err
	}
	if err := arrayio.WriteLabels(lf, labels); err != nil {
		return nil, err
	}
	return []string{ef, lf}, nil
}
