package loss

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// ThresholdReducer is the mean of the losses strictly between low and high
// (either may be absent), 0 when none is.
type ThresholdReducer struct {
	Low, High *float64
}

func newThresholdReducer(p *config.Params) Reducer {
	r := ThresholdReducer{Low: p.OptFloat("low"), High: p.OptFloat("high")}
	if r.Low == nil && r.High == nil {
		p.Fail("low", "at least one of low and high must be given")
	}
	return r
}

// newAvgNonZeroReducer is ThresholdReducer(low=0): the mean of the positive
// losses.
func newAvgNonZeroReducer(*config.Params) Reducer {
	zero := 0.0
	return ThresholdReducer{Low: &zero}
}

func (r ThresholdReducer) reduce(t *ad.Tape, s subLoss) (*ad.Node, error) {
	return reduceWith(s, func(losses *ad.Node) *ad.Node {
		keep := make([]int, 0, losses.Len())
		for i, v := range losses.Value {
			if (r.Low == nil || v > *r.Low) && (r.High == nil || v < *r.High) {
				keep = append(keep, i)
			}
		}
		if len(keep) == 0 {
			return nil
		}
		return t.Mean(t.Gather(losses, keep))
	}), nil
}
