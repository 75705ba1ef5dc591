package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
)

// Curve is one recorded quantity against iterations or epochs.
type Curve struct{ X, Y []float64 }

// Len is the number of points.
func (c Curve) Len() int { return len(c.X) }

// XY is point i, for gonum/plot.
func (c Curve) XY(i int) (x, y float64) { return c.X[i], c.Y[i] }

// readCurve reads columns x and y of a record CSV. A missing file is an
// empty curve (the fold has not recorded anything yet). Rows with an empty
// or non-finite cell are left out: a column added after the first rows
// leaves those empty, and a diverged loss cannot be drawn.
func readCurve(file, x, y string) (Curve, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return Curve{}, nil
	}
	if err != nil {
		return Curve{}, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return Curve{}, fmt.Errorf("%s: %w", file, err)
	}
	if len(rows) == 0 {
		return Curve{}, nil
	}
	xi, yi := slices.Index(rows[0], x), slices.Index(rows[0], y)
	for _, col := range []struct {
		name string
		i    int
	}{{x, xi}, {y, yi}} {
		if col.i < 0 {
			return Curve{}, fmt.Errorf("%s: no column %q (columns: %v)", file, col.name, rows[0])
		}
	}
	var c Curve
	for line, r := range rows[1:] {
		if r[xi] == "" || r[yi] == "" {
			continue
		}
		xv, errX := strconv.ParseFloat(r[xi], 64)
		yv, errY := strconv.ParseFloat(r[yi], 64)
		if err := errors.Join(errX, errY); err != nil {
			return Curve{}, fmt.Errorf("%s line %d: %w", file, line+2, err)
		}
		if isFinite(xv) && isFinite(yv) {
			c.X, c.Y = append(c.X, xv), append(c.Y, yv)
		}
	}
	return c, nil
}

// smooth is the trailing moving average of c's values over window points
// (fewer at the start), which shows a noisy per-iteration loss's trend
// without shifting it ahead of the data.
func smooth(c Curve, window int) Curve {
	out := Curve{X: c.X, Y: make([]float64, len(c.Y))}
	var sum float64
	for i, v := range c.Y {
		sum += v
		if i >= window {
			sum -= c.Y[i-window]
		}
		out.Y[i] = sum / float64(min(i+1, window))
	}
	return out
}

// smoothingWindow is the moving-average window for a curve of n points:
// a tenth of it, so the smoothed curve shows about ten independent steps
// whatever the run length.
func smoothingWindow(n int) int { return max(1, n/10) }

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
