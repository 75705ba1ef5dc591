package optim

import "github.com/bench-ml/bench/internal/config"

// Optimizers holds the optimiser constructors by PyTorch name. Each reads
// lr, its rule's hyperparameters, clip_grad_norm and the three scheduler
// keys, as powerful_benchmarker's get_optimizer does.
var Optimizers = config.NewRegistry[Config]("optimizer")

// Schedulers holds the learning-rate scheduler constructors by PyTorch name.
var Schedulers = config.NewRegistry[Scheduler]("scheduler")

func init() {
	Optimizers.Register("SGD", optimizer(1e-3, newSGD))
	Optimizers.Register("Adam", optimizer(1e-3, newAdam))
	Optimizers.Register("AdamW", optimizer(1e-3, newAdamW))
	Optimizers.Register("RMSprop", optimizer(1e-2, newRMSprop))

	Schedulers.Register("StepLR", newStepLR)
	Schedulers.Register("MultiStepLR", newMultiStepLR)
	Schedulers.Register("ExponentialLR", newExponentialLR)
	Schedulers.Register("CosineAnnealingLR", newCosineAnnealingLR)
	Schedulers.Register("LinearLR", newLinearLR)
	Schedulers.Register("ConstantLR", newConstantLR)
	Schedulers.Register("ReduceLROnPlateau", newReduceLROnPlateau)
}

// optimizer makes the constructor of an optimiser from its rule's: the
// parameters every optimiser shares are read here.
func optimizer(defaultLR float64, rule func(*config.Params) Rule) func(*config.Params) Config {
	return func(p *config.Params) Config {
		c := Config{LR: p.Float("lr", defaultLR, config.Above(0)), Rule: rule(p)}
		if maxNorm := p.OptFloat("clip_grad_norm", config.Above(0)); maxNorm != nil {
			c.ClipGradNorm = *maxNorm
		}
		for slot, key := range slotKeys {
			c.Schedulers[slot] = scheduler(p, key, slot == ByPlateau)
		}
		return c
	}
}

// scheduler builds the scheduler under key, or returns nil when the key is
// absent or null (no scheduler). Only ReduceLROnPlateau takes the validation
// metric, so it belongs under scheduler_by_plateau and nothing else does.
func scheduler(p *config.Params, key string, plateau bool) Scheduler {
	if p.Component(key, config.Component{}).Type == "" {
		// Resolved as null rather than as an empty component, so that the
		// saved config reads back as "no scheduler".
		p.Resolved()[key] = nil
		return nil
	}
	s := config.BuildNested(p, Schedulers, key, config.Component{})
	if _, isPlateau := s.(ReduceLROnPlateau); s != nil && isPlateau != plateau {
		if plateau {
			p.Fail(key, "is stepped with the validation metric: only ReduceLROnPlateau goes here")
		} else {
			p.Fail(key, "ReduceLROnPlateau needs the validation metric: put it under scheduler_by_plateau")
		}
	}
	return s
}
