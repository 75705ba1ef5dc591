package loss

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// SumReducer is the sum of the losses.
type SumReducer struct{}

func newSumReducer(*config.Params) Reducer { return SumReducer{} }

func (SumReducer) reduce(t *ad.Tape, s subLoss) (*ad.Node, error) {
	return reduceWith(s, t.Sum), nil
}
