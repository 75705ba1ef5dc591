package data

import (
	"fmt"
	"image"
	"math/rand/v2"

	"github.com/disintegration/imaging"

	"github.com/bench-ml/bench/internal/config"
)

// Components powerful_benchmarker's configs name: torchvision's random
// flips, RandomGrayscale and RandomCrop, and the plain random sampler
// (`sampler: {}`).

func init() {
	for name, op := range map[string]struct {
		p  float64
		op func(image.Image) *image.NRGBA
	}{
		"RandomHorizontalFlip": {0.5, imaging.FlipH},
		"RandomVerticalFlip":   {0.5, imaging.FlipV},
		"RandomGrayscale":      {0.1, imaging.Grayscale}, // the channel count is kept, as torchvision's
	} {
		Transforms.Register(name, func(p *config.Params) Transform {
			return WithProbability{P: p.Float("p", op.p, config.Min(0), config.Max(1)), Op: op.op}
		})
	}
	Transforms.Register("RandomCrop", func(p *config.Params) Transform {
		return RandomCrop{Size: sizeParam(p), Padding: p.Int("padding", 0, config.Min(0)), PadIfNeeded: p.Bool("pad_if_needed", false)}
	})
}

// WithProbability applies Op with probability P: torchvision's
// RandomHorizontalFlip, RandomVerticalFlip and RandomGrayscale.
type WithProbability struct {
	P  float64
	Op func(image.Image) *image.NRGBA
}

func (WithProbability) outShape(in Shape) (Shape, error) { return in, nil }

func (t WithProbability) apply(img image.Image, rng *rand.Rand) image.Image {
	if rng.Float64() < t.P {
		return t.Op(img)
	}
	return img
}

// RandomCrop{size, padding, pad_if_needed}: a size x size window at a
// uniform position of the image padded (black) by padding on every side,
// and, with pad_if_needed, by what a side still lacks, as torchvision.
type RandomCrop struct {
	Size, Padding int
	PadIfNeeded   bool
}

func (c RandomCrop) outShape(in Shape) (Shape, error) {
	for _, n := range []int{in.H, in.W} {
		if n > 0 && !c.PadIfNeeded && n+2*c.Padding < c.Size {
			return in, fmt.Errorf("RandomCrop of %d from %d pixels with padding %d: set pad_if_needed", c.Size, n, c.Padding)
		}
	}
	in.H, in.W = c.Size, c.Size
	return in, nil
}

func (c RandomCrop) apply(img image.Image, rng *rand.Rand) image.Image {
	b := img.Bounds()
	y := c.start(b.Dy(), rng) // torchvision draws the top first
	x := c.start(b.Dx(), rng)
	return crop(img, image.Rect(x, y, x+c.Size, y+c.Size))
}

// start is the window's first pixel along a side of n pixels, in the
// image's coordinates (negative inside the padding).
func (c RandomCrop) start(n int, rng *rand.Rand) int {
	pad := c.Padding
	if c.PadIfNeeded && n+2*pad < c.Size {
		pad += c.Size - (n + 2*pad)
	}
	return -pad + rng.IntN(max(n+2*pad-c.Size, 0)+1)
}

// Random is the plain random sampler of a config without one
// (`sampler: {}`): each pass over the training set is a fresh permutation,
// cut into batches, the last partial batch dropped (PML's trainers use
// drop_last).
type Random struct {
	indices    []int
	batch, len int
	seed       uint64
}

// NewRandom is the SamplerFactory of `sampler: {}`.
func NewRandom(ds Dataset, indices []int, batchSize int, seed uint64) (Sampler, error) {
	if batchSize < 1 || batchSize > len(indices) {
		return nil, fmt.Errorf("batch_size %d: the training set has %d items", batchSize, len(indices))
	}
	return &Random{indices: indices, batch: batchSize, len: len(indices) / batchSize, seed: seed}, nil
}

// Batch implements Sampler.
func (s *Random) Batch(step int) []int {
	pass, k := step/s.len, step%s.len
	perm := newRNG(s.seed, streamRandomSampler, uint64(pass)).Perm(len(s.indices))
	batch := make([]int, s.batch)
	for i := range batch {
		batch[i] = s.indices[perm[k*s.batch+i]]
	}
	return batch
}

// Len implements Sampler.
func (s *Random) Len() int { return s.len }
