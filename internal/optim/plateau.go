package optim

import (
	"math"

	"github.com/bench-ml/bench/internal/config"
)

// ReduceLROnPlateau is torch.optim.lr_scheduler.ReduceLROnPlateau: lr times
// factor once the metric has not improved for more than patience steps,
// then cooldown steps of grace.
type ReduceLROnPlateau struct {
	Mode          string // "min" or "max": whether a lower or a higher metric is better
	Factor        float64
	Patience      int
	Threshold     float64
	ThresholdMode string // "rel" or "abs"
	Cooldown      int
	MinLR         float64
	Eps           float64 // smaller lr changes are skipped
}

func newReduceLROnPlateau(p *config.Params) Scheduler {
	return ReduceLROnPlateau{
		Mode:          p.String("mode", "min", "min", "max"),
		Factor:        p.Float("factor", 0.1, config.Min(0), config.Below(1)),
		Patience:      p.Int("patience", 10, config.Min(0)),
		Threshold:     p.Float("threshold", 1e-4, config.Min(0)),
		ThresholdMode: p.String("threshold_mode", "rel", "rel", "abs"),
		Cooldown:      p.Int("cooldown", 0, config.Min(0)),
		MinLR:         p.Float("min_lr", 0, config.Min(0)),
		Eps:           p.Float("eps", 1e-8, config.Min(0)),
	}
}

func (s ReduceLROnPlateau) next(lr, _ float64, st *SchedulerState, metric float64) float64 {
	if st.LastEpoch == 0 {
		return lr // construction: nothing measured yet
	}
	if s.better(metric, st.Best) {
		st.Best, st.NumBadEpochs = &metric, 0
	} else {
		st.NumBadEpochs++
	}
	if st.CooldownCounter > 0 {
		st.CooldownCounter--
		st.NumBadEpochs = 0
	}
	if st.NumBadEpochs > s.Patience {
		if reduced := max(lr*s.Factor, s.MinLR); lr-reduced > s.Eps {
			lr = reduced
		}
		st.CooldownCounter, st.NumBadEpochs = s.Cooldown, 0
	}
	return lr
}

// better is PyTorch's is_better; a nil best is its initial +-inf. A NaN
// metric is never better.
func (s ReduceLROnPlateau) better(a float64, best *float64) bool {
	b := math.Inf(1)
	if s.Mode == "max" {
		b = math.Inf(-1)
	}
	if best != nil {
		b = *best
	}
	switch {
	case s.Mode == "min" && s.ThresholdMode == "rel":
		return a < b*(1-s.Threshold)
	case s.Mode == "min":
		return a < b-s.Threshold
	case s.ThresholdMode == "rel":
		return a > b*(1+s.Threshold)
	}
	return a > b+s.Threshold
}
