package record

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/nlpodyssey/safetensors"
)

func testCheckpoint(epoch string) *Checkpoint {
	return &Checkpoint{
		State: []byte(`{"epoch": ` + epoch + `}`),
		Tensors: map[string]safetensors.TensorView{
			"trunk.w":           F32Tensor([]int{2, 2}, []float32{1, 2, 3, 4}),
			"optimizer/trunk/m": F64Tensor(nil, []float64{0.5, -1}),
		},
	}
}

func encode(t *testing.T, c *Checkpoint) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCheckpointRoundTrip(t *testing.T) {
	c := testCheckpoint("3")
	got, err := DecodeCheckpoint(encode(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if string(got.State) != string(c.State) {
		t.Errorf("state %s, want %s", got.State, c.State)
	}
	for name, want := range c.Tensors {
		g, ok := got.Tensors[name]
		if !ok || g.DType() != want.DType() || !reflect.DeepEqual(g.Shape(), want.Shape()) || !bytes.Equal(g.Data(), want.Data()) {
			t.Errorf("tensor %s differs", name)
		}
	}
	if v, err := Floats(got.Tensors["trunk.w"]); err != nil || !reflect.DeepEqual(v, []float64{1, 2, 3, 4}) {
		t.Errorf("Floats = %v, %v", v, err)
	}
}

// Every changed byte and every truncation of a checkpoint is refused: by
// the safetensors framing or by the checksum.
func TestCheckpointDamage(t *testing.T) {
	data := encode(t, testCheckpoint("3"))
	for i := range data {
		for _, flip := range []byte{0x01, 0x80} {
			bad := bytes.Clone(data)
			bad[i] ^= flip
			if _, err := DecodeCheckpoint(bad); err == nil {
				t.Fatalf("byte %d xor %#x: accepted", i, flip)
			}
		}
	}
	for n := range len(data) {
		if _, err := DecodeCheckpoint(data[:n]); err == nil {
			t.Fatalf("truncated to %d of %d bytes: accepted", n, len(data))
		}
	}
	if _, err := DecodeCheckpoint(nil); err == nil || !strings.Contains(err.Error(), "not a checkpoint") {
		t.Errorf("empty file: %v", err)
	}
}

// diskFull is a file system with n bytes left.
type diskFull struct {
	w *os.File
	n int
}

func (d *diskFull) Write(p []byte) (int, error) {
	if len(p) > d.n {
		k, _ := d.w.Write(p[:d.n])
		d.n = 0
		return k, syscall.ENOSPC
	}
	d.n -= len(p)
	return d.w.Write(p)
}

// TestCheckpointDiskFull writes a new checkpoint over an old one on a
// disk that fills after n bytes, for every n: the write fails, the old
// checkpoint stays whole and no temporary file is left.
func TestCheckpointDiskFull(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "latest.safetensors")
	if err := WriteCheckpoint(path, testCheckpoint("3")); err != nil {
		t.Fatal(err)
	}
	newer := testCheckpoint("4")
	size := len(encode(t, newer))
	for n := 0; n < size; n++ {
		err := WriteAtomic(path, func(f *os.File) error { return newer.Encode(&diskFull{f, n}) })
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("disk full after %d of %d bytes: got %v", n, size, err)
		}
		c, err := ReadCheckpoint(path)
		if err != nil || string(c.State) != `{"epoch": 3}` {
			t.Fatalf("disk full after %d bytes: the old checkpoint reads %v, %v", n, c, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
}

func TestRemoveTemp(t *testing.T) {
	dir := t.TempDir()
	keep := []string{"a/losses.csv", "a/records.db-journal", ".lock", "b/.hidden"}
	for _, p := range append([]string{"a/.losses.csv.tmp123", ".splits.json.tmp9", "b/.best.safetensors.tmp1"}, keep...) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := RemoveTemp(dir); err != nil {
		t.Fatal(err)
	}
	var left []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			left = append(left, rel)
		}
		return nil
	})
	if want := []string{".lock", "a/losses.csv", "a/records.db-journal", "b/.hidden"}; !reflect.DeepEqual(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
}
