package report

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/spec"
)

// Experiment is what a report shows of one experiment folder, read through
// the structs bench run writes with: the saved config decoded as a run
// decodes it, the records as record.Table, the results as expfolder.Results.
type Experiment struct {
	Path string
	// Name is the folder's base name.
	Name string
	// Method is the metric loss and the miners, as a paper names a row:
	// "TripletMarginLoss + BatchHardMiner"; CascadedEmbeddings' losses of
	// every slice are joined by ", ".
	Method        string
	Dataset       string // the dataset component's type
	Trunk         string // the trunk component's type
	PrimaryMetric string
	Folds         []Fold
	// Results are the test results in meta_logs; Separated is nil while
	// the experiment is unfinished.
	Results expfolder.Results
	// Hyperparameters is the resolved config, one value per dotted path.
	Hyperparameters map[string]any
}

// Fold holds the records of one split scheme.
type Fold struct {
	Name string
	// Val is the validation primary metric per epoch (epoch 0 is the
	// untrained model when check_untrained_accuracy is on).
	Val Curve
	// Loss is the total training loss per iteration.
	Loss Curve
}

// Finished reports whether the experiment has its test results.
func (e *Experiment) Finished() bool {
	return e.Results.Separated != nil && e.Results.Concatenated != nil
}

// EmbeddingSize is the width of one fold's embeddings, 0 while unknown
// (an unfinished experiment).
func (e *Experiment) EmbeddingSize() int {
	if e.Results.Test == nil {
		return 0
	}
	return e.Results.Test.EmbeddingSize
}

// Load reads an experiment folder. A folder that is not an experiment is an
// error; an unfinished one loads without results, so that its curves can
// still be drawn.
func Load(path string) (*Experiment, error) {
	folder, err := record.Open(path)
	if err != nil {
		return nil, err
	}
	// The absolute path names "." and ".." by their folder's name.
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	// splits.json first: its schema version covers the configs and
	// records too, which have no version field of their own.
	schemes, err := splitSchemes(folder)
	if err != nil {
		return nil, err
	}
	tree, spec, err := spec.Resolve(spec.Options{RootExperimentFolder: filepath.Dir(abs),
		ExperimentName: filepath.Base(abs), Evaluate: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	e := &Experiment{Path: path, Name: filepath.Base(abs), Trunk: spec.Trunk.Type, PrimaryMetric: spec.PrimaryKey(),
		Method: method(spec), Dataset: componentType(tree, "dataset"), Hyperparameters: tree.Flat()}
	if e.Results, err = expfolder.ReadResults(folder.MetaLogsDir()); err != nil {
		return nil, err
	}
	for _, s := range schemes {
		f, err := readFold(folder, s, e.PrimaryMetric)
		if err != nil {
			return nil, err
		}
		e.Folds = append(e.Folds, f)
	}
	return e, nil
}

// splitSchemes are the split scheme names of splits.json, in order; none
// before the run wrote it.
func splitSchemes(folder *record.Folder) ([]string, error) {
	splits, err := expfolder.ReadSplits(folder.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return expfolder.SchemeNames(splits), err
}

func readFold(folder *record.Folder, scheme, primary string) (Fold, error) {
	f := Fold{Name: scheme}
	dir := folder.RecordsDir(scheme)
	val, err := record.LoadTable(filepath.Join(dir, "accuracies_val.csv"))
	if err != nil {
		return f, err
	}
	f.Val.X, f.Val.Y = val.Points("epoch", primary)
	losses, err := record.LoadTable(filepath.Join(dir, "losses.csv"))
	if err != nil {
		return f, err
	}
	f.Loss.X, f.Loss.Y = losses.Points("iteration", "total_loss")
	return f, nil
}

// method names the experiment's metric losses and miners.
func method(s *spec.Spec) string {
	var losses, miners []string
	for _, k := range slices.Sorted(maps.Keys(s.LossFuncs)) {
		if strings.HasPrefix(k, "metric_loss") {
			losses = append(losses, s.LossFuncs[k].Type)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.Miners)) {
		miners = append(miners, s.Miners[k].Type)
	}
	m := strings.Join(slices.Compact(losses), ", ")
	if len(miners) > 0 {
		m += " + " + strings.Join(slices.Compact(miners), ", ")
	}
	return m
}

// componentType is the type name of the one-key component at key.
func componentType(t *config.Tree, key string) string {
	return strings.Join(t.Keys(key), "+")
}
