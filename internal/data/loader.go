package data

import (
	"fmt"
	"io"
	"sync"
)

// Batch is a batch of transformed images and their labels.
type Batch struct {
	X      []float32 // len(Labels) images, each Shape.C*Shape.H*Shape.W values, CHW
	Labels []int
	Shape  Shape // of one image
}

// Loader makes batches from a dataset through a transform pipeline, the
// images of a batch transformed in parallel. Item j of the batch made for
// step s draws its random transforms from (seed, s, j) alone, so a batch is
// the same whatever the number of workers and their timing.
type Loader struct {
	ds      Dataset
	pipe    *Pipeline
	shape   Shape
	seed    uint64
	workers int // goroutines transforming a batch; 0 = one per CPU
}

// NewLoader checks that the pipeline gives one shape for the dataset.
func NewLoader(ds Dataset, pipe *Pipeline, seed uint64) (*Loader, error) {
	shape, err := pipe.OutputShape(ds.Shape())
	if err != nil {
		return nil, err
	}
	return &Loader{ds: ds, pipe: pipe, shape: shape, seed: seed}, nil
}

// WithWorkers sets how many goroutines transform a batch (the config's
// dataloader_num_workers); 0 means one per CPU. Batches do not depend on it.
func (l *Loader) WithWorkers(n int) *Loader {
	l.workers = n
	return l
}

// Shape is the shape of one transformed image.
func (l *Loader) Shape() Shape { return l.shape }

// Load makes the batch of the given dataset indices for a step (any number
// unique to the batch, such as the global iteration; it seeds the random
// transforms).
func (l *Loader) Load(indices []int, step int) (Batch, error) {
	size := l.shape.C * l.shape.H * l.shape.W
	b := Batch{X: make([]float32, len(indices)*size), Labels: make([]int, len(indices)), Shape: l.shape}
	err := forEachOn(l.workers, len(indices), func(j int) error {
		i := indices[j]
		img, err := l.ds.Image(i) // its errors name the file already
		if err != nil {
			return err
		}
		rng := newRNG(l.seed, streamTransform, uint64(step), uint64(j))
		if err := l.pipe.apply(img, rng, l.shape, b.X[j*size:(j+1)*size]); err != nil {
			return fmt.Errorf("%s: %w", l.ds.Source(i), err)
		}
		b.Labels[j] = l.ds.Label(i)
		return nil
	})
	return b, err
}

// Prefetcher makes the batches of consecutive steps one ahead of the
// consumer, so that loading overlaps the training step.
type Prefetcher struct {
	out  chan result
	stop chan struct{}
	once sync.Once
}

type result struct {
	batch Batch
	err   error
}

// Prefetch starts making the batches of steps from, from+1, ...; indices
// gives the dataset indices of a step's batch, or nil after the last one;
// it is called from the prefetching goroutine. Call Close when done.
func (l *Loader) Prefetch(from int, indices func(step int) []int) *Prefetcher {
	return prefetch(l.Load, from, indices)
}

func prefetch(load func(indices []int, step int) (Batch, error), from int, indices func(step int) []int) *Prefetcher {
	p := &Prefetcher{out: make(chan result, 1), stop: make(chan struct{})}
	go func() {
		defer close(p.out)
		for step := from; ; step++ {
			idx := indices(step)
			if idx == nil {
				return
			}
			b, err := load(idx, step)
			select {
			case p.out <- result{b, err}:
			case <-p.stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return p
}

// Next returns the next batch, or io.EOF after the last.
func (p *Prefetcher) Next() (Batch, error) {
	r, ok := <-p.out
	if !ok {
		return Batch{}, io.EOF
	}
	return r.batch, r.err
}

// Close stops the prefetching; it may be called more than once.
func (p *Prefetcher) Close() {
	p.once.Do(func() { close(p.stop) })
	for range p.out { // let the producer finish its batch and exit
	}
}
