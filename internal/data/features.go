package data

import "fmt"

// FeatureLoader makes batches of precomputed vectors, one per dataset item
// (a frozen trunk's outputs): the same batches as a Loader's, with each
// item's vector as its "image" of shape Dim x 1 x 1. An item may have
// several versions (the outputs of different random augmentations of its
// image); each visit then takes one of them at random.
type FeatureLoader struct {
	x        []float32 // version v of item i is x[(i*versions+v)*dim:][:dim]
	dim      int
	versions int
	seed     uint64
	labels   []int
}

// NewFeatureLoader serves the rows of x (len(labels) x dim, row-major).
func NewFeatureLoader(x []float32, dim int, labels []int) (*FeatureLoader, error) {
	return NewVersionedFeatureLoader(x, dim, 1, labels, 0)
}

// NewVersionedFeatureLoader serves items of the given number of versions:
// x is len(labels) x versions x dim, row-major. Which version a batch
// position gets depends on (seed, step, position) alone, as a Loader's
// random transforms do.
func NewVersionedFeatureLoader(x []float32, dim, versions int, labels []int, seed uint64) (*FeatureLoader, error) {
	if dim < 1 || versions < 1 || len(x) != len(labels)*versions*dim {
		return nil, fmt.Errorf("features: %d values for %d items of %d versions of size %d", len(x), len(labels), versions, dim)
	}
	return &FeatureLoader{x: x, dim: dim, versions: versions, seed: seed, labels: labels}, nil
}

// Shape is Dim x 1 x 1.
func (l *FeatureLoader) Shape() Shape { return Shape{C: l.dim, H: 1, W: 1} }

// Load returns a vector of each of the given items; step only draws the
// versions.
func (l *FeatureLoader) Load(indices []int, step int) (Batch, error) {
	b := Batch{X: make([]float32, 0, len(indices)*l.dim), Labels: make([]int, len(indices)), Shape: l.Shape()}
	for j, i := range indices {
		if i < 0 || i >= len(l.labels) {
			return Batch{}, fmt.Errorf("features: item %d of %d", i, len(l.labels))
		}
		row := i * l.versions
		if l.versions > 1 {
			row += newRNG(l.seed, streamCachedVersion, uint64(step), uint64(j)).IntN(l.versions)
		}
		b.X = append(b.X, l.x[row*l.dim:(row+1)*l.dim]...)
		b.Labels[j] = l.labels[i]
	}
	return b, nil
}

// Prefetch is Loader.Prefetch for features.
func (l *FeatureLoader) Prefetch(from int, indices func(step int) []int) *Prefetcher {
	return prefetch(l.Load, from, indices)
}
