package loss

import (
	"math"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// largeMargin is PML's LargeMarginSoftmaxLoss, the general form of the
// losses PML derives from it (SphereFace, ArcFace, SubCenterArcFace,
// CosFace): cosines of the embeddings with the class weights W, the target
// class's cosine modified by a margin, scaled, then cross-entropy. The
// losses differ in the margin (form.modify), in what scales the logits
// besides scale (form.magnitudes) and in the columns of W per class
// (form.subCenters).
type largeMargin struct {
	*classWeights
	dist  Distance
	scale float64
	form  largeMarginForm
}

// largeMarginForm is what sets one of PML's large-margin losses apart.
type largeMarginForm struct {
	// modify maps the target cosines (a 1 x n row) to their logits before
	// scaling: PML's modify_cosine_of_target_classes.
	modify func(t *ad.Tape, cos *ad.Node) *ad.Node
	// magnitudes is what PML's scale_logits multiplies the logits (n x C)
	// by besides scale, broadcastable to n x C; nil for nothing.
	magnitudes func(t *ad.Tape, dist Distance, emb, w *ad.Node) *ad.Node
	// subCenters is the number of columns of W per class, the cosine with a
	// class being the largest of its columns'; 0 means 1.
	subCenters int
}

// newLargeMargin reads the parameters every large-margin loss shares; the
// caller reads margin (and sub_centers) first and passes the form.
func newLargeMargin(p *config.Params, defaultScale float64, form largeMarginForm) Loss {
	if form.subCenters == 0 {
		form.subCenters = 1
	}
	shape := embeddingByClass
	if s := form.subCenters; s > 1 {
		// PML's W is D x (C*s), viewed as (C, s) per row of cosines: column
		// c*s+j is sub-centre j of class c.
		shape = func(c, e int) []int { return []int{e, c * s} }
	}
	l := &largeMargin{
		scale:        p.Float("scale", defaultScale),
		form:         form,
		classWeights: readClassWeights(p, "W", shape, initNormal),
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
	if l.form.subCenters > 1 {
		cos = t.GroupMax(cos, l.form.subCenters)
	}
	n, classes := cos.Rows, cos.Cols
	idx := targets(b.labels, classes)
	target := t.Gather(cos, idx)
	// logits = cos + mask * (modified - target), as PML: the target entries
	// become the modified cosines.
	mask := make([]float64, n*classes)
	for _, i := range idx {
		mask[i] = 1
	}
	diff := t.Reshape(t.Sub(l.form.modify(t, target), target), n, 1)
	logits := t.Add(cos, t.Mul(t.Const(mask, n, classes), diff))
	if l.form.magnitudes != nil {
		logits = t.Mul(logits, l.form.magnitudes(t, l.dist, b.emb, w))
	}
	return []subLoss{weightedCrossEntropy(b, t.Scale(logits, l.scale))}, nil
}

// newArcFace is PML's ArcFaceLoss.
func newArcFace(p *config.Params) Loss {
	return newLargeMargin(p, 64, largeMarginForm{modify: arcFaceMargin(p)})
}

// arcFaceMargin reads margin (in degrees) and gives ArcFace's target logit:
// cos(theta + m), or cos(theta) - m sin(m) beyond theta = pi - m, where
// cos(theta + m) would turn back up.
func arcFaceMargin(p *config.Params) func(t *ad.Tape, cos *ad.Node) *ad.Node {
	m := p.Float("margin", 28.6) * math.Pi / 180
	return func(t *ad.Tape, cos *ad.Node) *ad.Node {
		angles := t.Acos(t.Clamp(cos, -1, 1))
		inRange := make([]bool, angles.Len())
		for i, a := range angles.Value {
			inRange[i] = a <= math.Pi-m
		}
		return t.Where(inRange, t.Cos(t.Shift(angles, m)), t.Shift(t.Cos(angles), -m*math.Sin(m)))
	}
}

// newCosFace is PML's CosFaceLoss: the target cosine minus margin.
func newCosFace(p *config.Params) Loss {
	m := p.Float("margin", 0.35)
	return newLargeMargin(p, 64, largeMarginForm{modify: func(t *ad.Tape, cos *ad.Node) *ad.Node { return t.Shift(cos, -m) }})
}
