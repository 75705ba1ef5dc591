package loss

import (
	"errors"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// DoNothingReducer leaves the losses unreduced, as PML's: Compute fails
// (there is no scalar to train on) and Unreduced returns the losses.
type DoNothingReducer struct{}

func newDoNothingReducer(*config.Params) Reducer { return DoNothingReducer{} }

var errDoNothing = errors.New("DoNothingReducer leaves the losses unreduced, so there is no loss value to train on (use loss.Unreduced to see them)")

func (DoNothingReducer) reduce(*ad.Tape, subLoss) (*ad.Node, error) { return nil, errDoNothing }
