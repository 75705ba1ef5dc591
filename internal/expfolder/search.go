package expfolder

import (
	"path/filepath"

	"github.com/bench-ml/bench/internal/config"
)

// The files of a search folder, beside one experiment folder per trial.
const (
	SearchFile = "search.json" // the state, rewritten after every trial
	BestFile   = "best.json"   // the best trial, when the search ends
)

// Search is search.json: what a search has done so far, enough to continue
// it exactly as if it had not stopped.
type Search struct {
	Header
	Space   []config.Search `json:"space"`
	Seed    uint64          `json:"seed"`
	NumInit int             `json:"num_init_trials"`
	Metric  string          `json:"metric"`
	Trials  []Trial         `json:"trials"`
}

// Trial is one point of a search and its experiment.
type Trial struct {
	Name      string             `json:"name"`      // its experiment folder in the search folder
	Values    map[string]float64 `json:"values"`    // by search range path
	Status    string             `json:"status"`    // running, done or diverged
	Objective *float64           `json:"objective"` // when done; null otherwise
}

// Best is best.json: the best trial of a finished search.
type Best struct {
	Header
	Trial     string             `json:"trial"`
	Folder    string             `json:"folder"`
	Metric    string             `json:"metric"`
	Objective float64            `json:"objective"`
	Values    map[string]float64 `json:"values"`
}

// ReadSearch reads search.json of the search folder dir; a missing file is
// an error satisfying errors.Is(err, fs.ErrNotExist).
func ReadSearch(dir string) (*Search, error) {
	var s Search
	if err := ReadJSON(filepath.Join(dir, SearchFile), &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// WriteSearch writes search.json into the search folder dir.
func WriteSearch(dir string, s *Search) error {
	return WriteJSON(filepath.Join(dir, SearchFile), s)
}

// WriteBest writes best.json into the search folder dir.
func WriteBest(dir string, b *Best) error {
	return WriteJSON(filepath.Join(dir, BestFile), b)
}
