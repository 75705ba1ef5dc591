package config

import (
	"strings"
	"testing"
)

type margin struct{ margin float64 }

func testRegistry() *Registry[margin] {
	r := NewRegistry[margin]("loss")
	r.Register("TripletMarginLoss", func(p *Params) margin {
		return margin{p.Float("margin", 0.05, Min(0))}
	})
	return r
}

func TestRegistryErrorsNameSourceKeyAndAllowed(t *testing.T) {
	r := testRegistry()
	cases := []struct {
		name string
		c    Component
		want []string
	}{
		{"unknown type", Component{Type: "TripletMarginLos", Where: "loss_funcs.metric_loss", Source: "a.yaml"},
			[]string{"a.yaml", "loss_funcs.metric_loss.TripletMarginLos", `unknown loss`, `did you mean "TripletMarginLoss"`}},
		{"unknown param", Component{Type: "TripletMarginLoss", Params: map[string]any{"margn": 0.1}, Where: "l", Source: "--loss_funcs"},
			[]string{"--loss_funcs", "l.TripletMarginLoss.margn", "unknown parameter", "allowed: margin", `did you mean "margin"`}},
		{"wrong type", Component{Type: "TripletMarginLoss", Params: map[string]any{"margin": "big"}, Where: "l", Source: "b.yaml"},
			[]string{"b.yaml", "l.TripletMarginLoss.margin", "want a number", `"big"`}},
		{"out of range", Component{Type: "TripletMarginLoss", Params: map[string]any{"margin": -1}, Where: "l", Source: "b.yaml"},
			[]string{"l.TripletMarginLoss.margin", "-1 is out of range: must be >= 0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := r.Build(c.c)
			if err == nil {
				t.Fatal("want an error")
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("want one line, got %q", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestRegistryResolvesDefaults(t *testing.T) {
	v, resolved, err := testRegistry().Build(Component{Type: "TripletMarginLoss"})
	if err != nil {
		t.Fatal(err)
	}
	if v.margin != 0.05 {
		t.Errorf("margin = %v, want the default 0.05", v.margin)
	}
	if got := resolved["TripletMarginLoss"].(map[string]any)["margin"]; got != 0.05 {
		t.Errorf("resolved margin = %v", got)
	}
}

func TestNestedMapReportsUnknownKeys(t *testing.T) {
	p := NewParamsFunc(map[string]any{"models": map[string]any{"trunk": 1, "embeder": 2}}, "", func(path string) string {
		return "m.yaml"
	})
	m := p.Map("models")
	m.Int("trunk", 0)
	m.Int("embedder", 0)
	err := p.Err()
	if err == nil || !strings.Contains(err.Error(), "models.embeder") || !strings.Contains(err.Error(), `did you mean "embedder"`) {
		t.Fatalf("got %v", err)
	}
}

func TestNullMeansDefault(t *testing.T) {
	p := NewParams(map[string]any{"m": nil}, "", "x")
	if got := p.Int("m", 4); got != 4 {
		t.Fatalf("got %d", got)
	}
}
