package data

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"unicode/utf16"
)

// A minimal reader of MATLAB level 5 MAT-files (the format of MATLAB v5 to
// v7.2, and of scipy.io.savemat), written for Cars196's cars_annos.mat
// because no maintained pure-Go reader covers struct and cell arrays.
// It reads, in either byte order:
//   - numeric arrays of any class, real part only, as float64 (so int64
//     values beyond 2^53 are rounded), logical arrays as 0/1;
//   - char arrays that are a single row (or empty), as a string;
//   - cell arrays and struct arrays, nested to any depth;
//   - zlib-compressed elements (miCOMPRESSED, the v7 default) and the small
//     data element format.
// It does not read v7.3 files (HDF5), v4 files, complex parts (they are
// skipped), multi-row char arrays, sparse arrays, objects or function
// handles: those are errors.

// Data element types of the MAT-file format.
const (
	miINT8       = 1
	miUINT8      = 2
	miINT16      = 3
	miUINT16     = 4
	miINT32      = 5
	miUINT32     = 6
	miSINGLE     = 7
	miDOUBLE     = 9
	miINT64      = 12
	miUINT64     = 13
	miMATRIX     = 14
	miCOMPRESSED = 15
	miUTF8       = 16
	miUTF16      = 17
	miUTF32      = 18
)

// Array classes (mxClassID) of a miMATRIX element.
const (
	mxCELL_CLASS   = 1
	mxSTRUCT_CLASS = 2
	mxCHAR_CLASS   = 4
	mxDOUBLE_CLASS = 6
	mxUINT64_CLASS = 15
)

// matArray is one MATLAB array; which field is set depends on its class.
type matArray struct {
	dims   []int
	nums   []float64              // numeric and logical arrays
	text   string                 // char arrays
	cells  []*matArray            // cell arrays, column-major
	fields map[string][]*matArray // struct arrays: per field, one value per element
}

// count is the number of elements.
func (a *matArray) count() int {
	n := 1
	for _, d := range a.dims {
		n *= d
	}
	return n
}

// structField is the values of a field of a struct array, nil if a is not
// a struct array or has no such field.
func (a *matArray) structField(name string) []*matArray {
	if a == nil {
		return nil
	}
	return a.fields[name]
}

// readMATFile reads every variable of a level 5 MAT-file, by name. Errors
// name the file.
func readMATFile(path string) (map[string]*matArray, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	vars, err := parseMAT(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vars, nil
}

func parseMAT(b []byte) (map[string]*matArray, error) {
	const headerLen = 128
	if len(b) < headerLen {
		return nil, errors.New("not a level 5 MAT-file: shorter than its 128-byte header")
	}
	var m matParser
	switch string(b[126:128]) {
	case "IM":
		m.order = binary.LittleEndian
	case "MI":
		m.order = binary.BigEndian
	default:
		return nil, errors.New("not a level 5 MAT-file (v4 files are not supported)")
	}
	if v := m.order.Uint16(b[124:126]); v != 0x0100 {
		return nil, fmt.Errorf("MAT-file version %#x is not supported (v7.3 files are HDF5: save with -v7)", v)
	}
	vars := map[string]*matArray{}
	rest := b[headerLen:]
	for len(rest) > 0 {
		typ, data, next, err := m.element(rest)
		if err != nil {
			return nil, err
		}
		rest = next
		if typ == miCOMPRESSED {
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				return nil, fmt.Errorf("compressed variable: %w", err)
			}
			inflated, err := io.ReadAll(zr)
			if err != nil {
				return nil, fmt.Errorf("compressed variable: %w", err)
			}
			if typ, data, _, err = m.element(inflated); err != nil {
				return nil, fmt.Errorf("compressed variable: %w", err)
			}
		}
		if typ != miMATRIX {
			return nil, fmt.Errorf("top-level element of type %d, want a matrix (14)", typ)
		}
		name, a, err := m.matrix(data)
		if err != nil {
			return nil, fmt.Errorf("variable %q: %w", name, err)
		}
		vars[name] = a
	}
	return vars, nil
}

type matParser struct{ order binary.ByteOrder }

// element splits the data element at the start of b into its type, its
// data, and the bytes after it (elements are padded to 8 bytes, except
// compressed ones and the last of a file).
func (m matParser) element(b []byte) (typ uint32, data, rest []byte, err error) {
	if len(b) < 8 {
		return 0, nil, nil, fmt.Errorf("truncated element: %d bytes left", len(b))
	}
	tag := m.order.Uint32(b)
	if size := tag >> 16; size != 0 { // small element: size, type and data in 8 bytes
		if size > 4 {
			return 0, nil, nil, fmt.Errorf("small element of %d bytes, at most 4 fit", size)
		}
		return tag & 0xffff, b[4 : 4+size], b[8:], nil
	}
	size := uint64(m.order.Uint32(b[4:]))
	if size > uint64(len(b)-8) {
		return 0, nil, nil, fmt.Errorf("truncated element of type %d: %d bytes, %d left", tag, size, len(b)-8)
	}
	end := 8 + size
	if tag != miCOMPRESSED {
		end = min((end+7)&^7, uint64(len(b)))
	}
	return tag, b[8 : 8+size], b[end:], nil
}

// next reads the next element of data, which must be of one of the types.
func (m matParser) next(data *[]byte, what string, types ...uint32) (uint32, []byte, error) {
	typ, body, rest, err := m.element(*data)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", what, err)
	}
	for _, t := range types {
		if typ == t {
			*data = rest
			return typ, body, nil
		}
	}
	return 0, nil, fmt.Errorf("%s: element of type %d, want one of %v", what, typ, types)
}

// matrix decodes the body of a miMATRIX element: array flags, dimensions,
// name, then the class's data. An empty body is an empty array.
func (m matParser) matrix(data []byte) (string, *matArray, error) {
	if len(data) == 0 {
		return "", &matArray{dims: []int{0, 0}}, nil
	}
	_, flags, err := m.next(&data, "array flags", miUINT32)
	if err != nil {
		return "", nil, err
	}
	if len(flags) < 4 {
		return "", nil, errors.New("array flags: too short")
	}
	class := m.order.Uint32(flags) & 0xff
	typ, dimData, err := m.next(&data, "dimensions", miINT32)
	if err != nil {
		return "", nil, err
	}
	a := &matArray{}
	n := 1
	for _, d := range m.numbers(typ, dimData) {
		// Every element takes at least a byte: this bounds what a corrupt
		// file can make the reader allocate, and keeps count from overflowing.
		if d < 0 || d != 0 && n > len(data)/int(d) {
			return "", nil, fmt.Errorf("dimensions %v: impossible in %d bytes", m.numbers(typ, dimData), len(data))
		}
		a.dims = append(a.dims, int(d))
		n *= int(d)
	}
	if len(a.dims) < 2 {
		return "", nil, fmt.Errorf("dimensions %v: want at least 2", a.dims)
	}
	_, name, err := m.next(&data, "array name", miINT8, miUINT8)
	if err != nil {
		return "", nil, err
	}
	switch {
	case class == mxCELL_CLASS:
		err = m.cells(data, a)
	case class == mxSTRUCT_CLASS:
		err = m.structFields(data, a)
	case class == mxCHAR_CLASS:
		err = m.chars(data, a)
	case class >= mxDOUBLE_CLASS && class <= mxUINT64_CLASS:
		err = m.numeric(data, a)
	default:
		err = fmt.Errorf("array class %d is not supported (sparse, object or function handle)", class)
	}
	return string(name), a, err
}

// cells reads one miMATRIX element per cell.
func (m matParser) cells(data []byte, a *matArray) error {
	a.cells = make([]*matArray, a.count())
	for i := range a.cells {
		_, body, err := m.next(&data, fmt.Sprintf("cell %d", i), miMATRIX)
		if err != nil {
			return err
		}
		if _, a.cells[i], err = m.matrix(body); err != nil {
			return fmt.Errorf("cell %d: %w", i, err)
		}
	}
	return nil
}

// structFields reads the field name length, the field names (NUL-padded to
// that length), then one miMATRIX element per field of each element.
func (m matParser) structFields(data []byte, a *matArray) error {
	typ, lenData, err := m.next(&data, "field name length", miINT32)
	if err != nil {
		return err
	}
	nameLen := m.numbers(typ, lenData)
	if len(nameLen) != 1 || nameLen[0] < 1 {
		return fmt.Errorf("field name length %v", nameLen)
	}
	_, nameData, err := m.next(&data, "field names", miINT8, miUINT8)
	if err != nil {
		return err
	}
	width := int(nameLen[0])
	if len(nameData)%width != 0 {
		return fmt.Errorf("field names: %d bytes, not a multiple of %d", len(nameData), width)
	}
	names := make([]string, len(nameData)/width)
	for i := range names {
		names[i] = string(bytes.TrimRight(nameData[i*width:(i+1)*width], "\x00"))
	}
	n := a.count()
	a.fields = make(map[string][]*matArray, len(names))
	for _, name := range names {
		a.fields[name] = make([]*matArray, n)
	}
	for i := range n {
		for _, name := range names {
			what := fmt.Sprintf("element %d field %s", i, name)
			_, body, err := m.next(&data, what, miMATRIX)
			if err != nil {
				return err
			}
			if _, a.fields[name][i], err = m.matrix(body); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
	}
	return nil
}

// chars reads a row of characters stored as UTF-8 (or ASCII) bytes,
// UTF-16 or UTF-32 code units.
func (m matParser) chars(data []byte, a *matArray) error {
	if a.count() == 0 {
		return nil
	}
	if a.dims[0] != 1 || len(a.dims) != 2 {
		return fmt.Errorf("char array of size %v: only single rows are supported", a.dims)
	}
	typ, body, err := m.next(&data, "characters", miINT8, miUINT8, miUTF8, miUINT16, miUTF16, miINT32, miUINT32, miUTF32)
	if err != nil {
		return err
	}
	switch typ {
	case miINT8, miUINT8, miUTF8:
		a.text = string(body)
	case miUINT16, miUTF16:
		units := make([]uint16, len(body)/2)
		for i := range units {
			units[i] = m.order.Uint16(body[2*i:])
		}
		a.text = string(utf16.Decode(units))
	default:
		runes := make([]rune, len(body)/4)
		for i := range runes {
			runes[i] = rune(m.order.Uint32(body[4*i:]))
		}
		a.text = string(runes)
	}
	return nil
}

// numeric reads the real part; the element type may be narrower than the
// array's class (MATLAB stores small integers of a double array as bytes).
func (m matParser) numeric(data []byte, a *matArray) error {
	if a.count() == 0 && len(data) == 0 {
		return nil
	}
	typ, body, err := m.next(&data, "real part",
		miINT8, miUINT8, miINT16, miUINT16, miINT32, miUINT32, miSINGLE, miDOUBLE, miINT64, miUINT64)
	if err != nil {
		return err
	}
	a.nums = m.numbers(typ, body)
	if len(a.nums) != a.count() {
		return fmt.Errorf("real part: %d values for size %v", len(a.nums), a.dims)
	}
	return nil
}

// numberSize is the byte size of each numeric element type.
var numberSize = [...]int{miINT8: 1, miUINT8: 1, miINT16: 2, miUINT16: 2, miINT32: 4, miUINT32: 4,
	miSINGLE: 4, miDOUBLE: 8, miINT64: 8, miUINT64: 8}

// numbers converts the body of a numeric element to float64; a trailing
// partial value is ignored.
func (m matParser) numbers(typ uint32, b []byte) []float64 {
	if int(typ) >= len(numberSize) || numberSize[typ] == 0 {
		return nil
	}
	size := numberSize[typ]
	out := make([]float64, len(b)/size)
	for i := range out {
		v := b[i*size:]
		switch typ {
		case miINT8:
			out[i] = float64(int8(v[0]))
		case miUINT8:
			out[i] = float64(v[0])
		case miINT16:
			out[i] = float64(int16(m.order.Uint16(v)))
		case miUINT16:
			out[i] = float64(m.order.Uint16(v))
		case miINT32:
			out[i] = float64(int32(m.order.Uint32(v)))
		case miUINT32:
			out[i] = float64(m.order.Uint32(v))
		case miSINGLE:
			out[i] = float64(math.Float32frombits(m.order.Uint32(v)))
		case miDOUBLE:
			out[i] = math.Float64frombits(m.order.Uint64(v))
		case miINT64:
			out[i] = float64(int64(m.order.Uint64(v)))
		case miUINT64:
			out[i] = float64(m.order.Uint64(v))
		}
	}
	return out
}
