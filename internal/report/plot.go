package report

import (
	"bytes"
	"fmt"
	"image/color"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/bench-ml/bench/internal/record"
)

// okabeIto is the Okabe-Ito palette, told apart with every common form of
// colour blindness; lines also differ by dash pattern, for print in grey.
var okabeIto = []color.Color{
	color.RGBA{0xE6, 0x9F, 0x00, 0xFF}, color.RGBA{0x56, 0xB4, 0xE9, 0xFF}, color.RGBA{0x00, 0x9E, 0x73, 0xFF},
	color.RGBA{0x00, 0x72, 0xB2, 0xFF}, color.RGBA{0xD5, 0x5E, 0x00, 0xFF}, color.RGBA{0xCC, 0x79, 0xA7, 0xFF},
	color.RGBA{0xF0, 0xE4, 0x42, 0xFF}, color.RGBA{0x00, 0x00, 0x00, 0xFF},
}

var dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(6), vg.Points(2), vg.Points(2), vg.Points(2)}}

// Figure size and fonts: readable at the width of a paper's column pair.
const (
	figWidth  = 14 * vg.Centimeter
	figHeight = 9 * vg.Centimeter
	figDPI    = 200
)

// Figure is a plot written as <Base>.png and <Base>.svg.
type Figure struct {
	Title string
	Base  string
	SVG   []byte // for pages that inline it
}

// curveKind is a figure of every experiment of a dataset on shared axes.
type curveKind struct {
	base, title, x, y string
	curve             func(Fold) Curve
	scale             float64
	legendTop         bool
}

// Figures draws, for each dataset, the validation primary metric per epoch
// and the training loss per iteration of every experiment on shared axes:
// the mean over folds as a line, the range of the folds as a band, the
// legend naming each experiment's method. It writes val_<dataset> and
// train_loss_<dataset> as PNG and SVG into dir and returns the figures
// that have a point.
func Figures(exps []*Experiment, dir string) ([]Figure, error) {
	var figs []Figure
	for _, d := range distinct(exps, func(e *Experiment) string { return e.Dataset }) {
		var group []*Experiment
		for _, e := range exps {
			if e.Dataset == d {
				group = append(group, e)
			}
		}
		metric := "primary metric"
		if m := distinct(group, func(e *Experiment) string { return e.PrimaryMetric }); len(m) == 1 {
			metric = shortName(m[0])
		}
		kinds := []curveKind{
			{base: "val_" + d, title: d + ": validation " + metric + " (mean over folds; band: their range)",
				x: "epoch", y: metric + " (%)", curve: func(f Fold) Curve { return f.Val }, scale: 100},
			{base: "train_loss_" + d, title: d + ": training loss (moving average; mean over folds; band: their range)",
				x: "iteration", y: "total loss", curve: func(f Fold) Curve { return smooth(f.Loss, smoothingWindow(f.Loss.Len())) },
				scale: 1, legendTop: true},
		}
		for _, kind := range kinds {
			fig, err := drawFigure(group, exps, kind, dir)
			if err != nil {
				return figs, err
			}
			if fig != nil {
				figs = append(figs, *fig)
			}
		}
	}
	return figs, nil
}

func drawFigure(group, all []*Experiment, kind curveKind, dir string) (*Figure, error) {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = kind.title, kind.x, kind.y
	p.Title.TextStyle.Font.Size = vg.Points(10)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(10)
		a.Tick.Label.Font.Size = vg.Points(9)
	}
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.Legend.Top = kind.legendTop
	p.Add(plotter.NewGrid())
	drawn := 0
	for i, e := range group {
		var curves []Curve
		for _, f := range e.Folds {
			if c := kind.curve(f); c.Len() > 0 {
				curves = append(curves, scaled(c, kind.scale))
			}
		}
		if len(curves) == 0 {
			continue
		}
		b := band(curves)
		c := okabeIto[i%len(okabeIto)]
		if len(curves) > 1 {
			poly := make(plotter.XYs, 0, 2*b.Low.Len())
			for j := range b.Low.X {
				poly = append(poly, plotter.XY{X: b.Low.X[j], Y: b.Low.Y[j]})
			}
			for j := b.High.Len() - 1; j >= 0; j-- {
				poly = append(poly, plotter.XY{X: b.High.X[j], Y: b.High.Y[j]})
			}
			shade, err := plotter.NewPolygon(poly)
			if err != nil {
				return nil, err
			}
			r, g, bl, _ := c.RGBA()
			shade.Color = color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0x40}
			shade.LineStyle.Width = 0
			p.Add(shade)
		}
		line, err := plotter.NewLine(b.Mean)
		if err != nil {
			return nil, err
		}
		line.Color = c
		line.Width = vg.Points(1.5)
		line.Dashes = dashes[i%len(dashes)]
		p.Add(line)
		p.Legend.Add(rowLabel(e, all), line)
		drawn++
	}
	if drawn == 0 {
		return nil, nil
	}
	base := fileName(kind.base)
	svg, err := render(p, "svg")
	if err != nil {
		return nil, err
	}
	png, err := render(p, "png")
	if err != nil {
		return nil, err
	}
	for ext, data := range map[string][]byte{".svg": svg, ".png": png} {
		if err := record.WriteFileAtomic(filepath.Join(dir, base+ext), data); err != nil {
			return nil, err
		}
	}
	return &Figure{Title: kind.title, Base: base, SVG: svg}, nil
}

func scaled(c Curve, s float64) Curve {
	out := Curve{X: c.X, Y: make([]float64, len(c.Y))}
	for i, y := range c.Y {
		out.Y[i] = s * y
	}
	return out
}

// render draws p as SVG or as PNG at figDPI.
func render(p *plot.Plot, format string) ([]byte, error) {
	var c vg.CanvasSizer
	var write func(*bytes.Buffer) error
	switch format {
	case "svg":
		s := vgsvg.New(figWidth, figHeight)
		c, write = s, func(b *bytes.Buffer) error { _, err := s.WriteTo(b); return err }
	default:
		img := vgimg.NewWith(vgimg.UseWH(figWidth, figHeight), vgimg.UseDPI(figDPI))
		c, write = img, func(b *bytes.Buffer) error { _, err := vgimg.PngCanvas{Canvas: img}.WriteTo(b); return err }
	}
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return nil, fmt.Errorf("drawing %s: %w", p.Title.Text, err)
	}
	return buf.Bytes(), nil
}

// fileName keeps a figure's name to letters, digits, '.', '-' and '_'.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
