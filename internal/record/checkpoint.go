package record

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/nlpodyssey/safetensors"
)

// A checkpoint is one file, so that it is replaced whole or not at all: a
// safetensors file of named tensors whose metadata holds a JSON state and
// a SHA-256 of the state and every tensor (name, type, shape, bytes), which
// reading verifies. Being safetensors, it can also be read by other tools,
// and used as a pretrained trunk.
type Checkpoint struct {
	State   []byte // JSON
	Tensors map[string]safetensors.TensorView
}

// Metadata keys of a checkpoint file.
const (
	formatKey      = "format"
	checkpointType = "bench-checkpoint-1"
	stateKey       = "state"
	sumKey         = "sha256"
)

// Encode writes c to w.
func (c *Checkpoint) Encode(w io.Writer) error {
	meta := map[string]string{formatKey: checkpointType, stateKey: string(c.State), sumKey: c.sum()}
	return safetensors.SerializeToWriter(c.Tensors, meta, w)
}

// WriteCheckpoint writes c to path atomically (see WriteAtomic).
func WriteCheckpoint(path string, c *Checkpoint) error {
	return WriteAtomic(path, func(f *os.File) error {
		w := bufio.NewWriter(f)
		if err := c.Encode(w); err != nil {
			return err
		}
		return w.Flush()
	})
}

// ReadCheckpoint reads and verifies the checkpoint file path.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := DecodeCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// DecodeCheckpoint parses and verifies a checkpoint file's bytes.
func DecodeCheckpoint(data []byte) (*Checkpoint, error) {
	st, err := safetensors.Deserialize(data)
	if err != nil {
		return nil, fmt.Errorf("not a checkpoint: %w", err)
	}
	_, md, err := safetensors.ReadMetadata(data)
	if err != nil {
		return nil, err
	}
	meta := md.Metadata()
	if meta[formatKey] != checkpointType {
		return nil, errors.New("not a bench checkpoint (no " + checkpointType + " in its metadata)")
	}
	c := &Checkpoint{State: []byte(meta[stateKey]), Tensors: map[string]safetensors.TensorView{}}
	for _, t := range st.Tensors() {
		c.Tensors[t.Name] = t.TensorView
	}
	if sum := c.sum(); meta[sumKey] != sum {
		return nil, fmt.Errorf("checksum mismatch (the file was changed or is damaged): sha256 %s, recorded %q", sum, meta[sumKey])
	}
	return c, nil
}

// sum is the SHA-256 of the state and the tensors, in name order.
func (c *Checkpoint) sum() string {
	h := sha256.New()
	field := func(b []byte) {
		h.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(b))))
		h.Write(b)
	}
	field(c.State)
	for _, name := range slices.Sorted(maps.Keys(c.Tensors)) {
		t := c.Tensors[name]
		field([]byte(name))
		field([]byte(t.DType().String()))
		var shape []byte
		for _, d := range t.Shape() {
			shape = strconv.AppendUint(append(shape, ','), d, 10)
		}
		field(shape)
		field(t.Data())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// F64Tensor makes a float64 tensor of the given shape (nil: one dimension).
func F64Tensor(shape []int, x []float64) safetensors.TensorView {
	b := make([]byte, 0, 8*len(x))
	for _, v := range x {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return tensor(safetensors.F64, shape, len(x), b)
}

// F32Tensor makes a float32 tensor of the given shape (nil: one dimension).
func F32Tensor(shape []int, x []float32) safetensors.TensorView {
	b := make([]byte, 0, 4*len(x))
	for _, v := range x {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return tensor(safetensors.F32, shape, len(x), b)
}

func tensor(dt safetensors.DType, shape []int, n int, b []byte) safetensors.TensorView {
	if shape == nil {
		shape = []int{n}
	}
	dims := make([]uint64, len(shape))
	for i, d := range shape {
		dims[i] = uint64(d)
	}
	t, err := safetensors.NewTensorView(dt, dims, b)
	if err != nil {
		panic(err) // a shape that does not fit its values is a bug of the caller
	}
	return t
}

// Floats returns the values of an F32 or F64 tensor.
func Floats(t safetensors.TensorView) ([]float64, error) {
	b := t.Data()
	switch t.DType() {
	case safetensors.F64:
		out := make([]float64, len(b)/8)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return out, nil
	case safetensors.F32:
		out := make([]float64, len(b)/4)
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
		}
		return out, nil
	}
	return nil, fmt.Errorf("a %v tensor; want F32 or F64", t.DType())
}
