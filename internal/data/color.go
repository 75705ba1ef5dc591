package data

import (
	"image"
	"math"
	"math/rand/v2"

	"github.com/bench-ml/bench/internal/config"
	"github.com/disintegration/imaging"
)

// ColorJitter{brightness, contrast, saturation, hue}: torchvision's, in
// float: factors uniform in their ranges (hue: a shift of a turn), applied
// in a random order, clamped to [0, 1] after each. As torchvision, a
// parameter is a number v, the range [max(0, 1-v), 1+v] ([-v, v] for hue),
// or the range itself, [min, max] (or powerful_benchmarker's string "min
// max"); a range of only the identity (1, or 0 for hue) is off. A gray image
// stays gray (saturation and hue change nothing there).
type ColorJitter struct{ Brightness, Contrast, Saturation, Hue jitterRange }

// jitterRange is one parameter's range; on is false for the identity.
type jitterRange struct {
	lo, hi float64
	on     bool
}

// draw is torchvision's uniform_(lo, hi).
func (r jitterRange) draw(rng *rand.Rand) float64 { return r.lo + (r.hi-r.lo)*rng.Float64() }

func newColorJitter(p *config.Params) Transform {
	return ColorJitter{
		Brightness: readJitter(p, "brightness", 1, math.Inf(1)),
		Contrast:   readJitter(p, "contrast", 1, math.Inf(1)),
		Saturation: readJitter(p, "saturation", 1, math.Inf(1)),
		Hue:        readJitter(p, "hue", 0, 0.5),
	}
}

// readJitter is torchvision's ColorJitter._check_input: the range around
// center of a number (at most bound from it for hue, its lower end clipped
// at 0 for the factors), or a pair min <= max within [center-bound,
// center+bound] (hue) or [0, inf).
func readJitter(p *config.Params, key string, center, bound float64) jitterRange {
	lowest := max(0, center-bound)
	if center == 0 {
		lowest = -bound
	}
	v, pair, isPair := p.FloatOrPair(key, 0)
	var r jitterRange
	switch {
	case isPair:
		if pair[0] < lowest || pair[0] > pair[1] || pair[1] > center+bound {
			p.Fail(key, "[%v, %v] must be a range min <= max within [%v, %v]", pair[0], pair[1], lowest, center+bound)
		}
		r = jitterRange{lo: pair[0], hi: pair[1]}
	case v < 0 || (center == 0 && v > bound):
		p.Fail(key, "%v is out of range: must be in [0, %v]", v, bound)
	default:
		r = jitterRange{lo: max(lowest, center-v), hi: center + v}
	}
	r.on = r.lo != center || r.hi != center
	return r
}

func (ColorJitter) outShape(in Shape) (Shape, error) { return in, nil }

func (t ColorJitter) apply(img image.Image, rng *rand.Rand) image.Image {
	order := rng.Perm(4)
	var f [4]float64
	for i, r := range []jitterRange{t.Brightness, t.Contrast, t.Saturation, t.Hue} {
		if r.on {
			f[i] = r.draw(rng)
		}
	}

	out := imaging.Clone(img)
	px := make([][3]float64, len(out.Pix)/4)
	for i := range px {
		for c := range 3 {
			px[i][c] = float64(out.Pix[4*i+c]) / 255
		}
	}
	for _, op := range order {
		switch {
		case op == 0 && t.Brightness.on:
			blend(px, f[0], func([3]float64) float64 { return 0 })
		case op == 1 && t.Contrast.on:
			var mean float64
			for _, p := range px {
				mean += gray(p)
			}
			mean /= float64(len(px))
			blend(px, f[1], func([3]float64) float64 { return mean })
		case op == 2 && t.Saturation.on:
			blend(px, f[2], gray)
		case op == 3 && t.Hue.on:
			for i := range px {
				px[i] = shiftHue(px[i], f[3])
			}
		}
	}
	for i, p := range px {
		for c := range 3 {
			out.Pix[4*i+c] = uint8(math.Round(255 * p[c]))
		}
	}
	return out
}

// blend is torchvision's _blend: factor*x + (1-factor)*other, clamped.
func blend(px [][3]float64, factor float64, other func([3]float64) float64) {
	for i, p := range px {
		o := other(p)
		for c := range 3 {
			px[i][c] = min(max(factor*p[c]+(1-factor)*o, 0), 1)
		}
	}
}

// gray is the ITU-R 601-2 luma that torchvision and PIL use.
func gray(p [3]float64) float64 { return 0.299*p[0] + 0.587*p[1] + 0.114*p[2] }

// shiftHue rotates the hue (HSV) by shift turns.
func shiftHue(p [3]float64, shift float64) [3]float64 {
	r, g, b := p[0], p[1], p[2]
	hi, lo := max(r, g, b), min(r, g, b)
	delta := hi - lo
	if delta == 0 {
		return p
	}
	var h float64
	switch hi {
	case r:
		h = (g - b) / delta
	case g:
		h = 2 + (b-r)/delta
	default:
		h = 4 + (r-g)/delta
	}
	h = math.Mod(h/6+shift+2, 1) * 6
	s, v := delta/hi, hi
	i := math.Floor(h)
	fr := h - i
	pp, q, tt := v*(1-s), v*(1-s*fr), v*(1-s*(1-fr))
	switch int(i) % 6 {
	case 0:
		return [3]float64{v, tt, pp}
	case 1:
		return [3]float64{q, v, pp}
	case 2:
		return [3]float64{pp, v, tt}
	case 3:
		return [3]float64{pp, q, v}
	case 4:
		return [3]float64{tt, pp, v}
	}
	return [3]float64{v, pp, q}
}

// Grayscale{num_output_channels}: luma in 1 channel, or copied to 3.
type Grayscale struct{ Channels int }

func newGrayscale(p *config.Params) Transform {
	n := p.Int("num_output_channels", 1)
	if n != 1 && n != 3 {
		p.Fail("num_output_channels", "want 1 or 3, got %d", n)
	}
	return Grayscale{Channels: n}
}

func (t Grayscale) outShape(in Shape) (Shape, error) {
	in.C = t.Channels
	return in, nil
}

func (Grayscale) apply(img image.Image, _ *rand.Rand) image.Image { return imaging.Grayscale(img) }
