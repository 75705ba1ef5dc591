package data

import "fmt"

// Views makes the batches of PML's UnsupervisedEmbeddingsUsingAugmentations:
// every item of a batch once per view (one transform pipeline each, the
// config's transforms.augmentation<N>), item-major as PML's collate
// function stacks them, each labelled by its item's position in the batch,
// so that the views of one image are the positives.
type Views struct {
	views []*Loader
	shape Shape
}

// NewViews checks that every view makes images of one shape.
func NewViews(views []*Loader) (*Views, error) {
	if len(views) == 0 {
		return nil, fmt.Errorf("no views")
	}
	for i, v := range views[1:] {
		if v.Shape() != views[0].Shape() {
			return nil, fmt.Errorf("view %d makes %s images but view 0 makes %s: the model needs one size", i+1, v.Shape(), views[0].Shape())
		}
	}
	return &Views{views: views, shape: views[0].Shape()}, nil
}

// Len is the number of views of each item.
func (v *Views) Len() int { return len(v.views) }

// Shape is the shape of one view.
func (v *Views) Shape() Shape { return v.shape }

// Load makes the len(indices)*Len() views of a step's items. View k of the
// batch of step s draws its random transforms as a Loader's batch of step
// s*Len()+k, so that two views with the same transforms still differ.
func (v *Views) Load(indices []int, step int) (Batch, error) {
	n, k := len(indices), len(v.views)
	size := v.shape.C * v.shape.H * v.shape.W
	b := Batch{X: make([]float32, n*k*size), Labels: make([]int, n*k), Shape: v.shape}
	for j, view := range v.views {
		vb, err := view.Load(indices, step*k+j)
		if err != nil {
			return Batch{}, err
		}
		for i := range n {
			copy(b.X[(i*k+j)*size:(i*k+j+1)*size], vb.X[i*size:(i+1)*size])
			b.Labels[i*k+j] = i
		}
	}
	return b, nil
}

// Prefetch is Loader.Prefetch for the views.
func (v *Views) Prefetch(from int, indices func(step int) []int) *Prefetcher {
	return prefetch(v.Load, from, indices)
}
