package nn

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nlpodyssey/safetensors"
)

func stateOf(m *Model[float32]) map[string][]float32 {
	s := map[string][]float32{}
	for _, t := range m.state {
		s[t.name] = slices.Clone(t.data)
	}
	return s
}

// TestSaveLoad: a model loaded into a fresh model of another seed has the
// same weights and running statistics, so the same embeddings.
func TestSaveLoad(t *testing.T) {
	cfg := smallConfig(t, nil)
	m, rng := trainedModel[float32](t, cfg)
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := os.WriteFile(path, []byte("an older checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	if files, _ := os.ReadDir(filepath.Dir(path)); len(files) != 1 {
		t.Fatalf("Save left %d files", len(files))
	}
	cfg.Seed = 99
	loaded := newTestModel[float32](t, cfg)
	if err := loaded.Load(path); err != nil {
		t.Fatal(err)
	}
	want := stateOf(m)
	if got := stateOf(loaded); !maps2Equal(got, want) {
		t.Fatal("loaded state differs")
	}
	for _, name := range []string{"trunk.blocks.0.bn.running_mean", "trunk.blocks.1.bn.running_var", "classifier.net.0.bias"} {
		if _, ok := want[name]; !ok {
			t.Errorf("the checkpoint has no %s", name)
		}
	}
	x := randomInput[float32](rng, 5*m.InputSize())
	if !slices.Equal(mustEmbed(t, m, x, 5), mustEmbed(t, loaded, x, 5)) {
		t.Fatal("the loaded model embeds differently")
	}
}

func maps2Equal(a, b map[string][]float32) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestLoadRejectsOtherModels: a checkpoint of another architecture is an
// error, and the model is left as it was.
func TestLoadRejectsOtherModels(t *testing.T) {
	dir := t.TempDir()
	save := func(cfg Config, name string) string {
		path := filepath.Join(dir, name)
		if err := newTestModel[float32](t, cfg).Save(path); err != nil {
			t.Fatal(err)
		}
		return path
	}
	base := smallConfig(t, nil)
	noClassifier := base
	noClassifier.Classifier = nil
	wider := base
	wider.Trunk = component(t, Trunks, "ConvNet", map[string]any{"channels": []any{4, 7}})
	m := newTestModel[float32](t, base)
	before := stateOf(m)
	for _, tc := range []struct {
		name string
		path string
		want string
	}{
		{"missing tensor", save(noClassifier, "a.safetensors"), `missing tensor "classifier.net.0.weight"`},
		{"unexpected tensor", saveWith(t, m, dir, "extra.weight"), `unexpected tensor "extra.weight"`},
		{"shape", save(wider, "b.safetensors"), `has shape [7 4 3 3]; want [6 4 3 3]`},
		{"not a file", filepath.Join(dir, "none.safetensors"), "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := m.Load(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if !maps2Equal(stateOf(m), before) {
				t.Fatal("a failed Load changed the model")
			}
		})
	}
}

// saveWith writes m's checkpoint plus one more tensor.
func saveWith(t *testing.T, m *Model[float32], dir, extra string) string {
	views := map[string]view{extra: viewOf(stateTensor[float32]{name: extra, shape: []int{1}, data: []float32{1}})}
	for _, s := range m.state {
		views[s.name] = viewOf(s)
	}
	return writeSafetensors(t, filepath.Join(dir, "extra.safetensors"), views)
}

func writeSafetensors(t *testing.T, path string, views map[string]view) string {
	data, err := safetensors.Serialize(views, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPretrained loads a trunk from a bench checkpoint ("trunk." names) and
// from a torch-style F64 state_dict (the trunk's own names, extra tensors
// ignored); the embedder keeps its initialisation.
func TestPretrained(t *testing.T) {
	dir := t.TempDir()
	source, _ := trainedModel[float32](t, smallConfig(t, nil))
	bench := filepath.Join(dir, "bench.safetensors")
	if err := source.Save(bench); err != nil {
		t.Fatal(err)
	}
	torch := map[string]view{"fc.weight": viewOf(stateTensor[float32]{name: "fc.weight", shape: []int{1}, data: []float32{1}})}
	for _, s := range source.state {
		if local, ok := strings.CutPrefix(s.name, "trunk."); ok {
			f64 := make([]float64, len(s.data))
			for i, v := range s.data {
				f64[i] = float64(v)
			}
			torch[local] = viewOf(stateTensor[float64]{name: local, shape: s.shape, data: f64})
		}
	}
	writeSafetensors(t, filepath.Join(dir, "torch.safetensors"), torch)
	for _, file := range []string{"bench.safetensors", "torch.safetensors"} {
		t.Run(file, func(t *testing.T) {
			cfg := smallConfig(t, map[string]any{"channels": []any{4, 6}, "pretrained": filepath.Join(dir, file)})
			cfg.Seed = 2
			m := newTestModel[float32](t, cfg)
			got, want := stateOf(m), stateOf(source)
			for name, v := range want {
				if trunk := strings.HasPrefix(name, "trunk."); trunk != slices.Equal(got[name], v) {
					t.Errorf("%s: loaded %v, in the trunk %v", name, !trunk, trunk)
				}
			}
		})
	}
	cfg := smallConfig(t, map[string]any{"channels": []any{4, 6, 8}, "pretrained": bench})
	_, err := newModel[float32](cfg)
	if err == nil || !strings.Contains(err.Error(), "models.x.ConvNet.pretrained") || !strings.Contains(err.Error(), "5 missing: blocks.2.bn.bias") || !strings.Contains(err.Error(), "blocks.2.conv.weight") {
		t.Fatalf("error %v; want the pretrained key and the missing tensor", err)
	}
}

// TestSafetensorsLayout: tensors are little-endian in the model's precision,
// with PyTorch's shapes (conv weights out x in x k x k).
func TestSafetensorsLayout(t *testing.T) {
	m := newTestModel[float32](t, smallConfig(t, nil))
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	st, err := readSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	tv, ok := st.Tensor("trunk.blocks.1.conv.weight")
	if !ok || tv.DType() != safetensors.F32 || !slices.Equal(tv.Shape(), []uint64{6, 4, 3, 3}) {
		t.Fatalf("conv weight: %v %v %v", ok, tv.DType(), tv.Shape())
	}
	w := m.byName["trunk.blocks.1.conv.weight"].Value
	if got := math.Float32frombits(binary.LittleEndian.Uint32(tv.Data()[4*7:])); got != w[7] {
		t.Fatalf("element 7 is %g, want %g", got, w[7])
	}
}
