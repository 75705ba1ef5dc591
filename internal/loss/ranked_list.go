package loss

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// rankedList is PML's RankedListLoss, per row i of the distance matrix d
// (its diagonal zeroed):
// (1-imbalance) sum_P w_p (d_ip - (alpha-margin)) / (sum_P w_p + n 1e-5) +
// imbalance sum_N w_n (alpha - d_in) / (sum_N w_n + n 1e-5),
// P the positives beyond alpha-margin, N the negatives within alpha (both
// only where d > 0, as PML selects them by P_star > 0 and N_star > 0),
// w_p = exp(Tp (d_ip - (alpha-margin))), w_n = exp(Tn (alpha - d_in)). The
// weights are not detached, as in PML. The comparisons are the same for a
// similarity: PML does not mirror them.
type rankedList struct {
	dist                             Distance
	margin, imbalance, alpha, tp, tn float64
}

func newRankedList(p *config.Params) Loss {
	l := &rankedList{
		margin:    requiredFloat(p, "margin", "the margin between the positive and the negative set (the paper's 0.4)"),
		tn:        requiredFloat(p, "Tn", "the temperature of the negatives' weights"),
		imbalance: p.Float("imbalance", 0.5, config.Min(0), config.Max(1)),
		tp:        p.Float("Tp", 0),
		dist:      config.BuildNested(p, Distances, "distance", config.C("LpDistance", nil)),
	}
	// alpha: null is PML's None, 1 + margin/2.
	if a := p.OptFloat("alpha"); a != nil {
		l.alpha = *a
	} else {
		l.alpha = 1 + l.margin/2
	}
	return newMetric(p, l, "MeanReducer")
}

func (*rankedList) refusesTuples() {}

func (l *rankedList) subLosses(b *batch) ([]subLoss, error) {
	t, n := b.t, len(b.labels)
	if n == 0 {
		return nil, nil
	}
	offDiag := make([]float64, n*n)
	for i := range offDiag {
		if i/n != i%n {
			offDiag[i] = 1
		}
	}
	// PML multiplies by (1 - eye) rather than filling the diagonal, so the
	// diagonal carries no gradient.
	mat := t.Mul(l.dist.Node(t, b.emb, b.emb), t.Const(offDiag, n, n))
	posActive, negActive := make([]bool, n*n), make([]bool, n*n)
	for k, v := range mat.Value {
		i, j := k/n, k%n
		same := b.labels[i] == b.labels[j]
		posActive[k] = same && i != j && v > l.alpha-l.margin && v > 0
		negActive[k] = !same && v < l.alpha && v > 0
	}
	pos := l.side(t, posActive, t.Shift(mat, -(l.alpha-l.margin)), l.tp)
	neg := l.side(t, negActive, t.Shift(t.Scale(mat, -1), l.alpha), l.tn)
	losses := t.Add(t.Scale(pos, 1-l.imbalance), t.Scale(neg, l.imbalance))
	return []subLoss{elementLoss("loss", losses)}, nil
}

// side is one half of the loss per row: the exp(temperature x)-weighted
// mean of x over the active entries, with PML's 1e-5 added to the weight of
// every entry of the row, active or not.
func (l *rankedList) side(t *ad.Tape, active []bool, x *ad.Node, temperature float64) *ad.Node {
	n := x.Rows
	zero := t.Const(make([]float64, n*n), n, n)
	// Inactive entries are zeroed before exp too, so that a large
	// temperature cannot overflow into them and turn their zero gradient
	// into NaN.
	w := t.Where(active, t.Exp(t.Scale(t.Where(active, x, zero), temperature)), zero)
	num := t.RowSums(t.Mul(w, t.Where(active, x, zero)))
	return t.Div(num, t.Shift(t.RowSums(w), float64(n)*1e-5))
}
