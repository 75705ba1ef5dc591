package search

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/bench-ml/bench/internal/record"
)

// ValidationObjective is the objective of a trial: the mean over the split
// schemes (folds) of an experiment of the best validation primary metric, as
// each fold's best checkpoint (verified) records it. The test set plays no part in it.
func ValidationObjective(folder string) (float64, error) {
	var splits []struct {
		Name string `json:"name"`
	}
	if err := record.ReadJSON(filepath.Join(folder, "splits.json"), &splits); err != nil {
		return 0, err
	}
	if len(splits) == 0 {
		return 0, fmt.Errorf("%s: no split schemes", folder)
	}
	f := record.Folder{Path: folder}
	sum := 0.0
	for _, sp := range splits {
		path := filepath.Join(f.ModelsDir(sp.Name), "best.safetensors")
		c, err := record.ReadCheckpoint(path)
		if err != nil {
			return 0, err
		}
		var best struct {
			Fold struct {
				BestMetric *float64 `json:"best_metric"`
			} `json:"fold"`
		}
		if err := json.Unmarshal(c.State, &best); err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		if best.Fold.BestMetric == nil {
			return 0, fmt.Errorf("%s has no fold.best_metric", path)
		}
		sum += *best.Fold.BestMetric
	}
	return sum / float64(len(splits)), nil
}
