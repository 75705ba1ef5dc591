// Package torchload reads model weights from the files people have:
// PyTorch checkpoints as torch.save writes them (the zip format of torch
// >= 1.6 and the legacy format before it) and safetensors files. A .pth
// file is a Python pickle; it is read by a restricted unpickler that builds
// tensors and (ordered) dicts only and refuses any other Python global, so
// loading a file never runs code from it.
package torchload

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/nlpodyssey/safetensors"
)

// Tensor is one named tensor of a checkpoint, converted to float64
// (every float16, bfloat16 and float32 value is exact in float64).
type Tensor struct {
	DType string // as torch names it: float32, float16, bfloat16, float64, int64, ...
	Shape []int
	Data  []float64 // row-major, contiguous
}

// ReadFile reads the tensors of a .pth/.pt or safetensors file. Nested
// dicts (a training script's {"state_dict": ..., "epoch": 3}) are
// flattened with dotted names ("state_dict.conv1.weight"); values that are
// not tensors are left out.
func ReadFile(name string) (map[string]Tensor, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	t, err := Read(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

// Read reads the tensors of a checkpoint held in memory; see ReadFile.
func Read(data []byte) (map[string]Tensor, error) {
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return readZip(data)
	case len(data) > 0 && data[0] == 0x80:
		return readLegacy(data)
	case len(data) > 8 && data[8] == '{':
		return readSafetensors(data)
	}
	return nil, errors.New("not a PyTorch checkpoint (zip or legacy torch.save format) or a safetensors file")
}

// storage is a torch storage: raw little-endian elements of one type.
type storage struct {
	dtype string
	size  int // bytes per element
	numel int
	data  []byte // numel*size bytes once loaded
}

var storageTypes = map[string]struct {
	dtype string
	size  int
}{
	"FloatStorage":    {"float32", 4},
	"DoubleStorage":   {"float64", 8},
	"HalfStorage":     {"float16", 2},
	"BFloat16Storage": {"bfloat16", 2},
	"LongStorage":     {"int64", 8},
	"IntStorage":      {"int32", 4},
	"ShortStorage":    {"int16", 2},
	"CharStorage":     {"int8", 1},
	"ByteStorage":     {"uint8", 1},
	"BoolStorage":     {"bool", 1},
}

// storageRef parses a persistent id ('storage', type, key, location,
// numel[, view metadata]) and returns its storage, shared by key.
func storageRef(pid any, byKey map[string]*storage) (*storage, string, error) {
	t, ok := pid.(tuple)
	if !ok || len(t) < 5 || t[0] != "storage" {
		return nil, "", fmt.Errorf("unsupported persistent id %v", pid)
	}
	g, ok1 := t[1].(global)
	key, ok2 := t[2].(string)
	numel, ok3 := t[4].(int64)
	if !ok1 || !ok2 || !ok3 || numel < 0 || numel > math.MaxInt32*4 {
		return nil, "", fmt.Errorf("malformed storage reference %v", pid)
	}
	if len(t) > 5 && t[5] != nil {
		return nil, "", fmt.Errorf("storage %s is a view of another storage (torch < 0.4 files are not supported)", key)
	}
	st, ok := storageTypes[g.name]
	if !ok || g.module != "torch" {
		return nil, "", fmt.Errorf("unsupported storage type %s", g)
	}
	if s, ok := byKey[key]; ok {
		if s.dtype != st.dtype || s.numel != int(numel) {
			return nil, "", fmt.Errorf("storage %s referenced with two types or sizes", key)
		}
		return s, key, nil
	}
	s := &storage{dtype: st.dtype, size: st.size, numel: int(numel)}
	byKey[key] = s
	return s, key, nil
}

// pending is a tensor whose storage may not be loaded yet (the legacy
// format stores the data after the pickle that describes the tensors).
type pending struct {
	storage        *storage
	offset         int
	shape, strides []int
}

// rebuildTensor is torch._utils._rebuild_tensor[_v2](storage,
// storage_offset, size, stride, ...).
func rebuildTensor(args tuple) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor with %d arguments", len(args))
	}
	s, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor of a %T, not a storage", args[0])
	}
	offset, ok := args[1].(int64)
	shape, err1 := ints(args[2])
	strides, err2 := ints(args[3])
	if err := errors.Join(err1, err2); err != nil || !ok {
		return nil, fmt.Errorf("_rebuild_tensor with malformed offset, size or stride: %v", err)
	}
	if len(shape) != len(strides) {
		return nil, fmt.Errorf("tensor of size %v with strides %v", shape, strides)
	}
	// The largest element index must lie in the storage.
	last, n := offset, int64(1)
	for i, d := range shape {
		if d < 0 || strides[i] < 0 {
			return nil, fmt.Errorf("tensor of size %v with strides %v", shape, strides)
		}
		if d == 0 {
			n = 0
			break
		}
		if n > math.MaxInt32/int64(d) {
			return nil, fmt.Errorf("tensor of size %v is too large", shape)
		}
		n *= int64(d)
		last += int64(d-1) * int64(strides[i])
	}
	if n > 0 && (offset < 0 || last >= int64(s.numel)) {
		return nil, fmt.Errorf("tensor of size %v, strides %v and offset %d overruns its storage of %d elements", shape, strides, offset, s.numel)
	}
	// An expanded tensor (stride 0) may have more elements than its
	// storage; bound what a small file can make us allocate.
	if n > int64(s.numel) && n > 1<<24 {
		return nil, fmt.Errorf("tensor of size %v expands a storage of %d elements too far", shape, s.numel)
	}
	p := &pending{storage: s, offset: int(offset), shape: make([]int, len(shape)), strides: make([]int, len(shape))}
	for i := range shape {
		p.shape[i], p.strides[i] = int(shape[i]), int(strides[i])
	}
	return p, nil
}

func ints(v any) ([]int64, error) {
	t, ok := v.(tuple)
	if !ok {
		return nil, fmt.Errorf("want a tuple of ints, got %T", v)
	}
	out := make([]int64, len(t))
	for i, x := range t {
		n, ok := x.(int64)
		if !ok || n > math.MaxInt32 {
			return nil, fmt.Errorf("want a tuple of ints, got %v", t)
		}
		out[i] = n
	}
	return out, nil
}

// materialise gathers a pending tensor's elements in row-major order.
func (p *pending) materialise() (Tensor, error) {
	s := p.storage
	if len(s.data) != s.numel*s.size {
		return Tensor{}, errors.New("tensor data missing")
	}
	n := 1
	for _, d := range p.shape {
		n *= d
	}
	t := Tensor{DType: s.dtype, Shape: slices.Clone(p.shape), Data: make([]float64, n)}
	idx := make([]int, len(p.shape))
	at := p.offset
	for i := range t.Data {
		t.Data[i] = s.at(at)
		// Advance the multi-index like an odometer, the last axis fastest.
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			at += p.strides[d]
			if idx[d] < p.shape[d] {
				break
			}
			at -= idx[d] * p.strides[d]
			idx[d] = 0
		}
	}
	return t, nil
}

func (s *storage) at(i int) float64 {
	b := s.data[i*s.size:]
	switch s.dtype {
	case "float32":
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	case "float64":
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	case "float16":
		return halfToFloat(binary.LittleEndian.Uint16(b))
	case "bfloat16":
		return float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16))
	case "int64":
		return float64(int64(binary.LittleEndian.Uint64(b)))
	case "int32":
		return float64(int32(binary.LittleEndian.Uint32(b)))
	case "int16":
		return float64(int16(binary.LittleEndian.Uint16(b)))
	case "int8":
		return float64(int8(b[0]))
	}
	return float64(b[0]) // uint8, bool
}

// halfToFloat converts an IEEE 754 binary16 value.
func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(h>>10)&0x1f, float64(h&0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}

// flatten collects the tensors of a state dict, nested dicts with dotted
// names.
func flatten(v any) (map[string]Tensor, error) {
	top, ok := v.(*dict)
	if !ok {
		return nil, fmt.Errorf("the file holds a %s, not a dict of tensors", typeName(v))
	}
	out := map[string]Tensor{}
	var walk func(prefix string, d *dict) error
	walk = func(prefix string, d *dict) error {
		for _, k := range d.keys {
			name, ok := k.(string)
			if !ok {
				continue
			}
			switch x := d.values[k].(type) {
			case *pending:
				t, err := x.materialise()
				if err != nil {
					return fmt.Errorf("tensor %q: %w", prefix+name, err)
				}
				out[prefix+name] = t
			case *dict:
				if err := walk(prefix+name+".", x); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk("", top); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("the file holds no tensors")
	}
	return out, nil
}

func typeName(v any) string {
	switch v.(type) {
	case *pending:
		return "tensor"
	case *list:
		return "list"
	case tuple:
		return "tuple"
	case nil:
		return "None"
	}
	return fmt.Sprintf("%T", v)
}

// readZip reads torch.save's zip format: <dir>/data.pkl, whose persistent
// ids name the raw storages <dir>/data/<key>.
func readZip(data []byte) (map[string]Tensor, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	files := map[string]*zip.File{}
	var pkl string
	for _, f := range zr.File {
		files[f.Name] = f
		if path.Base(f.Name) == "data.pkl" && strings.Count(f.Name, "/") == 1 {
			pkl = f.Name
		}
	}
	if pkl == "" {
		return nil, errors.New("zip file without <name>/data.pkl: not a torch.save file")
	}
	dir := path.Dir(pkl)
	if f, ok := files[dir+"/byteorder"]; ok {
		b, err := readEntry(f, 16)
		if err != nil {
			return nil, err
		}
		if string(b) != "little" {
			return nil, fmt.Errorf("byte order %q; only little-endian files are supported", b)
		}
	}
	p, err := readEntry(files[pkl], files[pkl].UncompressedSize64)
	if err != nil {
		return nil, err
	}
	byKey := map[string]*storage{}
	v, _, err := unpickle(p, func(pid any) (any, error) {
		s, key, err := storageRef(pid, byKey)
		if err != nil || s.data != nil {
			return s, err
		}
		f, ok := files[dir+"/data/"+key]
		if !ok {
			return nil, fmt.Errorf("storage %s missing from the zip", key)
		}
		want := uint64(s.numel * s.size)
		if f.UncompressedSize64 < want {
			return nil, fmt.Errorf("storage %s has %d bytes; want %d", key, f.UncompressedSize64, want)
		}
		s.data, err = readEntry(f, want)
		return s, err
	})
	if err != nil {
		return nil, err
	}
	return flatten(v)
}

// readEntry reads the first n bytes of a zip entry.
func readEntry(f *zip.File, n uint64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("zip entry %s: %w", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, int64(min(n, f.UncompressedSize64))))
	if err != nil {
		return nil, fmt.Errorf("zip entry %s: %w", f.Name, err)
	}
	return b, nil
}

// legacyMagic opens torch.save's legacy format: five pickles (this magic
// number, the protocol version 1001, system information, the object, the
// list of storage keys) followed by each storage's element count (int64)
// and raw data, in the order of that list.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

func readLegacy(data []byte) (map[string]Tensor, error) {
	pos := 0
	next := func(persistent func(any) (any, error)) (any, error) {
		v, n, err := unpickle(data[pos:], persistent)
		pos += n
		return v, err
	}
	magic, err := next(nil)
	if err != nil {
		return nil, err
	}
	if m, ok := magic.(*big.Int); !ok || m.Cmp(legacyMagic) != 0 {
		return nil, errors.New("a pickle, but not a torch.save file (no legacy magic number)")
	}
	if version, err := next(nil); err != nil {
		return nil, err
	} else if version != int64(1001) {
		return nil, fmt.Errorf("legacy format version %v; want 1001", version)
	}
	info, err := next(nil)
	if err != nil {
		return nil, err
	}
	if d, ok := info.(*dict); !ok || d.values["little_endian"] != true {
		return nil, errors.New("the file was saved on a big-endian machine; only little-endian files are supported")
	}
	byKey := map[string]*storage{}
	obj, err := next(func(pid any) (any, error) {
		s, _, err := storageRef(pid, byKey)
		return s, err
	})
	if err != nil {
		return nil, err
	}
	keys, err := next(nil)
	if err != nil {
		return nil, err
	}
	l, ok := keys.(*list)
	if !ok {
		return nil, fmt.Errorf("storage key list is a %s", typeName(keys))
	}
	for _, k := range l.items {
		key, _ := k.(string)
		s, ok := byKey[key]
		if !ok {
			return nil, fmt.Errorf("unknown storage key %v", k)
		}
		if len(data)-pos < 8 {
			return nil, fmt.Errorf("storage %s truncated", key)
		}
		numel := binary.LittleEndian.Uint64(data[pos:])
		pos += 8
		if numel != uint64(s.numel) {
			return nil, fmt.Errorf("storage %s has %d elements; its tensors say %d", key, numel, s.numel)
		}
		n := s.numel * s.size
		if len(data)-pos < n {
			return nil, fmt.Errorf("storage %s truncated", key)
		}
		s.data, pos = data[pos:pos+n], pos+n
	}
	return flatten(obj)
}

func readSafetensors(data []byte) (map[string]Tensor, error) {
	st, err := safetensors.Deserialize(data)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	names := map[safetensors.DType]string{
		safetensors.F32: "FloatStorage", safetensors.F64: "DoubleStorage", safetensors.F16: "HalfStorage",
		safetensors.BF16: "BFloat16Storage", safetensors.I64: "LongStorage", safetensors.I32: "IntStorage",
		safetensors.I16: "ShortStorage", safetensors.I8: "CharStorage", safetensors.U8: "ByteStorage",
		safetensors.BOOL: "BoolStorage",
	}
	out := map[string]Tensor{}
	for _, nt := range st.Tensors() {
		tv := nt.TensorView
		typ, ok := names[tv.DType()]
		if !ok {
			return nil, fmt.Errorf("tensor %q has unsupported type %v", nt.Name, tv.DType())
		}
		st := storageTypes[typ]
		s := &storage{dtype: st.dtype, size: st.size, numel: len(tv.Data()) / st.size, data: tv.Data()}
		p := &pending{storage: s, shape: make([]int, len(tv.Shape())), strides: make([]int, len(tv.Shape()))}
		stride := 1
		for i := len(p.shape) - 1; i >= 0; i-- {
			p.shape[i], p.strides[i] = int(tv.Shape()[i]), stride
			stride *= p.shape[i]
		}
		if stride != s.numel {
			return nil, fmt.Errorf("tensor %q of shape %v has %d elements of data", nt.Name, p.shape, s.numel)
		}
		if out[nt.Name], err = p.materialise(); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", nt.Name, err)
		}
	}
	return out, nil
}
