package optim

import (
	"fmt"
	"math"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// build builds an optimiser Config through the registry, as a config file would.
func build(t testing.TB, typ string, params map[string]any) Config {
	t.Helper()
	cfg, _, err := Optimizers.Build(config.C(typ, params))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestHandComputed checks a few steps of each rule on one scalar against
// values worked out by hand from PyTorch's update rules.
func TestHandComputed(t *testing.T) {
	identity := func(x float64) float64 { return x } // f = x^2/2
	constant := func(g float64) func(float64) float64 { return func(float64) float64 { return g } }
	cases := []struct {
		typ    string
		params map[string]any
		grad   func(x float64) float64
		x0     float64
		want   []float64
		tol    float64
	}{
		// x <- x - 0.1 x
		{"SGD", map[string]any{"lr": 0.1}, identity, 1, []float64{0.9, 0.81, 0.729}, 1e-15},
		// g' = 1.1 x: x <- 0.89 x
		{"SGD", map[string]any{"lr": 0.1, "weight_decay": 0.1}, identity, 1, []float64{0.89, 0.7921, 0.704969}, 1e-15},
		// b = 1; b = 0.9*1 + 0.9 = 1.8; b = 0.9*1.8 + 0.72 = 2.34
		{"SGD", map[string]any{"lr": 0.1, "momentum": 0.9}, identity, 1, []float64{0.9, 0.72, 0.486}, 1e-15},
		// The first buffer is the undamped gradient: b = 1; b = 0.9 + 0.5*0.9 = 1.35; b = 1.215 + 0.5*0.765
		{"SGD", map[string]any{"lr": 0.1, "momentum": 0.9, "dampening": 0.5}, identity, 1, []float64{0.9, 0.765, 0.60525}, 1e-15},
		// b = 1, g + 0.9 b = 1.9; b = 0.9 + 0.81 = 1.71, g + 0.9 b = 2.349
		{"SGD", map[string]any{"lr": 0.1, "momentum": 0.9, "nesterov": true}, identity, 1, []float64{0.81, 0.5751}, 1e-15},
		// Bias correction makes m^ = g and v^ = g^2 for a constant g: each step is lr*g/(|g|+eps).
		{"Adam", map[string]any{"lr": 0.1}, constant(2), 1, []float64{0.9000000005, 0.800000001, 0.7000000015}, 1e-12},
		{"AdamW", map[string]any{"lr": 0.1, "weight_decay": 0}, constant(-2), 0, []float64{0.0999999995, 0.199999999}, 1e-12},
		// v = 0.01 g^2: the first step is lr/sqrt(1-alpha) = 10 lr.
		{"RMSprop", map[string]any{"lr": 0.01}, constant(1), 0, []float64{-0.01 / (0.1 + 1e-8)}, 1e-15},
		// centered: v - gavg^2 = 0.01 - 0.0001 = 0.0099.
		{"RMSprop", map[string]any{"lr": 0.01, "centered": true, "eps": 0}, constant(1), 0, []float64{-0.1 / math.Sqrt(0.99)}, 1e-15},
		// momentum: the first buffer is g/avg, as without momentum.
		{"RMSprop", map[string]any{"lr": 0.01, "momentum": 0.9, "eps": 0}, constant(1), 0, []float64{-0.1}, 1e-15},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.typ, c.params), func(t *testing.T) {
			p := &Param[float64]{Name: "x", Shape: []int{1}, Value: []float64{c.x0}, Grad: []float64{0}}
			o := New(build(t, c.typ, c.params), []*Param[float64]{p})
			for i, want := range c.want {
				p.Grad[0] = c.grad(p.Value[0])
				o.Step()
				if got := p.Value[0]; math.Abs(got-want) > c.tol {
					t.Errorf("step %d: x = %.17g, want %.17g", i+1, got, want)
				}
			}
		})
	}
}

// The reference rules below are written from the algorithm boxes of the
// torch.optim documentation, in textbook form, one scalar at a time in
// float64, independently of the code under test.
type reference interface{ step(x, g []float64) }

type refSGD struct {
	lr, mu, damp, wd float64
	nesterov         bool
	b                []float64
	t                int
}

func (r *refSGD) step(x, g []float64) {
	r.t++
	if r.b == nil {
		r.b = make([]float64, len(x))
	}
	for i := range x {
		d := g[i] + r.wd*x[i]
		if r.mu != 0 {
			if r.t == 1 {
				r.b[i] = d
			} else {
				r.b[i] = r.mu*r.b[i] + (1-r.damp)*d
			}
			if r.nesterov {
				d += r.mu * r.b[i]
			} else {
				d = r.b[i]
			}
		}
		x[i] -= r.lr * d
	}
}

type refAdam struct {
	lr, b1, b2, eps, wd float64
	amsgrad, decoupled  bool
	m, v, vMax          []float64
	t                   int
}

func (r *refAdam) step(x, g []float64) {
	r.t++
	if r.m == nil {
		r.m, r.v, r.vMax = make([]float64, len(x)), make([]float64, len(x)), make([]float64, len(x))
	}
	for i := range x {
		d := g[i]
		if r.decoupled {
			x[i] -= r.lr * r.wd * x[i]
		} else {
			d += r.wd * x[i]
		}
		r.m[i] = r.b1*r.m[i] + (1-r.b1)*d
		r.v[i] = r.b2*r.v[i] + (1-r.b2)*d*d
		mHat := r.m[i] / (1 - math.Pow(r.b1, float64(r.t)))
		v := r.v[i]
		if r.amsgrad {
			// The docs' box takes the max of the bias-corrected v^; PyTorch's
			// code (which is what runs) takes it of v and then corrects.
			r.vMax[i] = math.Max(r.vMax[i], r.v[i])
			v = r.vMax[i]
		}
		vHat := v / (1 - math.Pow(r.b2, float64(r.t)))
		x[i] -= r.lr * mHat / (math.Sqrt(vHat) + r.eps)
	}
}

type refRMSprop struct {
	lr, alpha, eps, wd, mu float64
	centered               bool
	v, gAvg, b             []float64
}

func (r *refRMSprop) step(x, g []float64) {
	if r.v == nil {
		r.v, r.gAvg, r.b = make([]float64, len(x)), make([]float64, len(x)), make([]float64, len(x))
	}
	for i := range x {
		d := g[i] + r.wd*x[i]
		r.v[i] = r.alpha*r.v[i] + (1-r.alpha)*d*d
		v := r.v[i]
		if r.centered {
			r.gAvg[i] = r.alpha*r.gAvg[i] + (1-r.alpha)*d
			v -= r.gAvg[i] * r.gAvg[i]
		}
		if r.mu > 0 {
			r.b[i] = r.mu*r.b[i] + d/(math.Sqrt(v)+r.eps)
			x[i] -= r.lr * r.b[i]
		} else {
			x[i] -= r.lr * d / (math.Sqrt(v) + r.eps)
		}
	}
}

type refCase struct {
	typ    string
	params map[string]any
	ref    func() reference
}

var refCases = []refCase{
	{"SGD", map[string]any{"lr": 0.1}, func() reference { return &refSGD{lr: 0.1} }},
	{"SGD", map[string]any{"lr": 0.1, "momentum": 0.9}, func() reference { return &refSGD{lr: 0.1, mu: 0.9} }},
	{"SGD", map[string]any{"lr": 0.1, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.01},
		func() reference { return &refSGD{lr: 0.1, mu: 0.9, damp: 0.5, wd: 0.01} }},
	{"SGD", map[string]any{"lr": 0.05, "momentum": 0.9, "nesterov": true, "weight_decay": 0.1},
		func() reference { return &refSGD{lr: 0.05, mu: 0.9, wd: 0.1, nesterov: true} }},
	{"Adam", map[string]any{"lr": 0.01}, func() reference { return &refAdam{lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8} }},
	{"Adam", map[string]any{"lr": 0.01, "betas": []any{0.8, 0.99}, "eps": 1e-6, "weight_decay": 0.1},
		func() reference { return &refAdam{lr: 0.01, b1: 0.8, b2: 0.99, eps: 1e-6, wd: 0.1} }},
	{"Adam", map[string]any{"lr": 0.01, "amsgrad": true},
		func() reference { return &refAdam{lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, amsgrad: true} }},
	{"AdamW", map[string]any{"lr": 0.01},
		func() reference { return &refAdam{lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, decoupled: true} }},
	{"AdamW", map[string]any{"lr": 0.01, "weight_decay": 0.5, "amsgrad": true},
		func() reference {
			return &refAdam{lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.5, decoupled: true, amsgrad: true}
		}},
	{"RMSprop", map[string]any{"lr": 0.01}, func() reference { return &refRMSprop{lr: 0.01, alpha: 0.99, eps: 1e-8} }},
	{"RMSprop", map[string]any{"lr": 0.01, "momentum": 0.9, "weight_decay": 0.1},
		func() reference { return &refRMSprop{lr: 0.01, alpha: 0.99, eps: 1e-8, mu: 0.9, wd: 0.1} }},
	{"RMSprop", map[string]any{"lr": 0.01, "centered": true, "momentum": 0.5, "alpha": 0.9},
		func() reference { return &refRMSprop{lr: 0.01, alpha: 0.9, eps: 1e-8, mu: 0.5, centered: true} }},
}

// noisyGrad is the gradient of a quadratic with a time-varying perturbation,
// so that steps differ in size and sign.
func noisyGrad(x float64, i, t int) float64 {
	a := []float64{1, 3, 0.5, 2}[i%4]
	c := []float64{0.5, -1, 2, 0}[i%4]
	return a*(x-c) + 0.3*math.Sin(float64(3*t+i))
}

// TestAgainstReference runs each rule for 20 steps on two parameters in
// float64 and float32 and compares every value with the reference.
func TestAgainstReference(t *testing.T) {
	for _, c := range refCases {
		t.Run(fmt.Sprint(c.typ, c.params, "/float64"), func(t *testing.T) { compareWithReference[float64](t, c, 1e-12) })
		t.Run(fmt.Sprint(c.typ, c.params, "/float32"), func(t *testing.T) { compareWithReference[float32](t, c, 2e-5) })
	}
}

func compareWithReference[T Float](t *testing.T, c refCase, tol float64) {
	x0 := []float64{1, -0.5, 0.25, 2}
	w := &Param[T]{Name: "w", Shape: []int{3}, Value: make([]T, 3), Grad: make([]T, 3)}
	b := &Param[T]{Name: "b", Shape: []int{1}, Value: make([]T, 1), Grad: make([]T, 1)}
	for i := range x0 {
		*at(w, b, i) = T(x0[i])
	}
	o := New(build(t, c.typ, c.params), []*Param[T]{w, b})
	ref, x, g := c.ref(), append([]float64(nil), x0...), make([]float64, len(x0))
	for step := 1; step <= 20; step++ {
		for i := range x {
			g[i] = noisyGrad(x[i], i, step)
			if i < 3 {
				w.Grad[i] = T(noisyGrad(float64(w.Value[i]), i, step))
			} else {
				b.Grad[0] = T(noisyGrad(float64(b.Value[0]), i, step))
			}
		}
		ref.step(x, g)
		o.Step()
		for i := range x {
			if got := float64(*at(w, b, i)); math.Abs(got-x[i]) > tol*max(1, math.Abs(x[i])) {
				t.Fatalf("step %d, element %d: got %.17g, reference %.17g", step, i, got, x[i])
			}
		}
	}
}

func at[T Float](w, b *Param[T], i int) *T {
	if i < len(w.Value) {
		return &w.Value[i]
	}
	return &b.Value[i-len(w.Value)]
}

// TestWeightDecayAdamVsAdamW shows the two weight decays on a zero gradient:
// Adam's L2 term becomes the gradient, normalised to a step of about lr;
// AdamW only shrinks the weight by lr*weight_decay.
func TestWeightDecayAdamVsAdamW(t *testing.T) {
	cases := []struct {
		typ  string
		want []float64
		tol  float64
	}{
		{"Adam", []float64{2 - 0.1*0.2/(0.2+1e-8)}, 1e-15},
		{"AdamW", []float64{2 * 0.99, 2 * 0.99 * 0.99}, 1e-15},
	}
	for _, c := range cases {
		p := &Param[float64]{Name: "x", Value: []float64{2}, Grad: []float64{0}}
		o := New(build(t, c.typ, map[string]any{"lr": 0.1, "weight_decay": 0.1}), []*Param[float64]{p})
		for i, want := range c.want {
			o.Step()
			if math.Abs(p.Value[0]-want) > c.tol {
				t.Errorf("%s step %d: x = %.17g, want %.17g", c.typ, i+1, p.Value[0], want)
			}
		}
	}
}

// TestConvergesOnQuadratic minimises sum a_i (x_i - c_i)^2 / 2 with every
// optimiser in both float types.
func TestConvergesOnQuadratic(t *testing.T) {
	cases := []struct {
		typ    string
		params map[string]any
	}{
		{"SGD", map[string]any{"lr": 0.1}},
		{"SGD", map[string]any{"lr": 0.05, "momentum": 0.9, "nesterov": true}},
		{"Adam", map[string]any{"lr": 0.01}},
		{"Adam", map[string]any{"lr": 0.01, "amsgrad": true}},
		{"AdamW", map[string]any{"lr": 0.01, "weight_decay": 0}},
		{"RMSprop", map[string]any{"lr": 0.001}},
		{"RMSprop", map[string]any{"lr": 0.001, "momentum": 0.9, "centered": true}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.typ, c.params, "/float64"), func(t *testing.T) { converge[float64](t, build(t, c.typ, c.params)) })
		t.Run(fmt.Sprint(c.typ, c.params, "/float32"), func(t *testing.T) { converge[float32](t, build(t, c.typ, c.params)) })
	}
}

func converge[T Float](t *testing.T, cfg Config) {
	a, c := []T{1, 3, 0.5}, []T{0.5, -1, 2}
	p := &Param[T]{Name: "x", Value: make([]T, 3), Grad: make([]T, 3)}
	o := New(cfg, []*Param[T]{p})
	for range 5000 {
		for i, x := range p.Value {
			p.Grad[i] = a[i] * (x - c[i])
		}
		o.Step()
	}
	for i, x := range p.Value {
		if math.Abs(float64(x-c[i])) > 1e-2 {
			t.Errorf("x[%d] = %v, want %v", i, x, c[i])
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	cases := []struct {
		maxNorm  float64
		want     []float64 // gradients after clipping
		wantNorm float64
	}{
		// norm 13: scaled by 6.5/(13 + 1e-6)
		{6.5, []float64{3 * 6.5 / (13 + 1e-6), 4 * 6.5 / (13 + 1e-6), 12 * 6.5 / (13 + 1e-6)}, 13},
		// at the limit the 1e-6 still scales, as in PyTorch
		{13, []float64{3 * 13 / (13 + 1e-6), 4 * 13 / (13 + 1e-6), 12 * 13 / (13 + 1e-6)}, 13},
		{100, []float64{3, 4, 12}, 13},
	}
	for _, c := range cases {
		a := &Param[float64]{Name: "a", Value: make([]float64, 2), Grad: []float64{3, 4}}
		b := &Param[float64]{Name: "b", Value: make([]float64, 1), Grad: []float64{12}}
		norm := ClipGradNorm([]*Param[float64]{a, b}, c.maxNorm)
		got := append(append([]float64(nil), a.Grad...), b.Grad...)
		if norm != c.wantNorm {
			t.Errorf("max %v: norm = %v, want %v", c.maxNorm, norm, c.wantNorm)
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-15*c.want[i] {
				t.Errorf("max %v: grad %d = %.17g, want %.17g", c.maxNorm, i, got[i], c.want[i])
			}
		}
	}
}

// TestStepClipsBeforeUpdating: SGD with lr 1 moves by exactly the clipped
// gradient.
func TestStepClipsBeforeUpdating(t *testing.T) {
	p := &Param[float32]{Name: "x", Value: []float32{0, 0}, Grad: []float32{3, 4}}
	o := New(build(t, "SGD", map[string]any{"lr": 1, "clip_grad_norm": 1}), []*Param[float32]{p})
	o.Step()
	want := []float32{-0.6, -0.8}
	for i := range want {
		if math.Abs(float64(p.Value[i]-want[i])) > 1e-6 {
			t.Errorf("x[%d] = %v, want %v", i, p.Value[i], want[i])
		}
	}
}

func TestZeroGrad(t *testing.T) {
	p := &Param[float32]{Name: "x", Value: []float32{1, 2}, Grad: []float32{3, 4}}
	New(build(t, "SGD", nil), []*Param[float32]{p}).ZeroGrad()
	if p.Grad[0] != 0 || p.Grad[1] != 0 {
		t.Errorf("grad = %v", p.Grad)
	}
}

func TestNewPanicsOnDuplicateNames(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("want a panic")
		}
	}()
	p := &Param[float32]{Name: "x", Value: []float32{1}, Grad: []float32{0}}
	New(build(t, "SGD", nil), []*Param[float32]{p, p})
}

// BenchmarkAdamStep measures one Adam step over 1M float32 parameters.
func BenchmarkAdamStep(b *testing.B) {
	const n = 1 << 20
	p := &Param[float32]{Name: "w", Value: make([]float32, n), Grad: make([]float32, n)}
	for i := range p.Grad {
		p.Value[i] = float32(i%97) / 97
		p.Grad[i] = float32(i%89)/89 - 0.5
	}
	o := New(build(b, "Adam", map[string]any{"lr": 1e-3}), []*Param[float32]{p})
	b.ResetTimer()
	for range b.N {
		o.Step()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/param")
}
