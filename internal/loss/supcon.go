package loss

import (
	"github.com/bench-ml/bench/internal/config"
)

// supCon is PML's SupConLoss, per row i: minus the mean over positives p of
// log(exp(s_ip/T) / sum_{j in pairs of i} exp(s_ij/T)) (negated distances
// for a non-inverted distance).
type supCon struct {
	dist        Distance
	temperature float64
}

func newSupCon(p *config.Params) Loss {
	l := &supCon{
		temperature: p.Float("temperature", 0.1, config.Above(0)),
		dist:        config.BuildNested(p, Distances, "distance", config.C("CosineSimilarity", nil)),
	}
	return newMetric(p, l, "AvgNonZeroReducer")
}

func (l *supCon) subLosses(b *batch) ([]subLoss, error) {
	mat, posMask, negMask, ok := maskedPairs(b, l.dist, true)
	if !ok {
		return nil, nil
	}
	t, rows, cols := b.t, mat.Rows, mat.Cols // n x n, or n x m against references
	scale := 1 / l.temperature
	if !l.dist.Inverted() {
		scale = -scale
	}
	// PML subtracts a detached row maximum first; log_prob is unchanged.
	logits := t.Scale(mat, scale)
	either := make([]bool, len(posMask))
	for i := range either {
		either[i] = posMask[i] || negMask[i]
	}
	logProb := t.Sub(logits, t.LogSumExp(logits, either, false))
	posCount := make([]float64, rows)
	for i := range posCount {
		for _, m := range posMask[i*cols : (i+1)*cols] {
			if m {
				posCount[i]++
			}
		}
		posCount[i] += smallestNormal // PML's c_f.small_val: rows without positives give 0
	}
	meanLogProbPos := t.Div(t.RowSums(t.Mul(t.Const(floats(posMask), rows, cols), logProb)), t.Const(posCount, rows, 1))
	return []subLoss{elementLoss("loss", t.Scale(meanLogProbPos, -1))}, nil
}

// smallestNormal is torch.finfo(float64).tiny, PML's c_f.small_val.
const smallestNormal = 0x1p-1022
