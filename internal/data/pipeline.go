package data

import (
	"fmt"
	"image"
	"math/rand/v2"

	"github.com/bench-ml/bench/internal/config"
)

// Transform is one configured step of a Pipeline: an image transform (Resize,
// RandomResizedCrop, ...), ToTensor, or a tensor transform (Normalize).
type Transform interface {
	// outShape is the shape after the step given the shape before; H and W
	// are 0 when they depend on the image.
	outShape(in Shape) (Shape, error)
}

// imageTransform changes the picture, drawing any randomness from rng, the
// item's own generator.
type imageTransform interface {
	Transform
	apply(img image.Image, rng *rand.Rand) image.Image
}

// tensorTransform changes the CHW float values that ToTensor made.
type tensorTransform interface {
	Transform
	applyTensor(x []float32, s Shape)
}

// Pipeline applies the configured transforms, in config order: image
// transforms, then the conversion to a float32 CHW tensor in [0, 1]
// (implicit, or where ToTensor is written), then tensor transforms.
type Pipeline struct {
	image  []imageTransform
	tensor []tensorTransform
	steps  []step // every step, for shape checks and messages
}

type step struct {
	t      Transform
	path   string // key path of the component, for messages
	source string
}

// NewPipeline builds the transforms given in order (the transforms list of
// one split, as the config file writes it).
func NewPipeline(components []config.Component) (*Pipeline, error) {
	p := &Pipeline{}
	tensorStage := false // after ToTensor or a tensor transform
	for _, c := range components {
		t, _, err := Transforms.Build(c)
		if err != nil {
			return nil, err
		}
		s := step{t: t, path: config.JoinPath(c.Where, c.Type), source: c.Source}
		switch t := t.(type) {
		case imageTransform:
			if tensorStage {
				return nil, s.errorf("an image transform cannot come after ToTensor or Normalize")
			}
			p.image = append(p.image, t)
		case tensorTransform:
			tensorStage = true
			p.tensor = append(p.tensor, t)
		default: // ToTensor marks where the conversion happens
			if tensorStage {
				return nil, s.errorf("ToTensor must come before the tensor transforms, and only once")
			}
			tensorStage = true
		}
		p.steps = append(p.steps, s)
	}
	return p, nil
}

func (s step) errorf(format string, args ...any) error {
	return &config.Error{Source: s.source, Path: s.path, Msg: fmt.Sprintf(format, args...)}
}

// OutputShape is the shape of the tensors the pipeline makes from images of
// shape in (a dataset's Shape), known before any image is loaded: the model
// is built from it. Images whose size differs within a dataset need a crop
// or fixed-size step.
func (p *Pipeline) OutputShape(in Shape) (Shape, error) {
	s := in
	for _, st := range p.steps {
		var err error
		if s, err = st.t.outShape(s); err != nil {
			return Shape{}, st.errorf("%v", err)
		}
	}
	if s.H == 0 || s.W == 0 {
		return Shape{}, fmt.Errorf("transforms: the images differ in size, so the transforms must end in one size: add CenterCrop or RandomResizedCrop")
	}
	return s, nil
}

// apply transforms img into dst, which holds out.C*out.H*out.W values.
func (p *Pipeline) apply(img image.Image, rng *rand.Rand, out Shape, dst []float32) error {
	for _, t := range p.image {
		img = t.apply(img, rng)
	}
	if b := img.Bounds(); b.Dx() != out.W || b.Dy() != out.H {
		return fmt.Errorf("transformed to %dx%d, want %dx%d (the dataset's images differ in size?)", b.Dy(), b.Dx(), out.H, out.W)
	}
	toTensor(img, out.C, dst)
	for _, t := range p.tensor {
		t.applyTensor(dst, out)
	}
	return nil
}

// ImageNet's channel statistics, which powerful_benchmarker normalises
// with when the trunk declares none of its own.
var (
	ImageNetMean = []float64{0.485, 0.456, 0.406}
	ImageNetStd  = []float64{0.229, 0.224, 0.225}
)

// NormalizeByDefault appends Normalize{mean, std} to a pipeline that has no
// Normalize of its own and makes len(mean)-channel tensors from images of
// shape in, as powerful_benchmarker's TransformFactory ends every pipeline
// with ToTensor and Normalize (bench converts to a tensor anyway). A
// Normalize written in the config is kept as written; images of another
// channel count (grayscale datasets) are left alone.
func (p *Pipeline) NormalizeByDefault(in Shape, mean, std []float64) {
	for _, t := range p.tensor {
		if _, ok := t.(Normalize); ok {
			return
		}
	}
	if out, err := p.OutputShape(in); err != nil || out.C != len(mean) {
		return // a bad pipeline is reported by whoever needs its shape
	}
	n := Normalize{Mean: mean, Std: std}
	p.tensor = append(p.tensor, n)
	p.steps = append(p.steps, step{t: n, path: "transforms (automatic Normalize)"})
}
