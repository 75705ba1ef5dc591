package optim

import "github.com/bench-ml/bench/internal/config"

// RMSprop is torch.optim.RMSprop: gradients divided by a running RMS
// (centered: by a running standard deviation), with optional momentum and
// L2 weight decay.
type RMSprop struct {
	Alpha, Eps, WeightDecay, Momentum float64
	Centered                          bool
}

func newRMSprop(p *config.Params) Rule {
	return RMSprop{
		Alpha:       p.Float("alpha", 0.99, config.Min(0), config.Below(1)),
		Eps:         p.Float("eps", 1e-8, config.Min(0)),
		WeightDecay: p.Float("weight_decay", 0, config.Min(0)),
		Momentum:    p.Float("momentum", 0, config.Min(0)),
		Centered:    p.Bool("centered", false),
	}
}

func (r RMSprop) buffers() []string {
	names := []string{"square_avg"}
	if r.Momentum > 0 {
		names = append(names, "momentum_buffer")
	}
	if r.Centered {
		names = append(names, "grad_avg")
	}
	return names
}

// rmspropStep is one RMSprop update of p.
func rmspropStep[T Float](r RMSprop, lr float64, p *Param[T], bufs [][]T) {
	wd, a, c, eps, mu, step := T(r.WeightDecay), T(r.Alpha), T(1-r.Alpha), T(r.Eps), T(r.Momentum), T(-lr)
	sq := bufs[0]
	var buf, gAvg []T
	if mu > 0 {
		buf = bufs[1]
	}
	if r.Centered {
		gAvg = bufs[len(bufs)-1]
	}
	for i, g := range p.Grad {
		if wd != 0 {
			g += wd * p.Value[i]
		}
		sq[i] = a*sq[i] + c*g*g
		var avg T
		if gAvg != nil {
			gAvg[i] = a*gAvg[i] + c*g
			avg = sqrt(sq[i]-gAvg[i]*gAvg[i]) + eps
		} else {
			avg = sqrt(sq[i]) + eps
		}
		if buf != nil {
			buf[i] = mu*buf[i] + g/avg
			p.Value[i] += step * buf[i]
		} else {
			p.Value[i] += step * g / avg
		}
	}
}
