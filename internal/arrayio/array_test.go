package arrayio_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/arrayio"
)

func TestWriteArray32AndReadArray(t *testing.T) {
	dir := t.TempDir()
	for _, shape := range [][]int{{2, 3}, {6}, {1, 2, 1, 3}} {
		path := filepath.Join(dir, fmt.Sprint(len(shape), ".npy"))
		want := []float32{1.5, -2, 3.25, 0, 1e-8, 7}
		if err := arrayio.WriteArray32(path, want, shape...); err != nil {
			t.Fatal(err)
		}
		data, got, err := arrayio.ReadArray(path)
		if err != nil || !slices.Equal(got, shape) || len(data) != 6 {
			t.Fatalf("%v %v %v", data, got, err)
		}
		for i, v := range want {
			if data[i] != float64(v) {
				t.Fatalf("%v; want %v", data, want)
			}
		}
	}
	if err := arrayio.WriteArray32(filepath.Join(dir, "x.csv"), []float32{1, 2}, 1, 2); err == nil {
		t.Error("csv: no error")
	}
	if _, _, err := arrayio.ReadArray(filepath.Join(dir, "none.npy")); err == nil || !strings.Contains(err.Error(), "none.npy") {
		t.Errorf("missing file: %v", err)
	}
}
