package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/arrayio"
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/golden"
)

// The zoo's architectures against PyTorch: testdata/zoo/make_expected.py
// fills torchvision's (pretrainedmodels' for bninception) state dict by
// zooFill, runs the model in float64 on zooInput in eval and train mode,
// and saves the outputs and the first convolution's gradient; the same
// weights and input must give the same numbers here.

// zooFill is make_expected.py's fill: sin(0.37 i + 0.001 i^2 + phase(name)),
// scaled by the kind of tensor.
func zooFill(name string, shape []int, data []float64) {
	phase := 0
	for _, c := range []byte(name) {
		phase += int(c)
	}
	p := float64(phase%97) * 0.1
	n := product(shape)
	for i := range data {
		f := float64(i)
		v := math.Sin(0.37*f + 0.001*(f*f) + p)
		switch {
		case strings.HasSuffix(name, "running_var"):
			v = 0.75 + 0.25*v
		case strings.HasSuffix(name, "running_mean"):
			v *= 0.1
		case len(shape) == 1 && strings.HasSuffix(name, "weight"):
			v = 1 + 0.1*v
		case len(shape) == 1:
			v *= 0.1
		default:
			v *= 2 / math.Sqrt(float64(n/shape[0]))
		}
		data[i] = v
	}
}

func zooInput(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = math.Sin(0.013*float64(i) + 0.5)
	}
	return x
}

var zooCases = []struct {
	name      string
	params    map[string]any
	size      int
	firstConv string
}{
	{"resnet18", nil, 64, "conv1"},
	{"resnet34", nil, 64, "conv1"},
	{"resnet50", nil, 64, "conv1"},
	{"resnet101", nil, 64, "conv1"},
	{"bninception", nil, 96, "conv1_7x7_s2"},
	// make_expected.py runs googlenet without transform_input and
	// inception_v3 with it: both ways are checked.
	{"googlenet", map[string]any{"transform_input": false}, 64, "conv1.conv"},
	{"inception_v3", nil, 107, "Conv2d_1a_3x3.conv"},
}

func TestZooMatchesPyTorch(t *testing.T) {
	dir := golden.Path(t, "testdata", "zoo")
	for _, c := range zooCases {
		t.Run(c.name, func(t *testing.T) {
			if testing.Short() && c.name != "resnet18" {
				t.Skip("-short: resnet18 only")
			}
			const batch = 2
			m := newTestModel[float64](t, Config{
				Trunk:      component(t, Trunks, c.name, c.params),
				InputShape: []int{3, c.size, c.size},
				BatchSize:  batch,
			})
			checkKeys(t, m, filepath.Join(dir, c.name+"_keys.json"))
			for _, s := range m.state {
				zooFill(strings.TrimPrefix(s.name, "trunk."), s.shape, s.data)
			}
			x := zooInput(batch * m.InputSize())

			eval, err := m.EmbedTrunk(x, batch)
			if err != nil {
				t.Fatal(err)
			}
			compare(t, "eval output", eval, readNPY(t, dir, c.name+"_eval.npy"))

			// float32, as bench trains and embeds, within the same tolerance.
			m32 := newTestModel[float32](t, Config{Trunk: m.trunk, InputShape: []int{3, c.size, c.size}, BatchSize: batch})
			for i, s := range m.state {
				for j, v := range s.data {
					m32.state[i].data[j] = float32(v)
				}
			}
			x32 := make([]float32, len(x))
			for i, v := range x {
				x32[i] = float32(v)
			}
			eval32, err := m32.EmbedTrunk(x32, batch)
			if err != nil {
				t.Fatal(err)
			}
			f64 := make([]float64, len(eval32))
			for i, v := range eval32 {
				f64[i] = float64(v)
			}
			compare(t, "float32 eval output", f64, readNPY(t, dir, c.name+"_eval.npy"))

			var train []float64
			err = m.TrainStep(x, func(out Outputs[float64]) (Grads[float64], error) {
				train = slices.Clone(out.Trunk)
				r := make([]float64, len(out.Emb))
				for i := range r {
					r[i] = math.Cos(0.1 * float64(i))
				}
				return Grads[float64]{Emb: r}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			compare(t, "train output", train, readNPY(t, dir, c.name+"_train.npy"))
			compare(t, "first conv gradient", m.byName["trunk."+c.firstConv+".weight"].Grad, readNPY(t, dir, c.name+"_grad.npy"))
		})
	}
}

// checkKeys: the trunk's tensors are the PyTorch model's, with the same
// shapes, apart from the head and BatchNorm's batch counters.
func checkKeys(t *testing.T, m *Model[float64], file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var keys [][2]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	z := m.trunk.(*Zoo)
	want := map[string]string{}
	for _, k := range keys {
		var name string
		var shape []int
		if err := json.Unmarshal(k[0], &name); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(k[1], &shape); err != nil {
			t.Fatal(err)
		}
		if !z.ignored(name) {
			want[name] = fmt.Sprint(shape)
		}
	}
	got := map[string]string{}
	for _, s := range m.state {
		got[strings.TrimPrefix(s.name, "trunk.")] = fmt.Sprint(s.shape)
	}
	for name, shape := range want {
		if got[name] != shape {
			t.Errorf("%s: bench has %q; PyTorch %s", name, got[name], shape)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: not in PyTorch's state dict", name)
		}
	}
}

func readNPY(t *testing.T, dir, file string) []float64 {
	t.Helper()
	data, _, _, err := arrayio.ReadMatrix(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// compare checks got against PyTorch's want within 1e-4 relative to each
// value, relative to 1% of the largest value for values near zero.
func compare(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values; want %d", what, len(got), len(want))
	}
	var scale float64
	for _, w := range want {
		scale = max(scale, math.Abs(w))
	}
	worst, at := 0.0, 0
	for i := range got {
		e := math.Abs(got[i]-want[i]) / max(math.Abs(want[i]), 1e-2*scale)
		if !(e <= worst) {
			worst, at = e, i
		}
	}
	if !(worst <= 1e-4) {
		t.Errorf("%s: relative error %.3g at %d (got %g, want %g)", what, worst, at, got[at], want[at])
	} else {
		t.Logf("%s: largest relative error %.3g", what, worst)
	}
}

// TestZooPretrainedKeys: a checkpoint with torchvision's names loads, its
// head, batch counters and 1 x C BatchNorm vectors (pretrainedmodels'
// BN-Inception) included; a wrong one is one error listing every missing,
// mis-shaped and unexpected key.
func TestZooPretrainedKeys(t *testing.T) {
	dir := t.TempDir()
	build := func(pretrained string) (*Model[float32], error) {
		return newModel[float32](Config{
			Trunk:      component(t, Trunks, "resnet18", map[string]any{"pretrained": pretrained}),
			InputShape: []int{3, 32, 32},
			BatchSize:  2,
		})
	}
	src := newTestModel[float32](t, Config{Trunk: component(t, Trunks, "resnet18", nil), InputShape: []int{3, 32, 32}, BatchSize: 2, Seed: 5})
	views := func(edit func(name string, s stateTensor[float32]) (string, stateTensor[float32])) map[string]view {
		v := map[string]view{
			"fc.weight":               viewOf(stateTensor[float32]{shape: []int{1000, 512}, data: make([]float32, 512000)}),
			"bn1.num_batches_tracked": viewOf(stateTensor[float32]{shape: []int{}, data: []float32{3}}),
		}
		for _, s := range src.state {
			name := strings.TrimPrefix(s.name, "trunk.")
			if name, s = edit(name, s); name != "" {
				v[name] = viewOf(s)
			}
		}
		return v
	}
	good := filepath.Join(dir, "good.safetensors")
	writeSafetensors(t, good, views(func(name string, s stateTensor[float32]) (string, stateTensor[float32]) {
		if name == "bn1.weight" {
			s.shape = []int{1, s.shape[0]}
		}
		return name, s
	}))
	m, err := build(good)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range m.byName {
		if !slices.Equal(p.Value, src.byName[name].Value) {
			t.Errorf("%s not loaded", name)
		}
	}

	bad := filepath.Join(dir, "bad.safetensors")
	writeSafetensors(t, bad, views(func(name string, s stateTensor[float32]) (string, stateTensor[float32]) {
		switch name {
		case "layer1.0.conv1.weight":
			return "", s
		case "layer2.0.bn1.bias":
			s.shape, s.data = []int{3}, s.data[:3]
		case "layer3.0.conv2.weight":
			return "layer3.0.conv2.weights", s
		}
		return name, s
	}))
	_, err = build(bad)
	for _, want := range []string{"models.x.resnet18.pretrained", "2 missing: layer1.0.conv1.weight, layer3.0.conv2.weight",
		"1 mis-shaped: layer2.0.bn1.bias [3] (want [128])", "1 unexpected: layer3.0.conv2.weights"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v; want it to say %q", err, want)
		}
	}

	t.Setenv("TORCH_HOME", dir)
	_, err = build("imagenet")
	for _, want := range []string{"resnet18-f37072fd.pth", "https://download.pytorch.org/models/resnet18-f37072fd.pth",
		filepath.Join(dir, "hub", "checkpoints"), "bench models download resnet18"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v; want it to say %q", err, want)
		}
	}
}

// TestZooPreprocessing: the normalisation each pretrained model expects,
// as the transforms that follow the configured ones.
func TestZooPreprocessing(t *testing.T) {
	for _, tc := range []struct {
		trunk  string
		params map[string]any
		want   string
	}{
		{"resnet50", nil, "[Normalize map[mean:[0.485 0.456 0.406] std:[0.229 0.224 0.225]]]"},
		{"bninception", nil, "[ConvertToBGR map[] Multiplier map[multiple:255] Normalize map[mean:[104 117 128] std:[1 1 1]]]"},
		{"bninception", map[string]any{"normalize": false}, "[]"},
		// transform_input (torchvision's default for the pretrained
		// model) maps ImageNet-normalised input inside the network.
		{"inception_v3", nil, "[Normalize map[mean:[0.485 0.456 0.406] std:[0.229 0.224 0.225]]]"},
		{"googlenet", map[string]any{"transform_input": false}, "[Normalize map[mean:[0.5 0.5 0.5] std:[0.5 0.5 0.5]]]"},
	} {
		var got []string
		for _, c := range component(t, Trunks, tc.trunk, tc.params).(*Zoo).Preprocessing() {
			got = append(got, c.Type, fmt.Sprint(c.Params))
		}
		if s := fmt.Sprint(got); s != tc.want {
			t.Errorf("%s %v: %s; want %s", tc.trunk, tc.params, s, tc.want)
		}
	}
}

// TestZooPretrainedBooleans: powerful_benchmarker's configs write
// torchvision's `pretrained: True`; true is the ImageNet checkpoint, false
// none, and the resolved config says so.
func TestZooPretrainedBooleans(t *testing.T) {
	for _, tc := range []struct {
		value any
		want  string
	}{{true, "imagenet"}, {false, ""}, {"imagenet", "imagenet"}} {
		c, resolved, err := Trunks.Build(config.Component{Type: "inception_v3", Params: map[string]any{"pretrained": tc.value}, Where: "models.trunk"})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.(*Zoo).Pretrained; got != tc.want {
			t.Errorf("pretrained: %v gives %q; want %q", tc.value, got, tc.want)
		}
		if got := resolved["inception_v3"].(map[string]any)["pretrained"]; got != tc.want {
			t.Errorf("pretrained: %v resolves to %v; want %q", tc.value, got, tc.want)
		}
	}
}

// TestZooStepRepeats: two training steps on the same batch give the same
// gradients (the parameters do not change without an optimiser, and batch
// statistics do not depend on the running ones). A gradient buffer that an
// op adds to without clearing (the pooling layers' once did) gives the
// second step the sum of both.
func TestZooStepRepeats(t *testing.T) {
	for _, name := range []string{"resnet18", "bninception"} {
		t.Run(name, func(t *testing.T) {
			m := newTestModel[float64](t, Config{Trunk: component(t, Trunks, name, nil), InputShape: []int{3, 64, 64}, BatchSize: 2, Seed: 1})
			x := randomInput[float64](rand.New(rand.NewSource(1)), 2*m.InputSize())
			loss := func(out Outputs[float64]) (Grads[float64], error) { return Grads[float64]{Emb: out.Emb}, nil }
			var first [][]float64
			for step := range 2 {
				if err := m.TrainStep(x, loss); err != nil {
					t.Fatal(err)
				}
				for i, p := range m.params {
					if step == 0 {
						first = append(first, slices.Clone(p.Grad))
					} else if !slices.Equal(first[i], p.Grad) {
						t.Fatalf("%s: the second step's gradient differs from the first's", p.Name)
					}
				}
			}
		})
	}
}
