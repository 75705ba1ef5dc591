package data

import (
	"fmt"

	"github.com/bench-ml/bench/internal/config"
)

// powerful_benchmarker's own tensor transforms, which it appends for
// pretrainedmodels' networks trained in Caffe (BGR input in [0, 255]).

// ConvertToBGR reverses the channels of an RGB tensor.
type ConvertToBGR struct{}

func newConvertToBGR(*config.Params) Transform { return ConvertToBGR{} }

func (ConvertToBGR) outShape(in Shape) (Shape, error) {
	if in.C != 3 {
		return in, fmt.Errorf("needs 3 channels, got %d", in.C)
	}
	return in, nil
}

func (ConvertToBGR) applyTensor(x []float32, s Shape) {
	n := s.H * s.W
	r, b := x[:n], x[2*n:3*n]
	for i := range r {
		r[i], b[i] = b[i], r[i]
	}
}

// Multiplier{multiple} scales every value (255 maps ToTensor's [0, 1] back
// to [0, 255]).
type Multiplier struct{ Multiple float64 }

func newMultiplier(p *config.Params) Transform {
	return Multiplier{Multiple: p.Float("multiple", 1)}
}

func (Multiplier) outShape(in Shape) (Shape, error) { return in, nil }

func (t Multiplier) applyTensor(x []float32, _ Shape) {
	m := float32(t.Multiple)
	for i := range x {
		x[i] *= m
	}
}

func init() {
	Transforms.Register("ConvertToBGR", newConvertToBGR)
	Transforms.Register("Multiplier", newMultiplier)
}
