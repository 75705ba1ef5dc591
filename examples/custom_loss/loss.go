package main

import (
	"fmt"

	"github.com/bench-ml/bench/component"
)

// centerContrastive is CenterContrastiveLoss: ContrastiveLoss between each
// embedding and the centres of the batch's classes instead of the other
// embeddings. A class's centre is the mean of its embeddings in the batch,
// so it moves with them and the gradient flows through it too. For every
// positive pair (a, p) of the tuples, a is pulled towards the centre of its
// class: relu(d(x_a, c_p) - pos_margin); for every negative pair (a, n), a
// is pushed from the centre of n's class: relu(neg_margin - d(x_a, c_n)).
// The loss is the mean of the positive terms plus the mean of the negative
// terms (for a similarity, larger is closer and the sides swap). Centres
// average out the noise of single pairs, which matters with the few
// examples per class of a batch.
type centerContrastive struct {
	dist                 component.Distance
	posMargin, negMargin float64
}

// newCenterContrastive reads the parameters: pos_margin (default 0),
// neg_margin (default 1, above pos_margin) and distance (default
// LpDistance, any registered distance).
func newCenterContrastive(p *component.Params) component.Loss {
	l := &centerContrastive{
		posMargin: p.Float("pos_margin", 0, component.Min(0)),
		negMargin: p.Float("neg_margin", 1, component.Min(0)),
		dist:      component.Distances.Param(p, "distance", "LpDistance"),
	}
	if l.dist != nil && !l.dist.Inverted() && l.negMargin <= l.posMargin {
		p.Fail("neg_margin", "must be above pos_margin (%g) for a distance", l.posMargin)
	}
	return l
}

func (l *centerContrastive) Weights() []*component.Weight { return nil }

func (l *centerContrastive) Compute(emb []float64, n, d int, labels []int, tuples *component.Tuples) (float64, []float64, error) {
	if len(emb) != n*d || len(labels) != n {
		return 0, nil, fmt.Errorf("CenterContrastiveLoss: %d values and %d labels for a batch of %d x %d", len(emb), len(labels), n, d)
	}
	a1, pos, a2, neg := tuples.AsPairs(labels)
	if len(a1)+len(a2) == 0 {
		return 0, make([]float64, n*d), nil
	}
	// The centres are a constant k x n averaging matrix times the batch.
	class := map[int]int{} // label -> row of its centre
	for _, y := range labels {
		if _, ok := class[y]; !ok {
			class[y] = len(class)
		}
	}
	count := make([]float64, len(class))
	for _, y := range labels {
		count[class[y]]++
	}
	avg := make([]float64, len(class)*n)
	for i, y := range labels {
		avg[class[y]*n+i] = 1 / count[class[y]]
	}
	t := &component.Tape{}
	x := t.Var(emb, n, d)
	centres := t.MatMul(t.Const(avg, len(class), n), x)
	mat := l.dist.Node(t, x, centres) // n x k
	at := func(anchors, others []int) *component.Node {
		idx := make([]int, len(anchors))
		for k, a := range anchors {
			idx[k] = a*len(class) + class[labels[others[k]]]
		}
		return t.Gather(mat, idx)
	}
	// beyond(v, k) is how far v lies beyond k on the "apart" side.
	beyond := func(v *component.Node, k float64) *component.Node {
		if l.dist.Inverted() {
			return t.Shift(t.Scale(v, -1), k)
		}
		return t.Shift(v, -k)
	}
	var total *component.Node
	add := func(terms *component.Node) {
		if total == nil {
			total = t.Mean(terms)
		} else {
			total = t.Add(total, t.Mean(terms))
		}
	}
	if len(a1) > 0 {
		add(t.Relu(beyond(at(a1, pos), l.posMargin)))
	}
	if len(a2) > 0 {
		add(t.Relu(t.Scale(beyond(at(a2, neg), l.negMargin), -1)))
	}
	t.Backward(total)
	return total.Value[0], x.Grad, nil
}
