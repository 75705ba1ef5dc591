package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// A direct float64 implementation of PyTorch's layers, to check the graphs'
// forward passes against. Tensors are (batch, channels, height, width).
type ref struct {
	b, c, h, w int
	v          []float64
}

func (r ref) at(n, c, i, j int) float64 { return r.v[((n*r.c+c)*r.h+i)*r.w+j] }

func newRef(b, c, h, w int) ref { return ref{b, c, h, w, make([]float64, b*c*h*w)} }

// refParams reads a model's parameters and running statistics by name.
type refParams map[string][]float64

func paramsOf(m *Model[float64]) refParams {
	p := refParams{}
	for _, s := range m.state {
		p[s.name] = s.data
	}
	return p
}

// conv is torch.nn.functional.conv2d with padding k/2; bias may be nil.
func (p refParams) conv(x ref, name string, out, k, stride int, bias bool) ref {
	w := p[name+".weight"]
	pad := k / 2
	y := newRef(x.b, out, (x.h+2*pad-k)/stride+1, (x.w+2*pad-k)/stride+1)
	for n := 0; n < x.b; n++ {
		for o := 0; o < out; o++ {
			for i := 0; i < y.h; i++ {
				for j := 0; j < y.w; j++ {
					var s float64
					if bias {
						s = p[name+".bias"][o]
					}
					for c := 0; c < x.c; c++ {
						for di := 0; di < k; di++ {
							for dj := 0; dj < k; dj++ {
								ii, jj := i*stride+di-pad, j*stride+dj-pad
								if ii >= 0 && ii < x.h && jj >= 0 && jj < x.w {
									s += w[((o*x.c+c)*k+di)*k+dj] * x.at(n, c, ii, jj)
								}
							}
						}
					}
					y.v[((n*out+o)*y.h+i)*y.w+j] = s
				}
			}
		}
	}
	return y
}

// batchNorm uses the batch's statistics (biased variance) when train, else
// the running ones.
func (p refParams) batchNorm(x ref, name string, train bool) ref {
	y := newRef(x.b, x.c, x.h, x.w)
	n := float64(x.b * x.h * x.w)
	for c := 0; c < x.c; c++ {
		mean, variance := p[name+".running_mean"][c], p[name+".running_var"][c]
		if train {
			mean, variance = 0, 0
			for i := range x.v {
				if (i/(x.h*x.w))%x.c == c {
					mean += x.v[i] / n
				}
			}
			for i := range x.v {
				if (i/(x.h*x.w))%x.c == c {
					variance += (x.v[i] - mean) * (x.v[i] - mean) / n
				}
			}
		}
		for i := range x.v {
			if (i/(x.h*x.w))%x.c == c {
				y.v[i] = (x.v[i]-mean)/math.Sqrt(variance+1e-5)*p[name+".weight"][c] + p[name+".bias"][c]
			}
		}
	}
	return y
}

func refRelu(x ref) ref {
	y := newRef(x.b, x.c, x.h, x.w)
	for i, v := range x.v {
		y.v[i] = math.Max(v, 0)
	}
	return y
}

func add(x, z ref) ref {
	y := newRef(x.b, x.c, x.h, x.w)
	for i := range x.v {
		y.v[i] = x.v[i] + z.v[i]
	}
	return y
}

// pool2 is max_pool2d or avg_pool2d with a 2x2 window and stride 2.
func pool2(x ref, kind string) ref {
	y := newRef(x.b, x.c, x.h/2, x.w/2)
	for n := 0; n < x.b; n++ {
		for c := 0; c < x.c; c++ {
			for i := 0; i < y.h; i++ {
				for j := 0; j < y.w; j++ {
					a, b, d, e := x.at(n, c, 2*i, 2*j), x.at(n, c, 2*i, 2*j+1), x.at(n, c, 2*i+1, 2*j), x.at(n, c, 2*i+1, 2*j+1)
					v := (a + b + d + e) / 4
					if kind == "max" {
						v = math.Max(math.Max(a, b), math.Max(d, e))
					}
					y.v[((n*y.c+c)*y.h+i)*y.w+j] = v
				}
			}
		}
	}
	return y
}

// refMeanPool is adaptive_avg_pool2d to 1x1, flattened to (batch, channels).
func refMeanPool(x ref) ref {
	y := newRef(x.b, x.c, 1, 1)
	for i, v := range x.v {
		y.v[i/(x.h*x.w)] += v / float64(x.h*x.w)
	}
	return y
}

// mlp applies PML's MLP to x (batch, features) stored as (batch, features,
// 1, 1): a ReLU before every Linear but the last, the Sequential's indices
// counting the ReLUs (ReLU net.0, Linear net.1, Linear net.2 for two layers).
func (p refParams) mlp(x ref, prefix string, sizes []int) ref {
	index := 0
	for l, out := range sizes {
		if l < len(sizes)-1 {
			x = refRelu(x)
			index++
		}
		name := fmt.Sprintf("%s.net.%d", prefix, index)
		index++
		w, bias := p[name+".weight"], p[name+".bias"]
		y := newRef(x.b, out, 1, 1)
		for n := 0; n < x.b; n++ {
			for o := 0; o < out; o++ {
				s := bias[o]
				for i := 0; i < x.c; i++ {
					s += w[o*x.c+i] * x.v[n*x.c+i]
				}
				y.v[n*out+o] = s
			}
		}
		x = y
	}
	return x
}

func (p refParams) convNet(x ref, c *ConvNet, train bool) ref {
	for i, ch := range c.Channels {
		name := fmt.Sprintf("trunk.blocks.%d", i)
		x = p.conv(x, name+".conv", ch, c.KernelSize, 1, !c.BatchNorm)
		if c.BatchNorm {
			x = p.batchNorm(x, name+".bn", train)
		}
		x = pool2(refRelu(x), c.Pool)
	}
	return refMeanPool(x)
}

func (p refParams) resNet(x ref, r *ResNet, train bool) ref {
	x = refRelu(p.batchNorm(p.conv(x, "trunk.conv1", r.Channels[0], 3, 1, false), "trunk.bn1", train))
	for s, ch := range r.Channels {
		for j := 0; j < r.Blocks; j++ {
			name := fmt.Sprintf("trunk.layer%d.%d", s+1, j)
			stride := 1
			if s > 0 && j == 0 {
				stride = 2
			}
			out := refRelu(p.batchNorm(p.conv(x, name+".conv1", ch, 3, stride, false), name+".bn1", train))
			out = p.batchNorm(p.conv(out, name+".conv2", ch, 3, 1, false), name+".bn2", train)
			shortcut := x
			if stride != 1 || x.c != ch {
				shortcut = p.batchNorm(p.conv(x, name+".downsample.0", ch, 1, stride, false), name+".downsample.1", train)
			}
			x = refRelu(add(out, shortcut))
		}
	}
	return refMeanPool(x)
}

// TestForwardMatchesReference compares the trunk, embedding and logits of
// the training graph (batch statistics) and the eval graph (running
// statistics) with the direct implementation.
func TestForwardMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		trunk  string
		params map[string]any
	}{
		{"ConvNet", map[string]any{"channels": []any{4, 6}}},
		{"ConvNet", map[string]any{"channels": []any{4, 6}, "pool": "avg"}},
		{"ConvNet", map[string]any{"channels": []any{3, 5, 2}, "batchnorm": false, "kernel_size": 5}},
		{"ResNet", map[string]any{"channels": []any{3, 4}, "blocks": 2}},
	} {
		t.Run(fmt.Sprint(tc.trunk, tc.params), func(t *testing.T) {
			cfg := smallConfig(t, nil)
			cfg.Trunk = component(t, Trunks, tc.trunk, tc.params)
			cfg.InputShape = []int{2, 9, 10} // odd sizes exercise floor pooling
			m := newTestModel[float64](t, cfg)
			rng := rand.New(rand.NewSource(4))
			reference := func(x []float64, train bool) (trunk, emb, logits ref) {
				p := paramsOf(m)
				in := ref{cfg.BatchSize, 2, 9, 10, x}
				if c, ok := cfg.Trunk.(*ConvNet); ok {
					trunk = p.convNet(in, c, train)
				} else {
					trunk = p.resNet(in, cfg.Trunk.(*ResNet), train)
				}
				emb = p.mlp(trunk, "embedder", cfg.Embedder.(*MLP).LayerSizes)
				return trunk, emb, p.mlp(emb, "classifier", []int{cfg.NumClasses})
			}
			for step := range 3 {
				x := randomInput[float64](rng, cfg.BatchSize*m.InputSize())
				trunk, emb, logits := reference(x, true) // before the step updates the running statistics
				err := m.TrainStep(x, func(out Outputs[float64]) (Grads[float64], error) {
					assertClose(t, fmt.Sprintf("step %d: trunk", step), out.Trunk, trunk.v, 1e-12)
					assertClose(t, fmt.Sprintf("step %d: embeddings", step), out.Emb, emb.v, 1e-12)
					assertClose(t, fmt.Sprintf("step %d: logits", step), out.Logits, logits.v, 1e-12)
					return Grads[float64]{Emb: out.Emb}, nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			x := randomInput[float64](rng, 6*m.InputSize()) // more than one eval batch
			trunk, emb, _ := reference(x[:4*m.InputSize()], false)
			gotTrunk, err := m.EmbedTrunk(x, 6)
			if err != nil {
				t.Fatal(err)
			}
			gotEmb, err := m.Embed(x, 6)
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, "eval trunk", gotTrunk[:len(trunk.v)], trunk.v, 1e-12)
			assertClose(t, "eval embeddings", gotEmb[:len(emb.v)], emb.v, 1e-12)
		})
	}
}

// assertClose reports the first difference beyond tol (relative, plus tol
// absolute). It uses Errorf, not Fatalf: loss callbacks run on Gorgonia's
// goroutine, where FailNow would hang the step.
func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", what, len(got), len(want))
		return
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.15g, want %.15g", what, i, got[i], want[i])
			return
		}
	}
}
