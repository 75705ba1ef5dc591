package data

import "fmt"

// FeatureLoader makes batches of precomputed vectors, one per dataset item
// (a frozen trunk's outputs): the same batches as a Loader's, with each
// item's vector as its "image" of shape Dim x 1 x 1.
type FeatureLoader struct {
	x      []float32 // item i is x[i*dim : (i+1)*dim]
	dim    int
	labels []int
}

// NewFeatureLoader serves the rows of x (len(labels) x dim, row-major).
func NewFeatureLoader(x []float32, dim int, labels []int) (*FeatureLoader, error) {
	if dim < 1 || len(x) != len(labels)*dim {
		return nil, fmt.Errorf("features: %d values for %d items of size %d", len(x), len(labels), dim)
	}
	return &FeatureLoader{x: x, dim: dim, labels: labels}, nil
}

// Shape is Dim x 1 x 1.
func (l *FeatureLoader) Shape() Shape { return Shape{C: l.dim, H: 1, W: 1} }

// Load returns the vectors of the given items; step is unused (nothing is
// random).
func (l *FeatureLoader) Load(indices []int, _ int) (Batch, error) {
	b := Batch{X: make([]float32, 0, len(indices)*l.dim), Labels: make([]int, len(indices)), Shape: l.Shape()}
	for j, i := range indices {
		if i < 0 || i >= len(l.labels) {
			return Batch{}, fmt.Errorf("features: item %d of %d", i, len(l.labels))
		}
		b.X = append(b.X, l.x[i*l.dim:(i+1)*l.dim]...)
		b.Labels[j] = l.labels[i]
	}
	return b, nil
}

// Prefetch is Loader.Prefetch for features.
func (l *FeatureLoader) Prefetch(from int, indices func(step int) []int) *Prefetcher {
	return prefetch(l.Load, from, indices)
}
