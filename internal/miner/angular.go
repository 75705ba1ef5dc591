package miner

import (
	"math"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
)

// Angular is PML's AngularMiner: the triplets whose angle at the negative,
// atan(||a-p|| / (2 ||n-c||)) with c = (a+p)/2, exceeds Angle (degrees),
// row-major over (anchor, positive, negative).
//
// As in PML the angle is measured on the raw embeddings: the distance
// (which must be LpDistance with p=2, power=1, normalize_embeddings=true, as
// PML asserts) is used only through torch's pairwise_distance, which does
// not normalise and measures ||x-y+1e-6||.
type Angular struct {
	Angle float64 // degrees
}

func newAngularMiner(p *config.Params) Miner {
	angle := p.Float("angle", 20)
	requireUnitL2(p) // checked only: the angle is measured on the raw embeddings
	return &Angular{Angle: angle}
}

// pairwiseEps is torch.nn.functional.pairwise_distance's eps.
const pairwiseEps = 1e-6

// Mine implements Miner.
func (am *Angular) Mine(emb []float64, n, d int, labels []int) (*loss.Tuples, error) {
	return am.mine(selfQuery(emb, n, d, labels))
}

func (am *Angular) mine(q query) (*loss.Tuples, error) {
	threshold := am.Angle * (math.Pi / 180) // as np.radians
	d := q.d
	anchor := func(i int) []float64 { return q.emb[i*d : (i+1)*d] }
	ref := func(i int) []float64 { return q.ref[i*d : (i+1)*d] }
	center := make([]float64, d)
	lastA, lastP, ap := -1, -1, 0.0
	return q.keepTriplets(func(a, p, n int) bool {
		// Triplets come grouped by (a, p): the centre and ||a-p|| are
		// computed once per group.
		if a != lastA || p != lastP {
			lastA, lastP = a, p
			ap = pairwiseDistance(anchor(a), ref(p))
			for k, x := range anchor(a) {
				center[k] = (x + ref(p)[k]) / 2
			}
		}
		return math.Atan(ap/(2*pairwiseDistance(ref(n), center))) > threshold
	}), nil
}

// pairwiseDistance is torch's pairwise_distance(x, y, p=2): ||x-y+eps||.
func pairwiseDistance(x, y []float64) float64 {
	s := 0.0
	for k := range x {
		v := x[k] - y[k] + pairwiseEps
		s += v * v
	}
	return math.Sqrt(s)
}
