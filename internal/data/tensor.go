package data

import (
	"fmt"
	"image"

	"github.com/bench-ml/bench/internal/config"
	"github.com/disintegration/imaging"
)

// ToTensor marks where the image becomes a float tensor; without it, that is
// after the last image transform.
type ToTensor struct{}

func newToTensor(*config.Params) Transform { return ToTensor{} }

func (ToTensor) outShape(in Shape) (Shape, error) { return in, nil }

// Normalize{mean, std}: (x - mean[c]) / std[c] per channel; one value
// applies to every channel.
type Normalize struct{ Mean, Std []float64 }

func newNormalize(p *config.Params) Transform {
	t := Normalize{Mean: p.Floats("mean", nil), Std: p.Floats("std", nil, config.Above(0))}
	if len(t.Mean) == 0 {
		p.Fail("mean", "required: one value per channel")
	}
	if len(t.Std) == 0 {
		p.Fail("std", "required: one value per channel")
	}
	return t
}

func (t Normalize) outShape(in Shape) (Shape, error) {
	for _, v := range [][]float64{t.Mean, t.Std} {
		if len(v) != 1 && len(v) != in.C {
			return in, fmt.Errorf("mean and std need one value per channel (%d) or a single value, got %v", in.C, v)
		}
	}
	return in, nil
}

func (t Normalize) applyTensor(x []float32, s Shape) {
	n := s.H * s.W
	for c := range s.C {
		m, sd := t.Mean[min(c, len(t.Mean)-1)], t.Std[min(c, len(t.Std)-1)]
		mean, std := float32(m), float32(sd)
		plane := x[c*n : (c+1)*n]
		for i, v := range plane {
			plane[i] = (v - mean) / std
		}
	}
}

// byteToUnit maps a byte to [0, 1] as ToTensor does.
var byteToUnit = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return
}()

// toTensor writes img as c planes of floats in [0, 1]. One channel takes the
// red channel: the image is gray then (a gray dataset, or after Grayscale).
func toTensor(img image.Image, c int, dst []float32) {
	b := img.Bounds()
	n := b.Dx() * b.Dy()
	if g, ok := img.(*image.Gray); ok && g.Stride == b.Dx() {
		for ch := range c {
			plane := dst[ch*n : (ch+1)*n]
			for i, v := range g.Pix[:n] {
				plane[i] = byteToUnit[v]
			}
		}
		return
	}
	rgba, ok := img.(*image.NRGBA)
	if !ok || rgba.Stride != 4*b.Dx() {
		rgba = imaging.Clone(img)
	}
	for ch := range c {
		plane := dst[ch*n : (ch+1)*n]
		for i := range plane {
			plane[i] = byteToUnit[rgba.Pix[4*i+ch]]
		}
	}
}
