package torchload

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nlpodyssey/safetensors"

	"github.com/bench-ml/bench/internal/golden"
)

// The fixtures are written by testdata/torch/make_fixtures.py with
// python3-torch; expected.json holds their values as torch read them.
type want struct {
	DType  string    `json:"dtype"`
	Shape  []int     `json:"shape"`
	Values []float64 `json:"values"`
}

func fixtures(t *testing.T) (string, map[string]map[string]want) {
	dir := golden.Path(t, "testdata", "torch")
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp map[string]map[string]want
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	return dir, exp
}

func TestReadTorchFiles(t *testing.T) {
	dir, exp := fixtures(t)
	if len(exp) < 5 {
		t.Fatalf("expected.json lists %d files", len(exp))
	}
	for file, tensors := range exp {
		t.Run(file, func(t *testing.T) {
			got, err := ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tensors) {
				t.Errorf("%d tensors; want %d", len(got), len(tensors))
			}
			for name, w := range tensors {
				g, ok := got[name]
				if !ok {
					t.Errorf("tensor %q missing", name)
					continue
				}
				if g.DType != w.DType || !slices.Equal(g.Shape, w.Shape) || !slices.Equal(g.Data, w.Values) {
					t.Errorf("%s: got %s %v %v; want %s %v %v", name, g.DType, g.Shape, g.Data, w.DType, w.Shape, w.Values)
				}
			}
		})
	}
}

func TestRefusesCodeExecution(t *testing.T) {
	dir, _ := fixtures(t)
	for _, file := range []string{"evil_zip.pth", "evil_legacy.pth", "evil_plain.pkl"} {
		_, err := ReadFile(filepath.Join(dir, file))
		if file == "evil_plain.pkl" {
			// A bare pickle is not a torch.save file: refused before the
			// object pickle; the object pickle itself must be refused too.
			b, _ := os.ReadFile(filepath.Join(dir, file))
			_, _, err = unpickle(b, nil)
		}
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "posix.system") {
			t.Errorf("%s: got %v; want a refusal naming posix.system", file, err)
		}
	}
}

func TestSafetensors(t *testing.T) {
	half := []uint16{0x3c00, 0xc000, 0x3555, 0x0001} // 1, -2, 0.333..., smallest subnormal
	var hb, bb []byte
	for _, h := range half {
		hb = binary.LittleEndian.AppendUint16(hb, h)
	}
	for _, v := range []float32{1.5, -3, 0.25, 7} {
		bb = binary.LittleEndian.AppendUint16(bb, uint16(math.Float32bits(v)>>16))
	}
	hv, err1 := safetensors.NewTensorView(safetensors.F16, []uint64{2, 2}, hb)
	bv, err2 := safetensors.NewTensorView(safetensors.BF16, []uint64{4}, bb)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	data, err := safetensors.Serialize(map[string]safetensors.TensorView{"h": hv, "b": bv}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Read(data)
	if err != nil {
		t.Fatal(err)
	}
	wantH := []float64{1, -2, 0.333251953125, math.Ldexp(1, -24)}
	if h := got["h"]; h.DType != "float16" || !slices.Equal(h.Shape, []int{2, 2}) || !slices.Equal(h.Data, wantH) {
		t.Errorf("h = %+v; want float16 [2 2] %v", h, wantH)
	}
	if b := got["b"]; b.DType != "bfloat16" || !slices.Equal(b.Data, []float64{1.5, -3, 0.25, 7}) {
		t.Errorf("b = %+v", b)
	}
}

// Every truncation and many corruptions of every fixture must give an
// error (or, for a corruption that keeps the file valid, a result), never a
// panic.
func TestCorruptInput(t *testing.T) {
	dir, exp := fixtures(t)
	for file := range exp {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(data); n++ {
			if _, err := Read(data[:n]); err == nil {
				t.Errorf("%s cut to %d bytes: no error", file, n)
			}
		}
		for i := 0; i < len(data); i++ {
			for _, x := range []byte{0x00, 0xff, 0x80, data[i] ^ 0x01} {
				c := slices.Clone(data)
				c[i] = x
				Read(c) // must not panic
			}
		}
	}
	for _, bad := range []string{"", "hello", "\x80\x02.", "\x80\x02)R.", "\x80\x02(((t."} {
		if _, err := Read([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzRead(f *testing.F) {
	dir := golden.Path(f, "testdata", "torch")
	files, _ := filepath.Glob(filepath.Join(dir, "*.p*"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { Read(data) })
}
