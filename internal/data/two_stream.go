package data

import (
	"fmt"
	"slices"

	"github.com/bench-ml/bench/internal/config"
)

// TwoStream is the dataset of PML's TwoStreamMetricLoss and
// GlobalTwoStreamEmbeddingSpaceTester, whose items are (anchor, posneg,
// label), such as a photo and a sketch of one object: two datasets of the
// same classes, item i of one paired with item i of the other. As a
// Dataset it is its anchors; PosNegs is the other stream.
//
// Config: TwoStream {anchors: <dataset>, posnegs: <dataset>}; with two
// ImageFolders, each class folder of one holds as many images as the same
// folder of the other, paired in file-name order.
type TwoStream struct {
	Dataset
	posnegs Dataset
}

// PosNegs is the second stream: item i is the posneg of anchor i.
func (t *TwoStream) PosNegs() Dataset { return t.posnegs }

func newTwoStream(p *config.Params) Opener {
	for _, key := range []string{"anchors", "posnegs"} {
		if !p.Has(key) {
			p.Fail(key, "is required: the dataset of the %s stream", key)
		}
	}
	anchors := config.BuildNested(p, Datasets, "anchors", config.Component{})
	posnegs := config.BuildNested(p, Datasets, "posnegs", config.Component{})
	where := p.Where()
	return func(root string) (Dataset, error) {
		a, err := anchors(root)
		if err != nil {
			return nil, err
		}
		pn, err := posnegs(root)
		if err != nil {
			return nil, err
		}
		if err := pairable(a, pn); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		return &TwoStream{Dataset: a, posnegs: pn}, nil
	}
}

// pairable checks that item i of each stream is of one class.
func pairable(a, pn Dataset) error {
	switch {
	case a.Len() != pn.Len():
		return fmt.Errorf("anchors has %d items but posnegs %d: item i of one is paired with item i of the other", a.Len(), pn.Len())
	case !slices.Equal(a.Classes(), pn.Classes()):
		return fmt.Errorf("anchors has classes %v but posnegs %v", head(a.Classes()), head(pn.Classes()))
	case a.Shape() != pn.Shape():
		return fmt.Errorf("anchors are %s images but posnegs %s: the model needs one size", a.Shape(), pn.Shape())
	}
	for i := range a.Len() {
		if a.Label(i) != pn.Label(i) {
			return fmt.Errorf("item %d: anchor %s is of class %q but posneg %s of %q",
				i, a.Source(i), a.Classes()[a.Label(i)], pn.Source(i), pn.Classes()[pn.Label(i)])
		}
	}
	return nil
}

// head is at most the first 5 of a list, for messages.
func head(s []string) []string { return s[:min(len(s), 5)] }

// TwoStreams makes the batches of PML's TwoStreamMetricLoss: the anchors of
// a step's items, then their posnegs (stream-major, as PML concatenates
// the two streams' embeddings), both labelled by the items' labels.
type TwoStreams struct {
	anchors, posnegs *Loader
}

// NewTwoStreams pairs the loaders of the two streams.
func NewTwoStreams(anchors, posnegs *Loader) (*TwoStreams, error) {
	if anchors.Shape() != posnegs.Shape() {
		return nil, fmt.Errorf("the anchors' transforms make %s images but the posnegs' %s: the model needs one size", anchors.Shape(), posnegs.Shape())
	}
	return &TwoStreams{anchors: anchors, posnegs: posnegs}, nil
}

// Shape is the shape of one image.
func (t *TwoStreams) Shape() Shape { return t.anchors.Shape() }

// Load makes the 2*len(indices) images of a step. The posnegs of step s
// draw their random transforms as a Loader's batch of step 2s+1 and the
// anchors as step 2s, so that the two streams are augmented independently.
func (t *TwoStreams) Load(indices []int, step int) (Batch, error) {
	a, err := t.anchors.Load(indices, 2*step)
	if err != nil {
		return Batch{}, err
	}
	pn, err := t.posnegs.Load(indices, 2*step+1)
	if err != nil {
		return Batch{}, err
	}
	return Batch{X: slices.Concat(a.X, pn.X), Labels: slices.Concat(a.Labels, a.Labels), Shape: a.Shape}, nil
}

// Prefetch is Loader.Prefetch for the two streams.
func (t *TwoStreams) Prefetch(from int, indices func(step int) []int) *Prefetcher {
	return prefetch(t.Load, from, indices)
}
