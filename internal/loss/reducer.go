package loss

import (
	"github.com/bench-ml/bench/internal/loss/ad"
)

// Reducer turns one sub-loss of a batch into a scalar, as PML's reducers do.
// A loss reduces each of its sub-losses (ContrastiveLoss's pos_loss and
// neg_loss, say) with its reducer and sums the results, as PML's
// MultipleReducers holding a copy of the reducer per sub-loss.
type Reducer interface {
	// reduce returns the 1 x 1 reduced sub-loss, or nil for zero.
	reduce(t *ad.Tape, s subLoss) (*ad.Node, error)
}

// subLoss is one entry of PML's loss dictionary.
type subLoss struct {
	name string
	// losses is the 1 x k row of per-element, per-pair or per-triplet
	// losses, or the 1 x 1 value when reduced; nil is PML's zero loss.
	losses  *ad.Node
	reduced bool    // PML's "already_reduced"
	divisor float64 // for DivisorReducer; negative when the loss gives none
}

// noDivisor marks a sub-loss without a divisor.
const noDivisor = -1

// reduceWith applies f to a sub-loss with something to reduce; already
// reduced losses pass through, and zero or empty ones give nil (PML gives
// NaN for the mean of an empty tensor; a zero loss is what training wants).
func reduceWith(s subLoss, f func(losses *ad.Node) *ad.Node) *ad.Node {
	switch {
	case s.losses == nil || s.losses.Len() == 0:
		return nil
	case s.reduced:
		return s.losses
	}
	return f(s.losses)
}
