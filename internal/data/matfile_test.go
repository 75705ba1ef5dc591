package data

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"
)

// matWriter writes level 5 MAT-file bytes by hand, following MathWorks'
// "MAT-File Format" document, laid out as MATLAB writes them: class flags,
// dimensions, name, then data; names of up to 4 bytes in the small data
// element format; chars as UTF-16; small integers of a double array stored
// as bytes.
type matWriter struct{ order binary.ByteOrder }

// Classes not defined by the reader.
const (
	mxSPARSE_CLASS = 5
	mxINT16_CLASS  = 10
	mxUINT8_CLASS  = 9
)

func (w matWriter) u32s(vs ...uint32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		w.order.PutUint32(b[4*i:], v)
	}
	return b
}

func (w matWriter) i32s(vs ...int32) []byte {
	u := make([]uint32, len(vs))
	for i, v := range vs {
		u[i] = uint32(v)
	}
	return w.u32s(u...)
}

// element is a data element in the regular format, padded to 8 bytes.
func (w matWriter) element(typ uint32, data []byte) []byte {
	b := append(w.u32s(typ, uint32(len(data))), data...)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

// small is a data element of at most 4 bytes in the small format: size
// and type in one word, then the data padded to 4 bytes.
func (w matWriter) small(typ uint32, data []byte) []byte {
	b := append(w.u32s(uint32(len(data))<<16|typ), data...)
	return append(b, make([]byte, 8-len(b))...)
}

// packed picks the small format where the data fits, as MATLAB does.
func (w matWriter) packed(typ uint32, data []byte) []byte {
	if len(data) <= 4 {
		return w.small(typ, data)
	}
	return w.element(typ, data)
}

func (w matWriter) matrix(class uint32, dims []int32, name string, body ...[]byte) []byte {
	b := append(w.element(miUINT32, w.u32s(class, 0)), w.element(miINT32, w.i32s(dims...))...)
	b = append(b, w.packed(miINT8, []byte(name))...)
	for _, part := range body {
		b = append(b, part...)
	}
	return w.element(miMATRIX, b)
}

func (w matWriter) char(name, s string) []byte {
	units := utf16.Encode([]rune(s))
	data := make([]byte, 2*len(units))
	for i, u := range units {
		w.order.PutUint16(data[2*i:], u)
	}
	return w.matrix(mxCHAR_CLASS, []int32{1, int32(len(units))}, name, w.packed(miUINT16, data))
}

func (w matWriter) uint8s(name string, vs ...byte) []byte {
	return w.matrix(mxUINT8_CLASS, []int32{1, int32(len(vs))}, name, w.packed(miUINT8, vs))
}

// doubleAsBytes is a double array whose values MATLAB stores as miUINT8.
func (w matWriter) doubleAsBytes(name string, vs ...byte) []byte {
	return w.matrix(mxDOUBLE_CLASS, []int32{1, int32(len(vs))}, name, w.packed(miUINT8, vs))
}

func (w matWriter) cell(name string, cells ...[]byte) []byte {
	return w.matrix(mxCELL_CLASS, []int32{1, int32(len(cells))}, name, cells...)
}

// structArray is a 1xN struct array; elems[i] holds element i's field
// values, in the order of fields.
func (w matWriter) structArray(name string, fields []string, elems ...[][]byte) []byte {
	const width = 32
	names := make([]byte, width*len(fields))
	for i, f := range fields {
		copy(names[i*width:], f)
	}
	body := [][]byte{w.small(miINT32, w.i32s(width)), w.element(miINT8, names)}
	for _, e := range elems {
		body = append(body, e...)
	}
	return w.matrix(mxSTRUCT_CLASS, []int32{1, int32(len(elems))}, name, body...)
}

// compressed wraps an element in a miCOMPRESSED one (not padded).
func (w matWriter) compressed(element []byte) []byte {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(element)
	zw.Close()
	return append(w.u32s(miCOMPRESSED, uint32(buf.Len())), buf.Bytes()...)
}

// file is the 128-byte header (text, subsystem offset, version 0x0100, the
// endian indicator "MI" written as a 16-bit value) followed by vars.
func (w matWriter) file(vars ...[]byte) []byte {
	h := []byte(strings.Repeat(" ", 124))
	copy(h, "MATLAB 5.0 MAT-file, written by a bench test")
	h = append(h, 0, 0, 0, 0)
	w.order.PutUint16(h[124:], 0x0100)
	w.order.PutUint16(h[126:], 'M'<<8|'I')
	for _, v := range vars {
		h = append(h, v...)
	}
	return h
}

func TestParseMAT(t *testing.T) {
	for _, tc := range []struct {
		name       string
		order      binary.ByteOrder
		compressed bool
	}{
		{"little-endian", binary.LittleEndian, false},
		{"little-endian compressed", binary.LittleEndian, true},
		{"big-endian", binary.BigEndian, false},
		{"big-endian compressed", binary.BigEndian, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := matWriter{tc.order}
			vars := [][]byte{
				w.structArray("annotations", []string{"relative_im_path", "class", "empty"},
					[][]byte{w.char("", "car_ims/000001.jpg"), w.uint8s("", 7), w.element(miMATRIX, nil)},
					[][]byte{w.char("", "car_ims/000002.jpg"), w.uint8s("", 196), w.element(miMATRIX, nil)}),
				w.cell("class_names", w.char("", "AM General Hummer SUV 2000"), w.char("", "Škoda"), w.char("", "")),
				w.doubleAsBytes("d", 1, 2, 250),
				w.matrix(mxINT16_CLASS, []int32{2, 1}, "i16", w.packed(miINT16, w.i16s(-300, 12))),
				w.matrix(mxDOUBLE_CLASS, []int32{1, 1}, "pi", w.element(miDOUBLE, w.f64s(math.Pi))),
				w.matrix(mxCHAR_CLASS, []int32{1, 3}, "utf8", w.packed(miUTF8, []byte("abc"))),
			}
			if tc.compressed {
				for i, v := range vars {
					vars[i] = w.compressed(v)
				}
			}
			got, err := parseMAT(w.file(vars...))
			if err != nil {
				t.Fatal(err)
			}
			ann := got["annotations"]
			if ann == nil || !reflect.DeepEqual(ann.dims, []int{1, 2}) {
				t.Fatalf("annotations: %+v, want a 1x2 struct array", ann)
			}
			var paths []string
			var classes []float64
			for i := range 2 {
				paths = append(paths, ann.structField("relative_im_path")[i].text)
				classes = append(classes, ann.structField("class")[i].nums...)
				if e := ann.structField("empty")[i]; e.count() != 0 {
					t.Errorf("empty field %d: %+v", i, e)
				}
			}
			if want := []string{"car_ims/000001.jpg", "car_ims/000002.jpg"}; !reflect.DeepEqual(paths, want) {
				t.Errorf("paths %q, want %q", paths, want)
			}
			if want := []float64{7, 196}; !reflect.DeepEqual(classes, want) {
				t.Errorf("classes %v, want %v", classes, want)
			}
			var names []string
			for _, c := range got["class_names"].cells {
				names = append(names, c.text)
			}
			if want := []string{"AM General Hummer SUV 2000", "Škoda", ""}; !reflect.DeepEqual(names, want) {
				t.Errorf("class names %q, want %q", names, want)
			}
			for name, want := range map[string][]float64{"d": {1, 2, 250}, "i16": {-300, 12}, "pi": {math.Pi}} {
				if got := got[name].nums; !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
			if got := got["utf8"].text; got != "abc" {
				t.Errorf("utf8 = %q, want abc", got)
			}
		})
	}
}

func (w matWriter) f64s(vs ...float64) []byte {
	b := make([]byte, 8*len(vs))
	for i, v := range vs {
		w.order.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return b
}

func (w matWriter) i16s(vs ...int16) []byte {
	b := make([]byte, 2*len(vs))
	for i, v := range vs {
		w.order.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func TestParseMATErrors(t *testing.T) {
	w := matWriter{binary.LittleEndian}
	good := w.file(w.uint8s("x", 1, 2, 3))
	v73 := bytes.Clone(good)
	binary.LittleEndian.PutUint16(v73[124:], 0x0200)
	noIndicator := bytes.Clone(good)
	copy(noIndicator[126:], "??")
	badZlib := w.file(append(w.u32s(miCOMPRESSED, 4), "junk"...))
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"short", good[:100], "128-byte header"},
		{"v4 or other", noIndicator, "not a level 5 MAT-file"},
		{"v7.3", v73, "HDF5"},
		{"truncated", good[:len(good)-8], "truncated"},
		{"bad zlib", badZlib, "compressed"},
		{"not a matrix", w.file(w.element(miDOUBLE, make([]byte, 8))), "want a matrix"},
		{"sparse", w.file(w.matrix(mxSPARSE_CLASS, []int32{2, 2}, "s")), "class 5 is not supported"},
		{"char matrix", w.file(w.matrix(mxCHAR_CLASS, []int32{2, 2}, "c", w.packed(miUTF8, []byte("abcd")))), "single rows"},
		{"value count", w.file(w.matrix(mxDOUBLE_CLASS, []int32{1, 3}, "d", w.packed(miUINT8, []byte{1, 2}))), "2 values for size [1 3]"},
		{"huge dimensions", w.file(w.matrix(mxCELL_CLASS, []int32{1 << 30, 1 << 30, 1 << 30}, "c")), "impossible in"},
		{"one dimension", w.file(w.matrix(mxDOUBLE_CLASS, []int32{1}, "d", w.packed(miUINT8, []byte{1}))), "want at least 2"},
		{"missing field", w.file(w.structArray("s", []string{"a", "b"}, [][]byte{w.uint8s("", 1)})), "element 0 field b"},
	} {
		_, err := parseMAT(tc.file)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// A damaged file is an error, never a crash: every truncation and every
// single corrupted byte of a small file, plain and compressed.
func TestParseMATDamaged(t *testing.T) {
	w := matWriter{binary.LittleEndian}
	v := w.structArray("s", []string{"name", "n"},
		[][]byte{w.char("", "car_ims/000001.jpg"), w.uint8s("", 7)},
		[][]byte{w.cell("", w.char("", "x")), w.doubleAsBytes("", 1, 2, 3, 4, 5)})
	for _, file := range [][]byte{w.file(v), w.file(w.compressed(v))} {
		if _, err := parseMAT(file); err != nil {
			t.Fatalf("the undamaged file: %v", err)
		}
		for n := range len(file) {
			if n == 128 {
				continue // the header alone is a valid, empty MAT file
			}
			if _, err := parseMAT(file[:n]); err == nil {
				t.Errorf("truncated to %d of %d bytes: no error", n, len(file))
			}
		}
		// Flipped bits may still parse; what matters is that they never crash.
		for i := 128; i < len(file); i++ {
			for _, x := range []byte{0x01, 0x80, 0xff} {
				damaged := bytes.Clone(file)
				damaged[i] ^= x
				parseMAT(damaged)
			}
		}
	}
}
