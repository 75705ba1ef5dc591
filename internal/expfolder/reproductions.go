package expfolder

import (
	"maps"
	"path/filepath"
	"slices"

	"github.com/bench-ml/bench/internal/eval"
)

// ReproductionsFile is bench search --reproductions' report, in the search
// folder.
const ReproductionsFile = "reproductions.json"

// Reproductions are the best trial and its reproductions: the experiments
// and, for each metric of their test results, the mean and 95% t-interval
// over them, under separated.json's column names.
type Reproductions struct {
	Header
	BestTrial    string             `json:"best_trial"`
	Experiments  []string           `json:"experiments"`
	Separated    map[string]Metrics `json:"separated"`    // of each experiment's mean over folds
	Concatenated map[string]Metrics `json:"concatenated"` // of each experiment's concatenated embeddings
}

// WriteReproductions writes the reproductions report into the search folder
// dir.
func WriteReproductions(dir, best string, experiments []string, separated, concatenated map[string]eval.Summary) error {
	r := Reproductions{BestTrial: best, Experiments: experiments, Separated: summaryRows(separated), Concatenated: summaryRows(concatenated)}
	return WriteJSON(filepath.Join(dir, ReproductionsFile), &r)
}

// ReadReproductions reads the report WriteReproductions wrote in dir.
func ReadReproductions(dir string) (*Reproductions, error) {
	var r Reproductions
	return &r, ReadJSON(filepath.Join(dir, ReproductionsFile), &r)
}

func summaryRows(s map[string]eval.Summary) map[string]Metrics {
	rows := make(map[string]Metrics, len(s))
	for _, k := range slices.Sorted(maps.Keys(s)) {
		rows[k] = summaryRow(s[k])
	}
	return rows
}
