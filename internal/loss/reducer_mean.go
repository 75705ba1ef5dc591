package loss

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// MeanReducer is the mean of the losses, zeros included.
type MeanReducer struct{}

func newMeanReducer(*config.Params) Reducer { return MeanReducer{} }

func (MeanReducer) reduce(t *ad.Tape, s subLoss) (*ad.Node, error) {
	return reduceWith(s, t.Mean), nil
}
