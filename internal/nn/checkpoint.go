package nn

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/nlpodyssey/safetensors"
	"gorgonia.org/tensor"

	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/torchload"
)

// Save writes every parameter and BatchNorm running statistic to a
// safetensors file (see Tensors). The file is written to a temporary name
// and renamed, so a crash never leaves a partial file under path.
func (m *Model[T]) Save(path string) error {
	err := record.WriteAtomic(path, func(f *os.File) error {
		w := bufio.NewWriter(f)
		if err := safetensors.SerializeToWriter(m.Tensors(), nil, w); err != nil {
			return err
		}
		return w.Flush()
	})
	if err != nil {
		return fmt.Errorf("nn: %w", err)
	}
	return nil
}

// Tensors returns every parameter and BatchNorm running statistic, named
// as in a PyTorch state_dict with the group as prefix
// ("trunk.blocks.0.conv.weight", "embedder.net.0.bias", ...).
func (m *Model[T]) Tensors() map[string]safetensors.TensorView {
	out := make(map[string]safetensors.TensorView, len(m.state))
	for _, s := range m.state {
		v := viewOf(s)
		tv, err := safetensors.NewTensorView(v.dtype, v.shape, v.data)
		if err != nil {
			panic(err) // viewOf sizes the data by the shape
		}
		out[s.name] = tv
	}
	return out
}

// Load reads a file written by Save for the same architecture (see
// SetTensors).
func (m *Model[T]) Load(path string) error {
	st, err := readSafetensors(path)
	if err != nil {
		return err
	}
	tensors := map[string]safetensors.TensorView{}
	for _, t := range st.Tensors() {
		tensors[t.Name] = t.TensorView
	}
	if err := m.SetTensors(tensors); err != nil {
		return fmt.Errorf("nn: loading %s: %w", path, err)
	}
	return nil
}

// SetTensors sets the model's tensors from ones of the same architecture:
// every tensor must be there with its shape, and nothing else. The model is
// unchanged when SetTensors fails.
func (m *Model[T]) SetTensors(tensors map[string]safetensors.TensorView) error {
	for _, name := range slices.Sorted(maps.Keys(tensors)) {
		if !slices.ContainsFunc(m.state, func(s stateTensor[T]) bool { return s.name == name }) {
			return fmt.Errorf("unexpected tensor %q: not a checkpoint of this model", name)
		}
	}
	for _, s := range m.state {
		tv, ok := tensors[s.name]
		if !ok {
			return fmt.Errorf("missing tensor %q", s.name)
		}
		if err := check(s, tv); err != nil {
			return err
		}
	}
	for _, s := range m.state {
		decode(s.data, tensors[s.name])
	}
	return nil
}

// loadPretrained sets the trunk's weights and running statistics from a
// PyTorch checkpoint (.pth/.pt) or a safetensors file holding them under the
// trunk's own names (a torch trunk's state_dict: "blocks.0.conv.weight",
// "layer1.0.conv1.weight"), with the "trunk." prefix of a bench checkpoint
// or the "module." prefix of DataParallel. A tensor whose shape differs only
// by dimensions of size 1 loads (pretrainedmodels' BN-Inception stores
// BatchNorm vectors as 1 x C). A zoo trunk wants every other tensor to be
// its classifier head or a batch counter; other trunks ignore the rest.
func (m *Model[T]) loadPretrained(path string) error {
	fail := func(format string, args ...any) error {
		return m.trunk.errorf("pretrained", "%s: %s", path, fmt.Sprintf(format, args...))
	}
	if _, err := os.Stat(path); err != nil {
		if z, ok := m.trunk.(*Zoo); ok && z.Pretrained == "imagenet" {
			return z.missingPretrained(path)
		}
	}
	file, err := torchload.ReadFile(path)
	if err != nil {
		return m.trunk.errorf("pretrained", "%v", err)
	}
	used := map[string]bool{}
	var missing, misshaped []string
	var trunk []stateTensor[T]
	var tensors []torchload.Tensor
	for _, s := range m.state {
		local, ok := strings.CutPrefix(s.name, "trunk.")
		if !ok {
			continue
		}
		key := ""
		for _, k := range []string{local, s.name, "module." + local} {
			if _, ok := file[k]; ok {
				key = k
				break
			}
		}
		if key == "" {
			missing = append(missing, local)
			continue
		}
		used[key] = true
		t := file[key]
		if !slices.Equal(squeezed(t.Shape), squeezed(s.shape)) {
			misshaped = append(misshaped, fmt.Sprintf("%s %v (want %v)", key, t.Shape, s.shape))
			continue
		}
		trunk, tensors = append(trunk, s), append(tensors, t)
	}
	var unexpected []string
	if z, ok := m.trunk.(*Zoo); ok {
		for k := range file {
			if !used[k] && !z.ignored(strings.TrimPrefix(k, "module.")) {
				unexpected = append(unexpected, k)
			}
		}
	}
	if len(missing)+len(misshaped)+len(unexpected) > 0 {
		var parts []string
		for _, p := range []struct {
			what string
			keys []string
		}{{"missing", missing}, {"mis-shaped", misshaped}, {"unexpected", unexpected}} {
			if len(p.keys) > 0 {
				slices.Sort(p.keys)
				parts = append(parts, fmt.Sprintf("%d %s: %s", len(p.keys), p.what, abbreviate(p.keys, 8)))
			}
		}
		return fail("the file does not match the trunk: %s", strings.Join(parts, "; "))
	}
	for i, s := range trunk {
		for j, v := range tensors[i].Data {
			s.data[j] = T(v)
		}
	}
	return nil
}

// squeezed drops dimensions of size 1.
func squeezed(shape []int) []int {
	var out []int
	for _, d := range shape {
		if d != 1 {
			out = append(out, d)
		}
	}
	return out
}

// abbreviate joins the first n keys and says how many more there are.
func abbreviate(keys []string, n int) string {
	if len(keys) <= n {
		return strings.Join(keys, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(keys[:n], ", "), len(keys)-n)
}

func readSafetensors(path string) (safetensors.SafeTensors, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return safetensors.SafeTensors{}, err
	}
	st, err := safetensors.Deserialize(data)
	if err != nil {
		return safetensors.SafeTensors{}, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// check reports whether tv can be loaded into s.
func check[T Float](s stateTensor[T], tv safetensors.TensorView) error {
	shape := make([]int, len(tv.Shape()))
	for i, d := range tv.Shape() {
		shape[i] = int(d)
	}
	if !slices.Equal(shape, s.shape) {
		return fmt.Errorf("tensor %q has shape %v; want %v", s.name, shape, s.shape)
	}
	if dt := tv.DType(); dt != safetensors.F32 && dt != safetensors.F64 {
		return fmt.Errorf("tensor %q is %v; want F32 or F64", s.name, dt)
	}
	return nil
}

// decode copies a checked F32 or F64 tensor into dst.
func decode[T Float](dst []T, tv safetensors.TensorView) {
	b := tv.Data()
	if tv.DType() == safetensors.F32 {
		for i := range dst {
			dst[i] = T(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
		}
		return
	}
	for i := range dst {
		dst[i] = T(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
	}
}

// view is a tensor to serialise, in the model's precision.
type view struct {
	dtype safetensors.DType
	shape []uint64
	data  []byte
}

func (v view) DType() safetensors.DType { return v.dtype }
func (v view) Shape() []uint64          { return v.shape }
func (v view) Data() []byte             { return v.data }
func (v view) DataLen() uint64          { return uint64(len(v.data)) }

func viewOf[T Float](s stateTensor[T]) view {
	v := view{dtype: safetensors.F32, shape: make([]uint64, len(s.shape))}
	if dtype[T]() == tensor.Float64 {
		v.dtype = safetensors.F64
	}
	for i, d := range s.shape {
		v.shape[i] = uint64(d)
	}
	for _, x := range s.data {
		switch x := any(x).(type) {
		case float32:
			v.data = binary.LittleEndian.AppendUint32(v.data, math.Float32bits(x))
		case float64:
			v.data = binary.LittleEndian.AppendUint64(v.data, math.Float64bits(x))
		}
	}
	return v
}
