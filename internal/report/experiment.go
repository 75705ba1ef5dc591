package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bench-ml/bench/internal/record"
)

// defaultPrimaryMetric is eval_primary_metric when config_eval.yaml does not
// name one, as in a run.
const defaultPrimaryMetric = "mean_average_precision_at_r"

// Experiment is what a report shows of one experiment folder.
type Experiment struct {
	Path string
	// Name labels the experiment in tables and plot files: the folder's
	// base name.
	Name string
	// MetricLoss and Miner are the component names of loss_funcs.metric_loss
	// and of every mining_funcs entry ("+"-joined); Miner is "none" without
	// one.
	MetricLoss, Miner string
	PrimaryMetric     string
	Folds             []Fold
	// Separated and Concatenated are the test results in meta_logs; each is
	// nil while its file is missing (an unfinished experiment).
	Separated    map[string]Summary
	Concatenated map[string]float64
}

// Summary is one metric of the "separated" results: its mean over folds
// and the half-width of its 95% confidence interval (NaN with one fold).
type Summary struct {
	Mean, HalfWidth float64
	N               int
}

// Fold holds the records of one split scheme.
type Fold struct {
	Name string
	// Val is the validation primary metric per epoch (epoch 0 is the
	// untrained model when check_untrained_accuracy is on).
	Val Curve
	// Loss is the total training loss per iteration, as recorded.
	Loss Curve
}

// Missing names the meta_logs result files an unfinished experiment lacks;
// it is empty for a finished one.
func (e *Experiment) Missing() []string {
	var m []string
	if e.Separated == nil {
		m = append(m, "meta_logs/separated.json")
	}
	if e.Concatenated == nil {
		m = append(m, "meta_logs/concatenated.json")
	}
	return m
}

// Load reads an experiment folder. A folder that is not an experiment is an
// error; an unfinished one (no results in meta_logs yet) loads with its
// results nil, so that its curves can still be plotted.
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
	e := &Experiment{Path: path, Name: filepath.Base(abs)}
	if err := e.readConfigs(folder.ConfigsDir()); err != nil {
		return nil, err
	}
	if err := e.readFolds(folder); err != nil {
		return nil, err
	}
	if err := e.readResults(folder.MetaLogsDir()); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Experiment) readConfigs(dir string) error {
	var lm struct {
		LossFuncs   map[string]map[string]yaml.Node `yaml:"loss_funcs"`
		MiningFuncs map[string]map[string]yaml.Node `yaml:"mining_funcs"`
	}
	file := filepath.Join(dir, "config_loss_and_miners.yaml")
	if err := readYAML(file, &lm); err != nil {
		return err
	}
	e.MetricLoss = componentName(lm.LossFuncs["metric_loss"])
	if e.MetricLoss == "" {
		return fmt.Errorf("%s: loss_funcs.metric_loss: no loss", file)
	}
	var miners []string
	for _, role := range slices.Sorted(maps.Keys(lm.MiningFuncs)) {
		if name := componentName(lm.MiningFuncs[role]); name != "" {
			miners = append(miners, name)
		}
	}
	e.Miner = strings.Join(miners, "+")
	if e.Miner == "" {
		e.Miner = "none"
	}

	var ev struct {
		PrimaryMetric string `yaml:"eval_primary_metric"`
	}
	if err := readYAML(filepath.Join(dir, "config_eval.yaml"), &ev); err != nil {
		return err
	}
	e.PrimaryMetric = ev.PrimaryMetric
	if e.PrimaryMetric == "" {
		e.PrimaryMetric = defaultPrimaryMetric
	}
	return nil
}

// componentName is the type name of a one-key component map.
func componentName(c map[string]yaml.Node) string {
	return strings.Join(slices.Sorted(maps.Keys(c)), "+")
}

// readFolds reads the records of every split scheme folder that has them.
func (e *Experiment) readFolds(folder *record.Folder) error {
	dirs, err := filepath.Glob(filepath.Join(folder.Path, "*", "records"))
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		f := Fold{Name: filepath.Base(filepath.Dir(dir))}
		if f.Val, err = readCurve(filepath.Join(dir, "accuracies_val.csv"), "epoch", e.PrimaryMetric); err != nil {
			return err
		}
		if f.Loss, err = readCurve(filepath.Join(dir, "losses.csv"), "iteration", "total_loss"); err != nil {
			return err
		}
		e.Folds = append(e.Folds, f)
	}
	return nil
}

// readResults reads meta_logs/separated.json and concatenated.json; a
// missing file leaves its results nil.
func (e *Experiment) readResults(dir string) error {
	// NaN statistics (one fold) are written as null.
	var sep map[string]struct {
		Mean     *float64 `json:"mean"`
		CI95Low  *float64 `json:"ci95_low"`
		CI95High *float64 `json:"ci95_high"`
		N        int      `json:"n"`
	}
	file := filepath.Join(dir, "separated.json")
	if err := readOptionalJSON(file, &sep); err != nil {
		return err
	}
	if sep != nil {
		e.Separated = make(map[string]Summary, len(sep))
		for k, s := range sep {
			if s.Mean == nil {
				return fmt.Errorf("%s: %s: no mean", file, k)
			}
			hw := math.NaN()
			if s.CI95Low != nil && s.CI95High != nil {
				hw = (*s.CI95High - *s.CI95Low) / 2
			}
			e.Separated[k] = Summary{Mean: *s.Mean, HalfWidth: hw, N: s.N}
		}
	}
	return readOptionalJSON(filepath.Join(dir, "concatenated.json"), &e.Concatenated)
}

func readYAML(file string, v any) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("not a complete experiment folder: %w", err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// readOptionalJSON reads file into v, leaving v untouched if file does not
// exist.
func readOptionalJSON(file string, v any) error {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}
