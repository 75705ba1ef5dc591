package optim

import (
	"math"

	"github.com/bench-ml/bench/internal/config"
)

// Scheduler is the hyperparameters of a learning-rate scheduler. Its running
// state lives in a SchedulerState owned by the optimiser.
type Scheduler interface {
	// next returns the learning rate after the step that brought s to
	// s.LastEpoch, given the current one. As PyTorch's chainable form, it
	// scales the current lr rather than recomputing it from scratch, so that
	// schedulers sharing an optimiser compose. LastEpoch 0 is the step PyTorch
	// takes on construction; base is the optimiser's configured lr and metric
	// the validation metric (ReduceLROnPlateau only).
	next(lr, base float64, s *SchedulerState, metric float64) float64
}

// SchedulerState is what a scheduler has to remember, PyTorch's state_dict
// of it: the number of steps taken, and for ReduceLROnPlateau its record of
// the best metric.
type SchedulerState struct {
	LastEpoch       int      `json:"last_epoch"`
	Best            *float64 `json:"best,omitempty"` // best metric so far; nil before the first
	NumBadEpochs    int      `json:"num_bad_epochs,omitempty"`
	CooldownCounter int      `json:"cooldown_counter,omitempty"`
}

// StepLR is torch.optim.lr_scheduler.StepLR: lr times gamma every stepSize
// steps.
type StepLR struct {
	StepSize int
	Gamma    float64
}

func newStepLR(p *config.Params) Scheduler {
	return StepLR{StepSize: requiredInt(p, "step_size", config.Min(1)), Gamma: p.Float("gamma", 0.1, config.Above(0))}
}

func (s StepLR) next(lr, _ float64, st *SchedulerState, _ float64) float64 {
	if st.LastEpoch == 0 || st.LastEpoch%s.StepSize != 0 {
		return lr
	}
	return lr * s.Gamma
}

// MultiStepLR is torch.optim.lr_scheduler.MultiStepLR: lr times gamma at
// each milestone (a repeated milestone applies gamma as often).
type MultiStepLR struct {
	Milestones []int
	Gamma      float64
}

func newMultiStepLR(p *config.Params) Scheduler {
	s := MultiStepLR{Milestones: p.Ints("milestones", nil, config.Min(0)), Gamma: p.Float("gamma", 0.1, config.Above(0))}
	if len(s.Milestones) == 0 {
		p.Fail("milestones", "required: a list of step numbers (PyTorch has no default)")
	}
	return s
}

func (s MultiStepLR) next(lr, _ float64, st *SchedulerState, _ float64) float64 {
	for _, m := range s.Milestones {
		if m == st.LastEpoch {
			lr *= s.Gamma
		}
	}
	return lr
}

// ExponentialLR is torch.optim.lr_scheduler.ExponentialLR: lr times gamma
// every step.
type ExponentialLR struct{ Gamma float64 }

func newExponentialLR(p *config.Params) Scheduler {
	return ExponentialLR{Gamma: requiredFloat(p, "gamma", config.Above(0))}
}

func (s ExponentialLR) next(lr, _ float64, st *SchedulerState, _ float64) float64 {
	if st.LastEpoch == 0 {
		return lr
	}
	return lr * s.Gamma
}

// CosineAnnealingLR is torch.optim.lr_scheduler.CosineAnnealingLR: on its
// own it follows eta_min + (base - eta_min)(1 + cos(pi t/T_max))/2, a cosine
// with period 2 T_max.
type CosineAnnealingLR struct {
	TMax   int
	EtaMin float64
}

func newCosineAnnealingLR(p *config.Params) Scheduler {
	return CosineAnnealingLR{TMax: requiredInt(p, "T_max", config.Min(1)), EtaMin: p.Float("eta_min", 0, config.Min(0))}
}

func (s CosineAnnealingLR) next(lr, base float64, st *SchedulerState, _ float64) float64 {
	t, tMax := float64(st.LastEpoch), float64(s.TMax)
	switch {
	case st.LastEpoch == 0:
		return lr
	case (st.LastEpoch-1-s.TMax)%(2*s.TMax) == 0:
		// Leaving the minimum, where the ratio below would divide by zero.
		return lr + (base-s.EtaMin)*(1-math.Cos(math.Pi/tMax))/2
	}
	return (1+math.Cos(math.Pi*t/tMax))/(1+math.Cos(math.Pi*(t-1)/tMax))*(lr-s.EtaMin) + s.EtaMin
}

// LinearLR is torch.optim.lr_scheduler.LinearLR: a factor going linearly
// from startFactor to endFactor over totalIters steps (a warm-up).
type LinearLR struct {
	StartFactor, EndFactor float64
	TotalIters             int
}

func newLinearLR(p *config.Params) Scheduler {
	return LinearLR{
		StartFactor: p.Float("start_factor", 1.0/3, config.Above(0), config.Max(1)),
		EndFactor:   p.Float("end_factor", 1, config.Min(0), config.Max(1)),
		TotalIters:  p.Int("total_iters", 5, config.Min(1)),
	}
}

func (s LinearLR) next(lr, _ float64, st *SchedulerState, _ float64) float64 {
	switch {
	case st.LastEpoch == 0:
		return lr * s.StartFactor
	case st.LastEpoch > s.TotalIters:
		return lr
	}
	d := s.EndFactor - s.StartFactor
	return lr * (1 + d/(float64(s.TotalIters)*s.StartFactor+float64(st.LastEpoch-1)*d))
}

// ConstantLR is torch.optim.lr_scheduler.ConstantLR: lr times factor for
// the first totalIters steps.
type ConstantLR struct {
	Factor     float64
	TotalIters int
}

func newConstantLR(p *config.Params) Scheduler {
	return ConstantLR{
		Factor:     p.Float("factor", 1.0/3, config.Above(0), config.Max(1)),
		TotalIters: p.Int("total_iters", 5, config.Min(1)),
	}
}

func (s ConstantLR) next(lr, _ float64, st *SchedulerState, _ float64) float64 {
	switch st.LastEpoch {
	case 0:
		return lr * s.Factor
	case s.TotalIters:
		return lr * (1 / s.Factor)
	}
	return lr
}

// requiredFloat reads a parameter PyTorch has no default for.
func requiredFloat(p *config.Params, key string, checks ...config.Check) float64 {
	v := p.OptFloat(key, checks...)
	if v == nil {
		p.Fail(key, "required (PyTorch has no default)")
		return 0
	}
	return *v
}

func requiredInt(p *config.Params, key string, checks ...config.Check) int {
	v := requiredFloat(p, key, checks...)
	if v != math.Trunc(v) {
		p.Fail(key, "want an integer, got %v", v)
	}
	return int(v)
}
