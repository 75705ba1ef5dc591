package data

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	"github.com/bench-ml/bench/internal/config"
	"github.com/disintegration/imaging"
)

// Geometric transforms with torchvision's semantics (PIL backend): bilinear
// resampling with antialiasing, which is what imaging.Linear computes, and
// black where a transform uncovers the canvas.

// Resize{size}: the shorter side becomes size, keeping the aspect ratio.
type Resize struct{ Size int }

func newResize(p *config.Params) Transform { return Resize{Size: sizeParam(p)} }

// sizeParam reads the output size that Resize and the crops require.
func sizeParam(p *config.Params) int {
	n := p.Int("size", 0)
	if n < 1 {
		p.Fail("size", "required: a positive number of pixels, got %d", n)
	}
	return n
}

func (r Resize) target(h, w int) (int, int) {
	if w <= h {
		return r.Size * h / w, r.Size
	}
	return r.Size, r.Size * w / h
}

func (r Resize) outShape(in Shape) (Shape, error) {
	if in.H == 0 {
		return in, nil
	}
	in.H, in.W = r.target(in.H, in.W)
	return in, nil
}

func (r Resize) apply(img image.Image, _ *rand.Rand) image.Image {
	b := img.Bounds()
	h, w := r.target(b.Dy(), b.Dx())
	if h == b.Dy() && w == b.Dx() {
		return img
	}
	return imaging.Resize(img, w, h, imaging.Linear)
}

// CenterCrop{size}: the central size x size square, padded with black where
// the image is smaller.
type CenterCrop struct{ Size int }

func newCenterCrop(p *config.Params) Transform {
	return CenterCrop{Size: sizeParam(p)}
}

func (c CenterCrop) outShape(in Shape) (Shape, error) {
	in.H, in.W = c.Size, c.Size
	return in, nil
}

func (c CenterCrop) apply(img image.Image, _ *rand.Rand) image.Image {
	b := img.Bounds()
	// torchvision rounds half to even; when padding, the image sits at
	// floor((size-len)/2) from the top left.
	offset := func(n int) int {
		if n < c.Size {
			return -((c.Size - n) / 2)
		}
		return int(math.RoundToEven(float64(n-c.Size) / 2))
	}
	x, y := offset(b.Dx()), offset(b.Dy())
	return crop(img, image.Rect(x, y, x+c.Size, y+c.Size))
}

// crop cuts r (relative to the image's top left) out of img, black outside.
func crop(img image.Image, r image.Rectangle) image.Image {
	b := img.Bounds()
	r = r.Add(b.Min)
	if r.In(b) {
		return imaging.Crop(img, r)
	}
	canvas := imaging.New(r.Dx(), r.Dy(), color.Black)
	return imaging.Paste(canvas, img, b.Min.Sub(r.Min))
}

// RandomResizedCrop{size, scale, ratio}: a crop of random area (a fraction
// in scale of the image) and aspect ratio (log-uniform in ratio), resized to
// size x size; after 10 failed draws, the central crop clamped to ratio.
type RandomResizedCrop struct {
	Size         int
	Scale, Ratio [2]float64
}

func newRandomResizedCrop(p *config.Params) Transform {
	t := RandomResizedCrop{Size: sizeParam(p)}
	pair := func(key string, def []float64, check config.Check) [2]float64 {
		v := p.Floats(key, def, check)
		if len(v) != 2 || v[0] > v[1] {
			p.Fail(key, "want [min, max], got %v", v)
			return [2]float64{def[0], def[1]}
		}
		return [2]float64{v[0], v[1]}
	}
	t.Scale = pair("scale", []float64{0.08, 1}, config.Above(0))
	t.Ratio = pair("ratio", []float64{3.0 / 4, 4.0 / 3}, config.Above(0))
	return t
}

func (t RandomResizedCrop) outShape(in Shape) (Shape, error) {
	in.H, in.W = t.Size, t.Size
	return in, nil
}

func (t RandomResizedCrop) apply(img image.Image, rng *rand.Rand) image.Image {
	r := t.window(img.Bounds().Dy(), img.Bounds().Dx(), rng)
	return imaging.Resize(crop(img, r), t.Size, t.Size, imaging.Linear)
}

// window is torchvision's RandomResizedCrop.get_params.
func (t RandomResizedCrop) window(height, width int, rng *rand.Rand) image.Rectangle {
	uniform := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	area := float64(height * width)
	logLo, logHi := math.Log(t.Ratio[0]), math.Log(t.Ratio[1])
	for range 10 {
		target := area * uniform(t.Scale[0], t.Scale[1])
		aspect := math.Exp(uniform(logLo, logHi))
		w := int(math.RoundToEven(math.Sqrt(target * aspect)))
		h := int(math.RoundToEven(math.Sqrt(target / aspect)))
		if 0 < w && w <= width && 0 < h && h <= height {
			y := rng.IntN(height - h + 1)
			x := rng.IntN(width - w + 1)
			return image.Rect(x, y, x+w, y+h)
		}
	}
	w, h := width, height
	switch in := float64(width) / float64(height); {
	case in < t.Ratio[0]:
		h = int(math.RoundToEven(float64(w) / t.Ratio[0]))
	case in > t.Ratio[1]:
		w = int(math.RoundToEven(float64(h) * t.Ratio[1]))
	}
	x, y := (width-w)/2, (height-h)/2
	return image.Rect(x, y, x+w, y+h)
}

// RandomRotation{degrees}: rotated counter-clockwise by an angle uniform in
// [-degrees, degrees] about the centre, keeping the size, nearest neighbour,
// black corners: torchvision's defaults. imaging.Rotate grows the canvas
// and interpolates, so this one is written out.
type RandomRotation struct{ Degrees float64 }

func newRandomRotation(p *config.Params) Transform {
	return RandomRotation{Degrees: p.Float("degrees", 0, config.Min(0), config.Max(180))}
}

func (RandomRotation) outShape(in Shape) (Shape, error) { return in, nil }

func (t RandomRotation) apply(img image.Image, rng *rand.Rand) image.Image {
	return rotate(img, t.Degrees*(2*rng.Float64()-1))
}

// rotate is PIL's Image.rotate(angle) with nearest-neighbour sampling: each
// output pixel centre is mapped back into the source.
func rotate(img image.Image, degrees float64) *image.NRGBA {
	src := imaging.Clone(img)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dst := imaging.New(w, h, color.Black)
	sin, cos := math.Sincos(degrees * math.Pi / 180)
	cx, cy := float64(w)/2, float64(h)/2
	for y := range h {
		dy := float64(y) + 0.5 - cy
		for x := range w {
			dx := float64(x) + 0.5 - cx
			sx := int(math.Floor(cx + cos*dx - sin*dy))
			sy := int(math.Floor(cy + sin*dx + cos*dy))
			if sx >= 0 && sx < w && sy >= 0 && sy < h {
				copy(dst.Pix[4*(y*w+x):4*(y*w+x)+4], src.Pix[4*(sy*w+sx):])
			}
		}
	}
	return dst
}
