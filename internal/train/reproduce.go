package train

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/spec"
)

// reproduce re-runs a saved experiment. When it was resumed with a changed
// config, the changes are replayed as powerful_benchmarker replays them:
// each split scheme trains, with the config of the time, to the epoch it had
// reached when the config changed, then resumes with the change; the last
// stage trains to the end and tests.
func reproduce(ctx context.Context, o spec.Options) error {
	stages, err := config.DiffStages(filepath.Join(o.ReproduceResults, "configs"))
	if err != nil {
		return err
	}
	if o.Evaluate || o.EvaluateEnsemble {
		// Evaluating a reproduction trains nothing: its models are
		// evaluated once, with every change replayed.
		all := len(stages)
		o.DiffsToReplay = &all
		return Run(ctx, o)
	}
	for i := range len(stages) + 1 {
		so := o
		so.DiffsToReplay = &i
		if i < len(stages) {
			so.EpochLimits = stages[i].Epochs
		}
		if i > 0 {
			so.ResumeTraining = "latest"
		}
		if err := Run(ctx, so); err != nil {
			if i < len(stages) {
				return fmt.Errorf("replaying %s: %w", stages[i].Dir, err)
			}
			return err
		}
	}
	return nil
}
