package loss

import (
	"math"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// pnpVariants are the variants PML's PNPLoss accepts, in its order.
var pnpVariants = []string{"Ds", "Dq", "Iu", "Ib", "O"}

// pnp is PML's PNPLoss (Li et al., "Rethinking the Optimization of Average
// Precision"): for each pair (q, j) a soft count of the negatives ranked
// above j, R_qj = sum_k neg(j, k) sigmoid((s_qk - s_qj) / anneal), passed
// through the variant's function (O: R, Ds: log(1+R), Dq: (1+R)^-alpha,
// Iu: (1+R) log(1+R), Ib: (bR - log(1+bR)) / b^2), averaged over j in q's
// positives and q itself, then over the rows q with a positive; Dq gives 1
// minus that. As in PML, the negatives counted are those of j, not of q
// (PML's mask is I_neg broadcast over the queries), and the whole value is
// already reduced.
type pnp struct {
	dist           Distance
	b, alpha       float64
	anneal         float64
	variant        string
	transform      func(x float64) float64
	transformPrime func(x, y float64) float64
}

func newPNP(p *config.Params) Loss {
	l := &pnp{
		b:       p.Float("b", 2),
		alpha:   p.Float("alpha", 1),
		anneal:  p.Float("anneal", 0.01, config.Above(0)),
		variant: p.String("variant", "O", pnpVariants...),
		dist:    config.BuildNested(p, Distances, "distance", config.C("CosineSimilarity", nil)),
	}
	requireDistance(p, l.dist, &CosineSimilarity{})
	b, alpha := l.b, l.alpha
	switch l.variant {
	case "Ds":
		l.transform = func(x float64) float64 { return math.Log(1 + x) }
		l.transformPrime = func(x, _ float64) float64 { return 1 / (1 + x) }
	case "Dq":
		l.transform = func(x float64) float64 { return math.Pow(1+x, -alpha) }
		l.transformPrime = func(x, _ float64) float64 { return -alpha * math.Pow(1+x, -alpha-1) }
	case "Iu":
		l.transform = func(x float64) float64 { return (1 + x) * math.Log(1+x) }
		l.transformPrime = func(x, _ float64) float64 { return math.Log(1+x) + 1 }
	case "Ib":
		l.transform = func(x float64) float64 { return (b*x - math.Log(1+b*x)) / (b * b) }
		l.transformPrime = func(x, _ float64) float64 { return (1 - 1/(1+b*x)) / b }
	}
	return newMetric(p, l, "MeanReducer")
}

func (*pnp) refusesTuples() {}

func (l *pnp) subLosses(b *batch) ([]subLoss, error) {
	t, n := b.t, len(b.labels)
	a1, pos, a2, neg := AllPairs(b.labels).AsPairs(b.labels)
	isPos, isNeg := pairMasks(n, a1, pos, a2, neg)
	for _, q := range a1 {
		isPos[q*n+q] = true // PML counts the query among its own positives
	}
	posCount, rows := rowCounts(isPos, n)
	if len(rows) == 0 {
		return nil, nil
	}
	sim := l.dist.Node(t, b.emb, b.emb)
	// rankT[j] is the column R_.j as a row: the count of j's negatives above
	// j for every query.
	rankT := make([]*ad.Node, n)
	for j := range n {
		negRow := isNeg[j*n : (j+1)*n]
		if !anyTrue(negRow) {
			rankT[j] = t.Const(make([]float64, n), 1, n)
			continue
		}
		colIdx := make([]int, n)
		for q := range colIdx {
			colIdx[q] = q*n + j
		}
		diff := t.Sub(sim, t.Reshape(t.Gather(sim, colIdx), n, 1))
		above := t.Mul(l.sigmoid(t, diff), t.Const(floats(negRow), 1, n))
		rankT[j] = t.Reshape(t.RowSums(above), 1, n)
	}
	rank := t.T(t.Reshape(t.Concat(rankT...), n, n))
	if l.transform != nil {
		rank = t.Map(rank, l.transform, l.transformPrime)
	}
	perRow := t.Div(t.RowSums(t.Mul(rank, t.Const(floats(isPos), n, n))), t.Const(posCount, n, 1))
	loss := t.Scale(t.Sum(t.Gather(perRow, rows)), 1/float64(len(rows)))
	if l.variant == "Dq" {
		loss = t.Shift(t.Scale(loss, -1), 1)
	}
	return []subLoss{{name: "loss", losses: loss, reduced: true, divisor: noDivisor}}, nil
}

// sigmoid is PML's temperature-controlled sigmoid, 1 / (1 + exp(-x/anneal))
// with the exponent clamped to [-50, 50]: beyond the clamp the gradient is
// 0, as torch.clamp's.
func (l *pnp) sigmoid(t *ad.Tape, x *ad.Node) *ad.Node {
	exponent := func(x float64) float64 { return -x / l.anneal }
	return t.Map(x, func(x float64) float64 {
		return 1 / (1 + math.Exp(min(max(exponent(x), -50), 50)))
	}, func(x, y float64) float64 {
		if e := exponent(x); e < -50 || e > 50 {
			return 0
		}
		return y * (1 - y) / l.anneal
	})
}
