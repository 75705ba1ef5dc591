package arrayio_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/arrayio"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := []float64{0.1, -2, 1e-300, math.MaxFloat64, 3, 1.0 / 3}
	labels := []int{7, -1, 1 << 40}
	for _, ext := range []string{".npy", ".csv", ".NPY"} {
		mp := filepath.Join(dir, "m"+ext)
		if err := arrayio.WriteMatrix(mp, m, 3, 2); err != nil {
			t.Fatal(err)
		}
		got, rows, cols, err := arrayio.ReadMatrix(mp)
		if err != nil {
			t.Fatal(err)
		}
		if rows != 3 || cols != 2 || !slices.Equal(got, m) {
			t.Errorf("%s: read %d x %d %v, wrote 3 x 2 %v", ext, rows, cols, got, m)
		}
		lp := filepath.Join(dir, "l"+ext)
		if err := arrayio.WriteLabels(lp, labels); err != nil {
			t.Fatal(err)
		}
		gotL, err := arrayio.ReadLabels(lp)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(gotL, labels) {
			t.Errorf("%s: read labels %v, wrote %v", ext, gotL, labels)
		}
	}
}

// npyBytes builds a .npy file by hand, for layouts npyio does not write.
func npyBytes(descr string, fortran bool, shape string, data any) []byte {
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, map[bool]string{true: "True", false: "False"}[fortran], shape)
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	var b strings.Builder
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(hdr)))
	b.WriteString(hdr)
	binary.Write(&b, binary.LittleEndian, data)
	return []byte(b.String())
}

func TestReadNPY(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name       string
		file       []byte
		rows, cols int
		want       []float64
	}{
		{"float32 C order", npyBytes("<f4", false, "(2, 3)", []float32{1, 2, 3, 4, 5, 6}), 2, 3, []float64{1, 2, 3, 4, 5, 6}},
		{"float64 Fortran order", npyBytes("<f8", true, "(2, 3)", []float64{1, 4, 2, 5, 3, 6}), 2, 3, []float64{1, 2, 3, 4, 5, 6}},
		{"big-endian int32 vector", npyBytes(">i4", false, "(3,)", []int32{5 << 24, -6, 7 << 24}), 3, 1, []float64{5, -(5 << 24) - 1, 7}},
		{"uint8", npyBytes("|u1", false, "(1, 2)", []uint8{200, 1}), 1, 2, []float64{200, 1}},
	} {
		p := filepath.Join(dir, "x.npy")
		if err := os.WriteFile(p, tc.file, 0o644); err != nil {
			t.Fatal(err)
		}
		got, rows, cols, err := arrayio.ReadMatrix(p)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if rows != tc.rows || cols != tc.cols || !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %d x %d %v, want %d x %d %v", tc.name, rows, cols, got, tc.rows, tc.cols, tc.want)
		}
	}
}

func TestReadCSV(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.csv")
	if err := os.WriteFile(p, []byte("a, b\n1, 2.5\n-3,4e2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, rows, cols, err := arrayio.ReadMatrix(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{1, 2.5, -3, 400}; rows != 2 || cols != 2 || !slices.Equal(got, want) {
		t.Errorf("got %d x %d %v, want 2 x 2 %v", rows, cols, got, want)
	}
	if err := os.WriteFile(p, []byte("0,1,1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	labels, err := arrayio.ReadLabels(p)
	if err != nil || !slices.Equal(labels, []int{0, 1, 1, 2}) {
		t.Errorf("labels in a row: %v, %v", labels, err)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		path   string
		labels bool
		want   string
	}{
		{path: write("x.txt", "1"), want: `x.txt: unsupported file extension ".txt"`},
		{path: filepath.Join(dir, "missing.csv"), want: "missing.csv: no such file"},
		{path: write("ragged.csv", "1,2\n3\n"), want: "ragged.csv: line 2 has 1 values, earlier lines 2"},
		{path: write("word.csv", "1,2\n3,x\n"), want: `word.csv: line 2, column 2: "x" is not a number`},
		{path: write("empty.csv", ""), want: "empty.csv: no data"},
		{path: write("frac.csv", "1\n2.5\n"), labels: true, want: "frac.csv: label 1 is 2.5, not an integer"},
		{path: write("wide.csv", "1,2\n3,4\n"), labels: true, want: "wide.csv: 2 x 2 array, want one row or one column"},
		{path: write("nan.csv", "1,2\n3,nan\n"), want: "nan.csv: row 2, column 2 is NaN: values must be finite"},
		{path: write("inf.npy", string(npyBytes("<f8", false, "(2,)", []float64{1, math.Inf(-1)}))), want: "inf.npy: row 2, column 1 is -Inf"},
		{path: write("bad.npy", "not numpy"), want: "bad.npy: not a .npy file"},
		{path: write("cube.npy", string(npyBytes("<f8", false, "(1, 1, 1)", []float64{1}))), want: "cube.npy: array of shape [1 1 1]"},
		{path: write("complex.npy", string(npyBytes("<c8", false, "(1,)", []float32{1, 2}))), want: `complex.npy: unsupported dtype "<c8"`},
	} {
		var err error
		if tc.labels {
			_, err = arrayio.ReadLabels(tc.path)
		} else {
			_, _, _, err = arrayio.ReadMatrix(tc.path)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", filepath.Base(tc.path), err, tc.want)
		}
	}
	if err := arrayio.WriteMatrix(filepath.Join(dir, "m.csv"), []float64{1}, 2, 2); err == nil {
		t.Error("writing 1 value as 2 x 2: no error")
	}
}

// npyFile is a .npy file of the given version and header, followed by data.
func npyFile(version byte, hdr string, data []byte) []byte {
	b := []byte("\x93NUMPY")
	b = append(b, version, 0)
	if version == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(hdr)))
	}
	return append(append(b, hdr...), data...)
}

// Headers as numpy writes and reads them: any key order, versions 1 to 3.
func TestReadNPYHeaders(t *testing.T) {
	dir := t.TempDir()
	two := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(1.5)), math.Float64bits(-2))
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"keys in another order", npyFile(1, "{'shape': (2,), 'fortran_order': False, 'descr': '<f8'}\n", two)},
		{"version 2", npyFile(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n", two)},
		{"version 3, double quotes", npyFile(3, `{"descr": "<f8", "fortran_order": False, "shape": (2, 1)}`+"\n", two)},
	} {
		p := filepath.Join(dir, "x.npy")
		if err := os.WriteFile(p, tc.file, 0o644); err != nil {
			t.Fatal(err)
		}
		got, rows, cols, err := arrayio.ReadMatrix(p)
		if err != nil || rows != 2 || cols != 1 || !slices.Equal(got, []float64{1.5, -2}) {
			t.Errorf("%s: got %v %dx%d, %v", tc.name, got, rows, cols, err)
		}
	}
}

// Hostile .npy files: what the header claims is checked against the file
// before anything is allocated.
func TestReadNPYHostile(t *testing.T) {
	dir := t.TempDir()
	hdr := "{'descr': '<f8', 'fortran_order': False, 'shape': (%s), }\n"
	two := make([]byte, 16)
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"3e8 rows in 152 bytes", npyFile(1, fmt.Sprintf(hdr, "300000000, 4"), two), "declares shape [300000000 4]"},
		{"overflowing shape", npyFile(1, fmt.Sprintf(hdr, "4611686018427387904, 8"), two), "declares shape"},
		{"truncated", npyFile(1, fmt.Sprintf(hdr, "3,"), two), "holds 16 bytes of data"},
		{"trailing bytes", npyFile(1, fmt.Sprintf(hdr, "1,"), two), "holds 16 bytes of data"},
		{"header length past the end", append([]byte("\x93NUMPY\x01\x00\xff\xff"), "{'descr'"...), "header length 65535 runs past the end"},
		{"version 4", npyFile(4, fmt.Sprintf(hdr, "2,"), two), "version 4"},
		{"missing key", npyFile(1, "{'descr': '<f8', 'shape': (2,)}", two), "want the keys"},
		{"duplicate key", npyFile(1, "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", two), "twice"},
		{"negative dim", npyFile(1, fmt.Sprintf(hdr, "-2,"), two), "shape"},
	} {
		p := filepath.Join(dir, "x.npy")
		if err := os.WriteFile(p, tc.file, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, _, err := arrayio.ReadMatrix(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "x.npy") {
			t.Errorf("%s: got %v; want an error naming the file with %q", tc.name, err, tc.want)
		}
	}
}

func TestWriteArray32(t *testing.T) {
	dir := t.TempDir()
	m := []float32{0.1, -2, 1e-30, math.MaxFloat32, 3, 1.0 / 3}
	path := filepath.Join(dir, "e.npy")
	if err := arrayio.WriteArray32(path, m, 2, 3); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := 10 + int(binary.LittleEndian.Uint16(raw[8:])); n%64 != 0 || raw[n-1] != '\n' || len(raw) != n+4*len(m) {
		t.Errorf("header of %d bytes (file %d): not aligned to 64 or not ended by a newline", n, len(raw))
	}
	got, rows, cols, single, err := arrayio.ReadMatrixPrecision(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if float32(v) != m[i] {
			t.Errorf("value %d: %v, want %v", i, v, m[i])
		}
	}
	if rows != 2 || cols != 3 || !single {
		t.Errorf("read %d x %d, float32 %v; want 2 x 3 float32", rows, cols, single)
	}
	if _, _, _, single, _ := arrayio.ReadMatrixPrecision(writeF64(t, dir)); single {
		t.Error("a float64 file reads as float32")
	}
	if err := arrayio.WriteArray32(filepath.Join(dir, "e.csv"), m, 2, 3); err == nil || !strings.Contains(err.Error(), "e.csv") {
		t.Errorf("float32 as CSV: %v, want an error naming the file", err)
	}
}

func writeF64(t *testing.T, dir string) string {
	path := filepath.Join(dir, "f64.npy")
	if err := arrayio.WriteMatrix(path, []float64{1, 2}, 1, 2); err != nil {
		t.Fatal(err)
	}
	return path
}
