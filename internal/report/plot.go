package report

import (
	"bytes"
	"fmt"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/bench-ml/bench/internal/record"
)

// Plot draws the experiment's curves, one line per fold, as PNG files in
// dir: the validation primary metric per epoch (<name>_val_<metric>.png)
// and the smoothed training loss per iteration (<name>_train_loss.png). A
// plot with no recorded point is not written. It returns the names of the
// files written.
func Plot(e *Experiment, dir string) ([]string, error) {
	plots := []struct {
		file, title, x, y string
		curve             func(Fold) Curve
		// The legend goes where the curves usually are not: bottom right
		// for a rising metric, top right for a falling loss.
		points, legendTop bool
	}{
		{
			file: e.Name + "_val_" + e.PrimaryMetric + ".png", title: e.Name + ": validation " + e.PrimaryMetric,
			x: "epoch", y: e.PrimaryMetric, curve: func(f Fold) Curve { return f.Val }, points: true,
		},
		{
			file: e.Name + "_train_loss.png", title: e.Name + ": training loss (moving average)",
			x: "iteration", y: "total_loss", curve: func(f Fold) Curve { return smooth(f.Loss, smoothingWindow(f.Loss.Len())) }, legendTop: true,
		},
	}
	var written []string
	for _, pl := range plots {
		var lines []any
		for _, f := range e.Folds {
			if c := pl.curve(f); c.Len() > 0 {
				lines = append(lines, f.Name, c)
			}
		}
		if len(lines) == 0 {
			continue
		}
		p := plot.New()
		p.Title.Text, p.X.Label.Text, p.Y.Label.Text = pl.title, pl.x, pl.y
		p.Legend.Top = pl.legendTop
		add := plotutil.AddLines
		if pl.points {
			add = plotutil.AddLinePoints
		}
		if err := add(p, lines...); err != nil {
			return written, fmt.Errorf("plotting %s: %w", pl.file, err)
		}
		if err := savePNG(p, filepath.Join(dir, pl.file)); err != nil {
			return written, err
		}
		written = append(written, pl.file)
	}
	return written, nil
}

func savePNG(p *plot.Plot, path string) error {
	w, err := p.WriterTo(16*vg.Centimeter, 10*vg.Centimeter, "png")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return fmt.Errorf("drawing %s: %w", path, err)
	}
	return record.WriteFileAtomic(path, buf.Bytes())
}
