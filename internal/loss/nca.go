package loss

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// nca is PML's NCALoss: p_ij = softmax_{j != i}(-softmax_scale d_ij) and per
// row -log(sum_{j of the same label} p_ij), rows where that sum is 0
// dropped.
type nca struct {
	dist  Distance
	scale float64
}

func newNCA(p *config.Params) Loss {
	l := readNCA(p)
	return newMetric(p, l, "MeanReducer")
}

// readNCA reads the parameters NCALoss shares with ProxyNCALoss.
func readNCA(p *config.Params) *nca {
	return &nca{
		scale: p.Float("softmax_scale", 1),
		dist:  config.BuildNested(p, Distances, "distance", config.C("LpDistance", map[string]any{"power": 2})),
	}
}

func (l *nca) subLosses(b *batch) ([]subLoss, error) {
	if len(b.labels) <= 1 {
		return nil, nil
	}
	if b.ref != nil {
		return l.compute(b, b.ref, b.refLabels, true), nil
	}
	return l.compute(b, b.emb, b.labels, false), nil
}

// compute is PML's nca_computation of the batch against a reference set:
// the batch itself, whose diagonal is then excluded, or another set
// (usingRef: proxies, CrossBatchMemory's memory, its own slots included as
// in PML), when only the tuples' anchors weigh the rows.
func (l *nca) compute(b *batch, ref *ad.Node, refLabels []int, usingRef bool) []subLoss {
	t := b.t
	n, m := len(b.labels), len(refLabels)
	mat := l.dist.Node(t, b.emb, ref)
	scale := l.scale
	if !l.dist.Inverted() {
		scale = -scale
	}
	var keep []bool
	if !usingRef {
		keep = make([]bool, n*m)
		for i := range keep {
			keep[i] = i/m != i%m
		}
	}
	same := make([]float64, n*m)
	for i, y := range b.labels {
		for j, r := range refLabels {
			if y == r {
				same[i*m+j] = 1
			}
		}
	}
	prob := t.RowSums(t.Mul(t.Softmax(t.Scale(mat, scale), keep), t.Const(same, n, m)))
	weights := minerWeights(b.tuples, n, usingRef)
	var rows []int
	var rowWeights []float64
	for i, v := range prob.Value {
		if v != 0 {
			rows, rowWeights = append(rows, i), append(rowWeights, weights[i])
		}
	}
	losses := t.Mul(t.Scale(t.Log(t.Gather(prob, rows)), -1), t.Const(rowWeights, 1, len(rows)))
	return []subLoss{elementLoss("loss", losses)}
}
