package data

import (
	"image"
	"math/rand/v2"
)

// ImageFunc is an image transform written outside this package. It keeps
// the image's channels and size (the pipeline reports an image that comes
// out of another size), and draws any randomness from rng, the item's own
// generator, so that a run is reproducible from its seed.
type ImageFunc func(img image.Image, rng *rand.Rand) image.Image

func (ImageFunc) outShape(in Shape) (Shape, error) { return in, nil }

func (f ImageFunc) apply(img image.Image, rng *rand.Rand) image.Image { return f(img, rng) }
