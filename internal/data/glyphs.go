package data

import (
	"fmt"
	"image"
	"math"
	"sync"

	"github.com/bench-ml/bench/internal/config"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gobolditalic"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/gofont/gomediumitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/gomonobolditalic"
	"golang.org/x/image/font/gofont/gomonoitalic"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/gofont/gosmallcaps"
	"golang.org/x/image/font/gofont/gosmallcapsitalic"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// printableASCII is the default Glyphs charset: one class per character.
const printableASCII = "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"

// glyphFaces are the Go font faces a Glyphs image is drawn in.
var glyphFaces = sync.OnceValues(func() ([]*sfnt.Font, error) {
	ttfs := [][]byte{goregular.TTF, gobold.TTF, goitalic.TTF, gobolditalic.TTF,
		gomedium.TTF, gomediumitalic.TTF, gomono.TTF, gomonobold.TTF, gomonoitalic.TTF,
		gomonobolditalic.TTF, gosmallcaps.TTF, gosmallcapsitalic.TTF}
	faces := make([]*sfnt.Font, len(ttfs))
	for i, ttf := range ttfs {
		f, err := sfnt.Parse(ttf)
		if err != nil {
			return nil, fmt.Errorf("Glyphs: parsing Go font %d: %w", i, err)
		}
		faces[i] = f
	}
	return faces, nil
})

// outline is a glyph's path in em units, y down, origin on the baseline,
// with its horizontal extent.
type outline struct {
	ops        []sfnt.SegmentOp
	pts        [][3][2]float32
	minX, maxX float32
}

// segmentPoints is the number of points each kind of segment uses.
var segmentPoints = [...]int{sfnt.SegmentOpMoveTo: 1, sfnt.SegmentOpLineTo: 1, sfnt.SegmentOpQuadTo: 2, sfnt.SegmentOpCubeTo: 3}

// Glyphs is the built-in dataset that needs no download: printed characters
// rendered from the Go fonts, one class per character, each image with its
// own face and seeded distortions (scale, aspect, rotation, shift, stroke
// weight, contrast, noise). Image k of character r depends on (seed, r, k) only.
type Glyphs struct {
	ImagesPerClass int
	ImageSize      int
	Seed           uint64
	Charset        string
}

// Open renders every image, in parallel, white on black, grayscale.
func (g Glyphs) Open() (Dataset, error) {
	faces, err := glyphFaces()
	if err != nil {
		return nil, err
	}
	runes := []rune(g.Charset)
	outlines := make([][]outline, len(runes)) // [class][face]
	var buf sfnt.Buffer
	for c, r := range runes {
		for _, f := range faces {
			o, err := loadOutline(f, &buf, r)
			if err != nil {
				return nil, fmt.Errorf("Glyphs: character %q: %w", r, err)
			}
			outlines[c] = append(outlines[c], o)
		}
	}
	items := make([]item, len(runes)*g.ImagesPerClass)
	_ = forEach(len(items), func(i int) error {
		c, k := i/g.ImagesPerClass, i%g.ImagesPerClass
		items[i] = item{
			class:  string(runes[c]),
			source: fmt.Sprintf("Glyphs(seed %d) %q #%04d", g.Seed, runes[c], k),
			img:    g.render(outlines[c], uint64(runes[c]), uint64(k)),
		}
		return nil
	})
	return newMemDataset("Glyphs", items)
}

func loadOutline(f *sfnt.Font, buf *sfnt.Buffer, r rune) (outline, error) {
	const ppem = 64 // coordinates come in 26.6 pixels at this size
	x, err := f.GlyphIndex(buf, r)
	if err != nil {
		return outline{}, err
	}
	if x == 0 {
		return outline{}, fmt.Errorf("not in the Go fonts")
	}
	segs, err := f.LoadGlyph(buf, x, fixed.I(ppem), nil)
	if err != nil {
		return outline{}, err
	}
	o := outline{minX: math.MaxFloat32, maxX: -math.MaxFloat32}
	for _, s := range segs {
		var p [3][2]float32
		for j, a := range s.Args {
			p[j] = [2]float32{float32(a.X) / (64 * ppem), float32(a.Y) / (64 * ppem)}
		}
		for _, q := range p[:segmentPoints[s.Op]] {
			o.minX, o.maxX = min(o.minX, q[0]), max(o.maxX, q[0])
		}
		o.ops = append(o.ops, s.Op)
		o.pts = append(o.pts, p)
	}
	if len(o.ops) == 0 {
		return outline{}, fmt.Errorf("has no outline (a space?)")
	}
	return o, nil
}

// render draws image k of the character whose outlines (one per face) are given.
func (g Glyphs) render(outlines []outline, char, k uint64) *image.Gray {
	rng := newRNG(g.Seed, streamGlyph, char, k)
	uniform := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	o := outlines[rng.IntN(len(outlines))]
	size := float64(g.ImageSize)

	// Place the glyph relative to its baseline, not its bounding box, so that
	// "o" and "O", or "," and "'", stay distinguishable.
	em := 0.7 * size * uniform(0.85, 1.15)
	sx, sy := em*uniform(0.9, 1.1), em
	sin, cos := math.Sincos(uniform(-15, 15) * math.Pi / 180)
	cx := size/2 + uniform(-0.08, 0.08)*size
	cy := size/2 + uniform(-0.08, 0.08)*size
	midX := float64(o.minX+o.maxX) / 2
	const midY = -0.3 // em: the middle of the span from descenders to capitals
	tx := func(p [2]float32, dx, dy float64) (float32, float32) {
		u, v := (float64(p[0])-midX)*sx, (float64(p[1])-midY)*sy
		return float32(cx + dx + u*cos - v*sin), float32(cy + dy + u*sin + v*cos)
	}

	// Bolder strokes: the glyph drawn again around a small circle.
	offsets := [][2]float64{{0, 0}}
	if r := uniform(0, 0.04) * size; r > 0.1 {
		phi := uniform(0, math.Pi/2)
		for j := range 4 {
			s, c := math.Sincos(phi + float64(j)*math.Pi/2)
			offsets = append(offsets, [2]float64{r * c, r * s})
		}
	}
	mask := image.NewAlpha(image.Rect(0, 0, g.ImageSize, g.ImageSize))
	z := vector.NewRasterizer(g.ImageSize, g.ImageSize)
	for _, off := range offsets {
		z.Reset(g.ImageSize, g.ImageSize)
		for i, op := range o.ops {
			p := o.pts[i]
			x0, y0 := tx(p[0], off[0], off[1])
			switch op {
			case sfnt.SegmentOpMoveTo:
				z.ClosePath()
				z.MoveTo(x0, y0)
			case sfnt.SegmentOpLineTo:
				z.LineTo(x0, y0)
			case sfnt.SegmentOpQuadTo:
				x1, y1 := tx(p[1], off[0], off[1])
				z.QuadTo(x0, y0, x1, y1)
			case sfnt.SegmentOpCubeTo:
				x1, y1 := tx(p[1], off[0], off[1])
				x2, y2 := tx(p[2], off[0], off[1])
				z.CubeTo(x0, y0, x1, y1, x2, y2)
			}
		}
		z.ClosePath()
		z.Draw(mask, mask.Bounds(), image.Opaque, image.Point{})
	}

	fg, bg := uniform(0.75, 1), uniform(0, 0.15)
	sigma := uniform(0, 0.06)
	img := image.NewGray(mask.Rect)
	for i, a := range mask.Pix {
		v := bg + (fg-bg)*float64(a)/255 + sigma*rng.NormFloat64()
		img.Pix[i] = uint8(math.Round(255 * min(max(v, 0), 1)))
	}
	return img
}

func newGlyphs(p *config.Params) Opener {
	g := Glyphs{
		ImagesPerClass: p.Int("images_per_class", 40, config.Min(2)),
		ImageSize:      p.Int("image_size", 32, config.Min(8), config.Max(1024)),
		Seed:           uint64(p.Int("seed", 0, config.Min(0))),
		Charset:        p.String("charset", printableASCII),
	}
	seen := map[rune]bool{}
	for _, r := range g.Charset {
		if seen[r] {
			p.Fail("charset", "%q appears twice; each character is one class", r)
		}
		seen[r] = true
	}
	if len(seen) < 2 {
		p.Fail("charset", "want at least 2 characters, got %q", g.Charset)
	}
	return func(string) (Dataset, error) { return g.Open() }
}
