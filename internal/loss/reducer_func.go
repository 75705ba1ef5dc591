package loss

import "github.com/bench-ml/bench/internal/loss/ad"

// ReducerFunc is a reducer written outside this package: it turns the
// 1 x k row of one sub-loss's losses (name as in PML's loss dictionary:
// "loss", "pos_loss", ...) into a 1 x 1 node, or nil for a zero loss. Zero,
// empty and already reduced sub-losses do not reach it, as with the
// built-in reducers.
type ReducerFunc func(t *ad.Tape, name string, losses *ad.Node) (*ad.Node, error)

func (f ReducerFunc) reduce(t *ad.Tape, s subLoss) (*ad.Node, error) {
	var err error
	v := reduceWith(s, func(losses *ad.Node) *ad.Node {
		var v *ad.Node
		v, err = f(t, s.name, losses)
		return v
	})
	return v, err
}
