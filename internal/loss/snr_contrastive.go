package loss

import (
	"github.com/bench-ml/bench/internal/config"
)

// newSNRContrastive is PML's SignalToNoiseRatioContrastiveLoss: the
// contrastive loss on SNRDistance.
func newSNRContrastive(p *config.Params) Loss {
	c := readContrastive(p, "SNRDistance")
	requireDistance(p, c.dist, &SNRDistance{})
	return newMetric(p, c, "AvgNonZeroReducer")
}
