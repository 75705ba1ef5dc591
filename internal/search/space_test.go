package search

import (
	"math"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/bench-ml/bench/internal/config"
)

var (
	lrRange     = config.Search{Path: "optimizers.trunk_optimizer.Adam.lr", Kind: "LOG_BAYESIAN", Low: 1e-6, High: 1e-2}
	marginRange = config.Search{Path: "loss_funcs.metric_loss.ContrastiveLoss.pos_margin", Kind: "BAYESIAN", Low: 0, High: 1}
	mRange      = config.Search{Path: "sampler.MPerClassSampler.m", Kind: "INT_BAYESIAN", Low: 2, High: 8}
)

func TestValue(t *testing.T) {
	for _, c := range []struct {
		d    config.Search
		u    float64
		want float64
	}{
		{lrRange, 0, 1e-6},
		{lrRange, 1, 1e-2},
		{lrRange, 0.5, 1e-4}, // the geometric middle
		{lrRange, 0.25, 1e-5},
		{lrRange, 1.5, 1e-2}, // clamped
		{marginRange, 0.3, 0.3},
		{marginRange, -1, 0},
		// Each of the 7 integers owns a slice of width 1/7.
		{mRange, 0, 2},
		{mRange, 0.999 / 7, 2},
		{mRange, 1.001 / 7, 3},
		{mRange, 0.5, 5},
		{mRange, 6.001 / 7, 8},
		{mRange, 1, 8},
		{config.Search{Kind: "INT_BAYESIAN", Low: 3, High: 3}, 0.7, 3},
	} {
		got := value(c.d, c.u)
		if (c.u <= 0 || c.u >= 1) && got != c.want {
			t.Errorf("value(%s %v, %v) = %v, want exactly %v", c.d.Kind, c.d.Path, c.u, got, c.want)
		}
		if math.Abs(got-c.want) > 1e-12*math.Abs(c.want) {
			t.Errorf("value(%s %v, %v) = %v, want %v", c.d.Kind, c.d.Path, c.u, got, c.want)
		}
	}
}

func TestUnitInvertsValue(t *testing.T) {
	for _, d := range []config.Search{lrRange, marginRange} {
		for _, u := range []float64{0, 0.1, 0.5, 0.77, 1} {
			if got := unit(d, value(d, u)); math.Abs(got-u) > 1e-12 {
				t.Errorf("%s: unit(value(%v)) = %v", d.Kind, u, got)
			}
		}
	}
	// An integer maps to the middle of its slice, and back to itself.
	for v := 2.0; v <= 8; v++ {
		u := unit(mRange, v)
		if want := (v - 2 + 0.5) / 7; math.Abs(u-want) > 1e-15 {
			t.Errorf("unit(m=%v) = %v, want %v", v, u, want)
		}
		if got := value(mRange, u); got != v {
			t.Errorf("value(unit(m=%v)) = %v", v, got)
		}
	}
}

func TestSnap(t *testing.T) {
	s := Space{marginRange, mRange}
	got := s.snap([]float64{0.123, 0.01})
	if got[0] != 0.123 || got[1] != 0.5/7 {
		t.Errorf("snap = %v, want [0.123 %v]: only integer coordinates move", got, 0.5/7)
	}
}

// The overrides must read back, through YAML, as exactly the values, with
// their type: a whole float stays a float, an integer an int.
func TestOverrides(t *testing.T) {
	s := Space{lrRange, marginRange, mRange}
	values := map[string]float64{lrRange.Path: 1.2345678901234567e-05, marginRange.Path: 1, mRange.Path: 4}
	want := map[string]any{lrRange.Path: 1.2345678901234567e-05, marginRange.Path: 1.0, mRange.Path: 4}
	for _, o := range s.Overrides(values, "search trial_0") {
		var got any
		if err := yaml.Unmarshal([]byte(o.Value), &got); err != nil {
			t.Fatalf("%s: %v", o.Value, err)
		}
		if got != want[o.Key] {
			t.Errorf("%s: %q reads back as %#v, want %#v", o.Key, o.Value, got, want[o.Key])
		}
		if !strings.HasPrefix(o.Source, "search trial_0") {
			t.Errorf("%s: source %q does not name the trial", o.Key, o.Source)
		}
	}
}

func TestSpaceCheck(t *testing.T) {
	for _, c := range []struct {
		s    Space
		want string
	}{
		{nil, "no search ranges"},
		{Space{{Path: "transforms.train[0].p", Kind: "BAYESIAN", High: 1}}, "inside a list"},
		{Space{lrRange}, ""},
	} {
		err := c.s.Check()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("check(%v) = %v, want %q", c.s, err, c.want)
		}
	}
}
