package loss

import (
	"math"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// newLargeMarginSoftmax is PML's LargeMarginSoftmaxLoss: the target logit
// is psi(theta) with an integer margin m, and the logits are scaled by the
// norms of the embedding and of the class's column of W, so that they are
// the inner products ||w|| ||x|| cos of the paper.
func newLargeMarginSoftmax(p *config.Params) Loss {
	return newLargeMargin(p, 1, largeMarginForm{modify: multipleAngleMargin(p), magnitudes: embeddingAndWeightNorms})
}

// newSphereFace is PML's SphereFaceLoss: LargeMarginSoftmaxLoss whose logits
// are scaled by the embedding norms only, the class weights counting as
// normalised.
func newSphereFace(p *config.Params) Loss {
	return newLargeMargin(p, 1, largeMarginForm{modify: multipleAngleMargin(p), magnitudes: embeddingNorms})
}

// embeddingAndWeightNorms is ||x_i|| ||w_c|| (n x C), in the distance's
// p-norm as PML's distance.get_norm.
func embeddingAndWeightNorms(t *ad.Tape, dist Distance, emb, w *ad.Node) *ad.Node {
	p := 2.0
	if c, ok := dist.(*CosineSimilarity); ok { // the only distance allowed
		p = c.p
	}
	classNorms := t.Reshape(t.RowNorms(t.T(w), p), 1, w.Cols)
	return t.Mul(classNorms, t.RowNorms(emb, p))
}

// embeddingNorms is ||x_i|| (n x 1): SphereFace's torch.norm, always L2.
func embeddingNorms(t *ad.Tape, _ Distance, emb, _ *ad.Node) *ad.Node {
	return t.RowNorms(emb, 2)
}

// multipleAngleMargin reads the integer margin m and gives the target
// logit psi(theta) = (-1)^k cos(m theta) - 2k for theta in
// [k pi/m, (k+1) pi/m]: cos(m theta) made monotonic in theta, so that the
// margin keeps the loss decreasing towards the class. As PML, cos(m theta)
// is the multiple-angle expansion
// sum_n (-1)^n C(m, 2n) cos^(m-2n) (1 - cos^2)^n of the unclamped cosine,
// and k comes from acos of the clamped cosine without gradient.
func multipleAngleMargin(p *config.Params) func(t *ad.Tape, cos *ad.Node) *ad.Node {
	// PML takes int(margin); a fraction is refused here rather than cut, and
	// margin 0 (a division by zero in PML) with it.
	m := p.Int("margin", 4, config.Min(1))
	coef := make([]float64, m/2+1) // (-1)^n C(m, 2n)
	for n := range coef {
		coef[n] = binomial(m, 2*n)
		if n%2 == 1 {
			coef[n] = -coef[n]
		}
	}
	// psi and its derivative in c = cos(theta); k is piecewise constant.
	psi := func(c float64) (v, dv float64) {
		k := math.Floor(math.Acos(math.Min(math.Max(c, -1), 1)) / (math.Pi / float64(m)))
		sign := 1.0
		if math.Mod(k, 2) == 1 {
			sign = -1
		}
		s := 1 - c*c
		for n, a := range coef {
			pc := m - 2*n
			cp, sp := math.Pow(c, float64(pc)), math.Pow(s, float64(n))
			v += a * cp * sp
			// As torch's pow, a power 0 passes no gradient (no 0 * 1/0).
			if pc > 0 {
				dv += a * float64(pc) * math.Pow(c, float64(pc-1)) * sp
			}
			if n > 0 {
				dv += a * cp * float64(n) * math.Pow(s, float64(n-1)) * -2 * c
			}
		}
		return sign*v - 2*k, sign * dv
	}
	return func(t *ad.Tape, cos *ad.Node) *ad.Node {
		return t.Map(cos, func(c float64) float64 { v, _ := psi(c); return v },
			func(c, _ float64) float64 { _, dv := psi(c); return dv })
	}
}

// binomial is C(n, k), exact for the margins in use.
func binomial(n, k int) float64 {
	b := 1.0
	for i := 1; i <= k; i++ {
		b = b * float64(n-k+i) / float64(i)
	}
	return b
}
