package loss

import (
	"fmt"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// DivisorReducer is the sum of the losses divided by a divisor the loss
// supplies (MarginLoss: the number of active terms; ProxyAnchorLoss: the
// number of classes), 0 when the divisor is 0.
type DivisorReducer struct{}

func newDivisorReducer(*config.Params) Reducer { return DivisorReducer{} }

func (DivisorReducer) reduce(t *ad.Tape, s subLoss) (*ad.Node, error) {
	if s.divisor < 0 && !s.reduced && s.losses != nil {
		return nil, fmt.Errorf("DivisorReducer: %s has no divisor (only MarginLoss, ProxyAnchorLoss and SparseCentersRegularizer supply one)", s.name)
	}
	return reduceWith(s, func(losses *ad.Node) *ad.Node {
		if s.divisor == 0 {
			return nil
		}
		return t.Scale(t.Sum(losses), 1/s.divisor)
	}), nil
}
