package optim

import "github.com/bench-ml/bench/internal/config"

// SGD is torch.optim.SGD: stochastic gradient descent with optional
// momentum (heavy-ball or Nesterov), dampening and L2 weight decay.
type SGD struct {
	Momentum, Dampening, WeightDecay float64
	Nesterov                         bool
}

func newSGD(p *config.Params) Rule {
	r := SGD{
		Momentum:    p.Float("momentum", 0, config.Min(0)),
		Dampening:   p.Float("dampening", 0),
		WeightDecay: p.Float("weight_decay", 0, config.Min(0)),
		Nesterov:    p.Bool("nesterov", false),
	}
	if r.Nesterov && (r.Momentum <= 0 || r.Dampening != 0) {
		p.Fail("nesterov", "needs momentum > 0 and dampening 0 (got momentum %v, dampening %v)", r.Momentum, r.Dampening)
	}
	return r
}

func (r SGD) buffers() []string {
	if r.Momentum == 0 {
		return nil
	}
	return []string{"momentum_buffer"}
}

// sgdStep is one SGD update of p; t counts steps from 1.
func sgdStep[T Float](r SGD, lr float64, t int, p *Param[T], bufs [][]T) {
	wd, mu, damp, step := T(r.WeightDecay), T(r.Momentum), T(1-r.Dampening), T(-lr)
	for i, g := range p.Grad {
		if wd != 0 {
			g += wd * p.Value[i]
		}
		if mu != 0 {
			b := bufs[0]
			// PyTorch's buffer starts as the first gradient itself, undamped.
			if t == 1 {
				b[i] = g
			} else {
				b[i] = mu*b[i] + damp*g
			}
			if r.Nesterov {
				g += mu * b[i]
			} else {
				g = b[i]
			}
		}
		p.Value[i] += step * g
	}
}
