// Package optim holds the optimisers (SGD, Adam, AdamW, RMSprop), gradient
// clipping and learning-rate schedulers, each with PyTorch's update rule,
// defaults and stepping semantics, configured as powerful_benchmarker does:
//
//	trunk_optimizer:
//	  RMSprop: {lr: 0.000001, momentum: 0.9, clip_grad_norm: 1.0,
//	            scheduler_by_epoch: {StepLR: {step_size: 2}}}
package optim

import (
	"fmt"
	"math"

	"github.com/bench-ml/bench/internal/parallel"
)

// Config is one configured optimiser: its learning rate, update rule,
// gradient clipping and schedulers. It holds hyperparameters only, so one
// Config can start any number of optimisers (one per fold, say).
type Config struct {
	LR           float64
	Rule         Rule
	ClipGradNorm float64 // max total L2 norm of the gradients; 0 = no clipping
	// Schedulers by slot (ByIteration, ByEpoch, ByPlateau); nil = none.
	Schedulers [numSlots]Scheduler
}

// Rule is the hyperparameters of an update rule: SGD, Adam or RMSprop.
type Rule interface {
	// buffers names the per-parameter state the rule keeps, with PyTorch's
	// names (they key the checkpoint), in the order the step function takes it.
	buffers() []string
}

// The slots a scheduler can sit in, named by their config keys; they differ
// only in when they are stepped.
const (
	ByIteration = iota // after every iteration
	ByEpoch            // after every epoch
	ByPlateau          // after every evaluation, with the validation metric
	numSlots
)

var slotKeys = [numSlots]string{"scheduler_by_iteration", "scheduler_by_epoch", "scheduler_by_plateau"}

// Optimizer updates a fixed set of parameters in place.
type Optimizer[T Float] struct {
	cfg    Config
	params []*Param[T]
	bufs   [][][]T // bufs[i][k]: parameter i's buffer named cfg.Rule.buffers()[k]
	step   int     // number of Steps taken, PyTorch's state["step"]
	lr     float64
	sched  [numSlots]SchedulerState
}

// New starts an optimiser over params with zeroed state, and takes the
// schedulers' construction step as PyTorch does (LinearLR and ConstantLR
// scale the learning rate right away). It panics on a Config that did not
// come from the registry or on malformed params, which are programming
// errors.
func New[T Float](cfg Config, params []*Param[T]) *Optimizer[T] {
	if cfg.Rule == nil || !(cfg.LR > 0) {
		panic(fmt.Sprintf("optim: invalid Config %+v (build it with optim.Optimizers)", cfg))
	}
	o := &Optimizer[T]{cfg: cfg, params: params, lr: cfg.LR}
	names := cfg.Rule.buffers()
	seen := map[string]bool{}
	for _, p := range params {
		if len(p.Value) != len(p.Grad) {
			panic(fmt.Sprintf("optim: parameter %q has %d values but %d gradients", p.Name, len(p.Value), len(p.Grad)))
		}
		if seen[p.Name] {
			panic(fmt.Sprintf("optim: parameter name %q used twice; names key the checkpoint", p.Name))
		}
		seen[p.Name] = true
		bufs := make([][]T, len(names))
		for k := range bufs {
			bufs[k] = make([]T, len(p.Value))
		}
		o.bufs = append(o.bufs, bufs)
	}
	for slot := range o.sched {
		o.sched[slot].LastEpoch = -1
		o.advance(slot, math.NaN())
	}
	return o
}

// LR is the current learning rate.
func (o *Optimizer[T]) LR() float64 { return o.lr }

// ZeroGrad sets every gradient to zero.
func (o *Optimizer[T]) ZeroGrad() {
	for _, p := range o.params {
		clear(p.Grad)
	}
}

// Step clips the gradients (when configured) and updates every parameter.
func (o *Optimizer[T]) Step() {
	if o.cfg.ClipGradNorm > 0 {
		ClipGradNorm(o.params, o.cfg.ClipGradNorm)
	}
	o.step++
	// Each parameter's update is its own: split over the cores, they give
	// the same values (a ResNet-50's Adam step is ~0.2 s on one core).
	parallel.For(len(o.params), func(i int) {
		p := o.params[i]
		switch r := o.cfg.Rule.(type) {
		case SGD:
			sgdStep(r, o.lr, o.step, p, o.bufs[i])
		case Adam:
			adamStep(r, o.lr, o.step, p, o.bufs[i])
		case RMSprop:
			rmspropStep(r, o.lr, p, o.bufs[i])
		default:
			panic(fmt.Sprintf("optim: no step for rule %T", r))
		}
	})
}

// EndIteration steps the scheduler_by_iteration scheduler, if any.
func (o *Optimizer[T]) EndIteration() { o.advance(ByIteration, math.NaN()) }

// EndEpoch steps the scheduler_by_epoch scheduler, if any.
func (o *Optimizer[T]) EndEpoch() { o.advance(ByEpoch, math.NaN()) }

// Plateau steps the scheduler_by_plateau scheduler, if any, with the
// validation metric.
func (o *Optimizer[T]) Plateau(metric float64) { o.advance(ByPlateau, metric) }

func (o *Optimizer[T]) advance(slot int, metric float64) {
	s := o.cfg.Schedulers[slot]
	if s == nil {
		return
	}
	o.sched[slot].LastEpoch++
	o.lr = s.next(o.lr, o.cfg.LR, &o.sched[slot], metric)
}

// ClipGradNorm scales the gradients of params so that their total L2 norm
// is at most maxNorm, as torch.nn.utils.clip_grad_norm_ (including its 1e-6
// in the denominator), and returns the norm before clipping. The norm is
// accumulated in float64 whatever T is.
func ClipGradNorm[T Float](params []*Param[T], maxNorm float64) float64 {
	var sum float64
	for _, p := range params {
		for _, g := range p.Grad {
			sum += float64(g) * float64(g)
		}
	}
	norm := math.Sqrt(sum)
	coef := maxNorm / (norm + 1e-6)
	if coef < 1 {
		c := T(coef)
		for _, p := range params {
			for i := range p.Grad {
				p.Grad[i] *= c
			}
		}
	}
	return norm
}
