package search

import (
	"fmt"

	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/record"
)

// ValidationObjective is the objective of a trial: the mean over the split
// schemes (folds) of an experiment of the best validation primary metric, as
// each fold's best checkpoint (verified) records it. The test set plays no part in it.
func ValidationObjective(folder string) (float64, error) {
	splits, err := expfolder.ReadSplits(folder)
	if err != nil {
		return 0, err
	}
	if len(splits) == 0 {
		return 0, fmt.Errorf("%s: no split schemes", folder)
	}
	f := &record.Folder{Path: folder}
	sum := 0.0
	for _, sp := range splits {
		_, st, err := expfolder.ReadCheckpoint(expfolder.CheckpointPath(f, sp.Name, "best"), "best")
		if err != nil {
			return 0, err
		}
		sum += st.Fold.BestMetric
	}
	return sum / float64(len(splits)), nil
}
