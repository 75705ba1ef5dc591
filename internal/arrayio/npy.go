package arrayio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// decodeNPY parses a .npy file (format versions 1 to 3) of any real or
// integer dtype and any number of dimensions, returning its header and its
// values in file order. Everything the header claims is checked against the
// file before anything is allocated: a header length past the end, a shape
// whose values the file does not hold (a truncated file, or a tiny file
// claiming 3e8 rows).
func decodeNPY(b []byte) (npyHeader, []float64, error) {
	const magic = "\x93NUMPY"
	if len(b) < len(magic)+2 || string(b[:len(magic)]) != magic {
		return npyHeader{}, nil, errors.New("not a .npy file (no \\x93NUMPY magic)")
	}
	major := b[len(magic)]
	rest := b[len(magic)+2:]
	var hlen uint64
	switch major {
	case 1:
		if len(rest) < 2 {
			return npyHeader{}, nil, errors.New("truncated .npy header")
		}
		hlen, rest = uint64(binary.LittleEndian.Uint16(rest)), rest[2:]
	case 2, 3:
		if len(rest) < 4 {
			return npyHeader{}, nil, errors.New("truncated .npy header")
		}
		hlen, rest = uint64(binary.LittleEndian.Uint32(rest)), rest[4:]
	default:
		return npyHeader{}, nil, fmt.Errorf(".npy format version %d, want 1, 2 or 3", major)
	}
	if hlen > uint64(len(rest)) {
		return npyHeader{}, nil, fmt.Errorf(".npy header length %d runs past the end of the file (%d bytes)", hlen, len(b))
	}
	h, err := parseNPYHeader(string(rest[:hlen]))
	if err != nil {
		return npyHeader{}, nil, err
	}
	data := rest[hlen:]
	n, overflow := uint64(1), false
	for _, d := range h.shape {
		var hi uint64
		hi, n = bits.Mul64(n, uint64(d))
		overflow = overflow || hi != 0
	}
	hi, size := bits.Mul64(n, uint64(h.size))
	if overflow || hi != 0 || size != uint64(len(data)) {
		return npyHeader{}, nil, fmt.Errorf("the header declares shape %v of %s (%d values), the file holds %d bytes of data", h.shape, h.descr, n, len(data))
	}
	values := make([]float64, n)
	for i := range values {
		values[i] = h.decode(h.order, data[i*h.size:])
	}
	return h, values, nil
}

// readNPY reads a 1-D (one column) or 2-D .npy array as a row-major matrix.
func readNPY(b []byte) (matrix, error) {
	h, data, err := decodeNPY(b)
	if err != nil {
		return matrix{}, err
	}
	m := matrix{data: data, float32: h.descr[1:] == "f4"}
	switch len(h.shape) {
	case 1:
		m.rows, m.cols = h.shape[0], 1
	case 2:
		m.rows, m.cols = h.shape[0], h.shape[1]
	default:
		return matrix{}, fmt.Errorf("array of shape %v, want 1 or 2 dimensions", h.shape)
	}
	if h.fortran && m.rows > 1 && m.cols > 1 {
		t := make([]float64, len(m.data))
		for j := range m.cols {
			for i := range m.rows {
				t[i*m.cols+j] = m.data[j*m.rows+i]
			}
		}
		m.data = t
	}
	return m, nil
}

// npyHeader is what readNPY needs of a .npy header.
type npyHeader struct {
	descr   string
	fortran bool
	shape   []int
	size    int // bytes per value
	order   binary.ByteOrder
	decode  func(order binary.ByteOrder, b []byte) float64
}

// parseNPYHeader parses the header, a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }, its keys in
// any order, as numpy reads it.
func parseNPYHeader(s string) (npyHeader, error) {
	p := &pyLexer{s: s}
	var h npyHeader
	seen := map[string]bool{}
	fail := func(format string, args ...any) (npyHeader, error) {
		return h, fmt.Errorf(".npy header: "+format, args...)
	}
	if !p.take("{") {
		return fail("want a dict")
	}
	for !p.take("}") {
		key, err := p.str()
		if err != nil {
			return fail("%v", err)
		}
		if seen[key] {
			return fail("key %q twice", key)
		}
		seen[key] = true
		if !p.take(":") {
			return fail("want : after %q", key)
		}
		switch key {
		case "descr":
			h.descr, err = p.str()
		case "fortran_order":
			h.fortran, err = p.boolean()
		case "shape":
			h.shape, err = p.tuple()
		default:
			return fail("unknown key %q", key)
		}
		if err != nil {
			return fail("%s: %v", key, err)
		}
		if !p.take(",") && !p.peek("}") {
			return fail("want , or }")
		}
	}
	if len(seen) != 3 {
		return fail("want the keys descr, fortran_order and shape")
	}
	if strings.TrimSpace(p.s[p.i:]) != "" {
		return fail("text after the dict")
	}
	return h, h.dtype()
}

// dtype sets the value size and decoder of the header's descr.
func (h *npyHeader) dtype() error {
	d := h.descr
	if len(d) < 3 {
		return fmt.Errorf("unsupported dtype %q, want a real or integer type", d)
	}
	h.order = binary.ByteOrder(binary.LittleEndian)
	switch d[0] {
	case '>':
		h.order = binary.BigEndian
	case '<', '|', '=':
	default:
		return fmt.Errorf("unsupported dtype %q", d)
	}
	kind := d[1]
	size, err := strconv.Atoi(d[2:])
	if err != nil {
		return fmt.Errorf("unsupported dtype %q", d)
	}
	h.size = size
	switch {
	case kind == 'f' && size == 4:
		h.decode = func(o binary.ByteOrder, b []byte) float64 { return float64(math.Float32frombits(o.Uint32(b))) }
	case kind == 'f' && size == 8:
		h.decode = func(o binary.ByteOrder, b []byte) float64 { return math.Float64frombits(o.Uint64(b)) }
	case kind == 'i' && size == 1:
		h.decode = func(_ binary.ByteOrder, b []byte) float64 { return float64(int8(b[0])) }
	case kind == 'i' && size == 2:
		h.decode = func(o binary.ByteOrder, b []byte) float64 { return float64(int16(o.Uint16(b))) }
	case kind == 'i' && size == 4:
		h.decode = func(o binary.ByteOrder, b []byte) float64 { return float64(int32(o.Uint32(b))) }
	case kind == 'i' && size == 8:
		h.decode = func(o binary.ByteOrder, b []byte) float64 { return float64(int64(o.Uint64(b))) }
	case kind == 'u' && size == 1:
		h.decode = func(_ binary.ByteOrder, b []byte) float64 { return float64(b[0]) }
	case kind == 'u' && size == 2:
		h.decode = func(o binary.ByteOrder, b []byte) float64 { return float64(o.Uint16(b)) }
	case kind == 'u' && size == 4:
		h.decode = func(o binary.ByteOrder, b []byte) float64 { return float64(o.Uint32(b)) }
	case kind == 'u' && size == 8:
		h.decode = func(o binary.ByteOrder, b []byte) float64 { return float64(o.Uint64(b)) }
	default:
		return fmt.Errorf("unsupported dtype %q, want a real or integer type", d)
	}
	return nil
}

// pyLexer reads the few Python literals of a .npy header.
type pyLexer struct {
	s string
	i int
}

func (p *pyLexer) skip() {
	for p.i < len(p.s) && strings.IndexByte(" \t\n\r", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyLexer) peek(tok string) bool {
	p.skip()
	return strings.HasPrefix(p.s[p.i:], tok)
}

func (p *pyLexer) take(tok string) bool {
	if p.peek(tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *pyLexer) str() (string, error) {
	p.skip()
	if p.i >= len(p.s) || p.s[p.i] != '\'' && p.s[p.i] != '"' {
		return "", errors.New("want a string")
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, nil
}

func (p *pyLexer) boolean() (bool, error) {
	switch {
	case p.take("True"):
		return true, nil
	case p.take("False"):
		return false, nil
	}
	return false, errors.New("want True or False")
}

// tuple reads a tuple of non-negative ints: (), (3,), (3, 4).
func (p *pyLexer) tuple() ([]int, error) {
	if !p.take("(") {
		return nil, errors.New("want a tuple")
	}
	out := []int{}
	for !p.take(")") {
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(p.s[p.i:j])
		if err != nil || n < 0 {
			return nil, errors.New("want non-negative integers")
		}
		out = append(out, n)
		p.i = j
		if !p.take(",") && !p.peek(")") {
			return nil, errors.New("want , or )")
		}
	}
	return out, nil
}
