package data

import (
	"image"
	"reflect"

	"github.com/bench-ml/bench/internal/config"
)

// fixedTransform is an image transform that draws nothing from its
// generator: its output is a function of the image alone, so it can be
// applied once instead of at every visit.
type fixedTransform interface {
	imageTransform
	fixed()
}

func (Resize) fixed()     {}
func (CenterCrop) fixed() {}

// Precompute applies the fixed transforms (Resize, CenterCrop) that every
// one of lists starts with, the same component with the same parameters, to
// each image of an in-memory dataset once. The dataset returned keeps those
// outputs in place of the decoded images (Omniglot's 105x105 decoded
// images take 51 MB, resized to 28x28 and kept at a byte a pixel 4 MB), and
// fixed is how many leading components of each list it applied: the
// loaders run list[fixed:] on it. The images those transforms receive are
// the ones they would have received from the whole list, so batches do not
// change. A dataset read from files, or lists without a common fixed
// start, give ds itself and 0.
func Precompute(ds Dataset, lists ...[]config.Component) (_ Dataset, fixed int, _ error) {
	m, ok := ds.(*memDataset)
	if !ok || len(lists) == 0 {
		return ds, 0, nil
	}
	var prefix []fixedTransform
	for ; fixed < len(lists[0]); fixed++ {
		c := lists[0][fixed]
		if !everyListHas(lists, fixed, c) {
			break
		}
		t, _, err := Transforms.Build(c)
		if err != nil {
			return nil, 0, err
		}
		f, ok := t.(fixedTransform)
		if !ok {
			break
		}
		prefix = append(prefix, f)
	}
	if fixed == 0 {
		return ds, 0, nil
	}
	images := make([]image.Image, len(m.images))
	_ = forEach(len(images), func(i int) error {
		img := m.images[i]
		for _, t := range prefix {
			img = t.apply(img, nil)
		}
		images[i] = compact(img)
		return nil
	})
	shape := imageShape(images)
	shape.C = m.shape.C // of the decoded images, whatever type the transforms return
	return &memDataset{catalog: m.catalog, images: images, shape: shape}, fixed, nil
}

func everyListHas(lists [][]config.Component, i int, c config.Component) bool {
	for _, l := range lists {
		if i >= len(l) || l[i].Type != c.Type || !reflect.DeepEqual(l[i].Params, c.Params) {
			return false
		}
	}
	return true
}

// greyNRGBA is an NRGBA image whose pixels are all opaque greys, which the
// resampling of a grayscale image makes, kept at one byte a pixel instead
// of four; memDataset.Image hands out the NRGBA image again.
type greyNRGBA struct{ *image.Gray }

// compact is img as a greyNRGBA when it is an NRGBA image of opaque greys,
// else img.
func compact(img image.Image) image.Image {
	n, ok := img.(*image.NRGBA)
	if !ok {
		return img
	}
	g := image.NewGray(n.Rect)
	for y := n.Rect.Min.Y; y < n.Rect.Max.Y; y++ {
		for x := n.Rect.Min.X; x < n.Rect.Max.X; x++ {
			p := n.Pix[n.PixOffset(x, y):][:4]
			if p[0] != p[1] || p[1] != p[2] || p[3] != 0xff {
				return img
			}
			g.Pix[g.PixOffset(x, y)] = p[0]
		}
	}
	return greyNRGBA{g}
}

func (g greyNRGBA) expand() *image.NRGBA {
	n := image.NewNRGBA(g.Rect)
	for y := g.Rect.Min.Y; y < g.Rect.Max.Y; y++ {
		for x := g.Rect.Min.X; x < g.Rect.Max.X; x++ {
			v, p := g.Pix[g.PixOffset(x, y)], n.Pix[n.PixOffset(x, y):][:4]
			p[0], p[1], p[2], p[3] = v, v, v, 0xff
		}
	}
	return n
}
