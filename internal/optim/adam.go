package optim

import (
	"math"

	"github.com/bench-ml/bench/internal/config"
)

// Adam is torch.optim.Adam, or torch.optim.AdamW when Decoupled: Adam
// applies weight_decay as an L2 term added to the gradient, AdamW shrinks
// the weights directly by lr*weight_decay before the update.
type Adam struct {
	Beta1, Beta2, Eps, WeightDecay float64
	AMSGrad, Decoupled             bool
}

func newAdam(p *config.Params) Rule { return adamParams(p, 0, false) }

func newAdamW(p *config.Params) Rule { return adamParams(p, 0.01, true) }

func adamParams(p *config.Params, weightDecay float64, decoupled bool) Adam {
	betas := p.Floats("betas", []float64{0.9, 0.999}, config.Min(0), config.Below(1))
	if len(betas) != 2 {
		p.Fail("betas", "want 2 numbers [beta1, beta2], got %d", len(betas))
		betas = []float64{0, 0}
	}
	return Adam{
		Beta1:       betas[0],
		Beta2:       betas[1],
		Eps:         p.Float("eps", 1e-8, config.Min(0)),
		WeightDecay: p.Float("weight_decay", weightDecay, config.Min(0)),
		AMSGrad:     p.Bool("amsgrad", false),
		Decoupled:   decoupled,
	}
}

func (r Adam) buffers() []string {
	if r.AMSGrad {
		return []string{"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
	}
	return []string{"exp_avg", "exp_avg_sq"}
}

// adamStep is one Adam(W) update of p; t counts steps from 1. The operations
// follow PyTorch's order (bias corrections folded into step size and denom).
func adamStep[T Float](r Adam, lr float64, t int, p *Param[T], bufs [][]T) {
	var l2 T
	if r.Decoupled {
		shrink := T(1 - lr*r.WeightDecay)
		for i := range p.Value {
			p.Value[i] *= shrink
		}
	} else {
		l2 = T(r.WeightDecay)
	}
	b1, b2, c1, c2, eps := T(r.Beta1), T(r.Beta2), T(1-r.Beta1), T(1-r.Beta2), T(r.Eps)
	stepSize := T(-lr / (1 - math.Pow(r.Beta1, float64(t))))
	bc2Sqrt := T(math.Sqrt(1 - math.Pow(r.Beta2, float64(t))))
	m, v := bufs[0], bufs[1]
	var vMax []T
	if r.AMSGrad {
		vMax = bufs[2]
	}
	for i, g := range p.Grad {
		if l2 != 0 {
			g += l2 * p.Value[i]
		}
		m[i] = b1*m[i] + c1*g
		v[i] = b2*v[i] + c2*g*g
		vHat := v[i]
		if vMax != nil {
			vMax[i] = max(vMax[i], v[i])
			vHat = vMax[i]
		}
		p.Value[i] += stepSize * m[i] / (sqrt(vHat)/bc2Sqrt + eps)
	}
}

func sqrt[T Float](x T) T { return T(math.Sqrt(float64(x))) }
