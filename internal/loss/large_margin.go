package loss

import (
	"math"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// largeMargin is the part of PML's LargeMarginSoftmaxLoss that ArcFaceLoss
// and CosFaceLoss share: cosines of the embeddings with the class weights W
// (D x C), the target class's cosine modified by a margin, scaled, then
// cross-entropy.
type largeMargin struct {
	*classWeights
	dist   Distance
	scale  float64
	modify func(t *ad.Tape, cos *ad.Node) *ad.Node
}

// newLargeMargin reads the parameters shared by ArcFace and CosFace; the
// caller reads margin first and passes modify.
func newLargeMargin(p *config.Params, modify func(t *ad.Tape, cos *ad.Node) *ad.Node) Loss {
	l := &largeMargin{
		scale:        p.Float("scale", 64),
		modify:       modify,
		classWeights: readClassWeights(p, "W", embeddingByClass, initNormal),
		dist:         config.BuildNested(p, Distances, "distance", config.C("CosineSimilarity", nil)),
	}
	requireDistance(p, l.dist, &CosineSimilarity{})
	return newShaped(p, l, l.classWeights, "MeanReducer")
}

// embeddingByClass is the D x C layout of W.
func embeddingByClass(c, e int) []int { return []int{e, c} }

func (l largeMargin) with(cw *classWeights) lossFunc { l.classWeights = cw; return &l }

func (l *largeMargin) subLosses(b *batch) ([]subLoss, error) {
	w, err := l.node(b)
	if err != nil {
		return nil, err
	}
	t := b.t
	cos := l.dist.Node(t, b.emb, t.T(w))
	n, classes := cos.Rows, cos.Cols
	idx := targets(b.labels, classes)
	target := t.Gather(cos, idx)
	// logits = cos + mask * (modified - target), as PML: the target entries
	// become the modified cosines.
	mask := make([]float64, n*classes)
	for _, i := range idx {
		mask[i] = 1
	}
	diff := t.Reshape(t.Sub(l.modify(t, target), target), n, 1)
	logits := t.Scale(t.Add(cos, t.Mul(t.Const(mask, n, classes), diff)), l.scale)
	return []subLoss{weightedCrossEntropy(b, logits)}, nil
}

// newArcFace is PML's ArcFaceLoss: the target cosine becomes cos(theta + m),
// or cos(theta) - m sin(m) beyond theta = pi - m; margin in degrees.
func newArcFace(p *config.Params) Loss {
	m := p.Float("margin", 28.6) * math.Pi / 180
	return newLargeMargin(p, func(t *ad.Tape, cos *ad.Node) *ad.Node {
		angles := t.Acos(t.Clamp(cos, -1, 1))
		inRange := make([]bool, angles.Len())
		for i, a := range angles.Value {
			inRange[i] = a <= math.Pi-m
		}
		return t.Where(inRange, t.Cos(t.Shift(angles, m)), t.Shift(t.Cos(angles), -m*math.Sin(m)))
	})
}

// newCosFace is PML's CosFaceLoss: the target cosine minus margin.
func newCosFace(p *config.Params) Loss {
	m := p.Float("margin", 0.35)
	return newLargeMargin(p, func(t *ad.Tape, cos *ad.Node) *ad.Node { return t.Shift(cos, -m) })
}
