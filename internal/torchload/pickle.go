package torchload

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
)

// The pickle machine below runs the opcodes torch.save emits and nothing
// that calls into Python: a GLOBAL is resolved against a fixed table of
// the few functions and classes a state dict needs (tensor rebuilders,
// storage types, OrderedDict), and any other global is an error before
// anything could be called. Values are plain Go values: nil, bool, int64,
// float64, string, []byte, tuple, *list, *dict, global, storage, *Tensor.

type tuple []any

type list struct{ items []any }

// dict keeps insertion order, as Python's dict and OrderedDict do.
type dict struct {
	keys   []any
	values map[any]any
}

func newDict() *dict { return &dict{values: map[any]any{}} }

func (d *dict) set(k, v any) error {
	switch k.(type) {
	case string, int64, bool, nil, float64:
	default:
		return fmt.Errorf("unsupported dict key of type %T", k)
	}
	if _, ok := d.values[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.values[k] = v
	return nil
}

// global is an allowed module.name.
type global struct{ module, name string }

func (g global) String() string { return g.module + "." + g.name }

// allowed lists the globals a state dict uses. Storage classes are only
// ever arguments of a persistent id; the others are called by REDUCE.
var allowed = map[string]bool{
	"collections.OrderedDict":          true,
	"torch._utils._rebuild_tensor":     true,
	"torch._utils._rebuild_tensor_v2":  true,
	"torch._utils._rebuild_parameter":  true,
	"torch.FloatStorage":               true,
	"torch.DoubleStorage":              true,
	"torch.HalfStorage":                true,
	"torch.BFloat16Storage":            true,
	"torch.LongStorage":                true,
	"torch.IntStorage":                 true,
	"torch.ShortStorage":               true,
	"torch.CharStorage":                true,
	"torch.ByteStorage":                true,
	"torch.BoolStorage":                true,
	"torch._utils._rebuild_qtensor":    false, // listed to say so: quantised tensors are refused
	"torch._utils._rebuild_sparse_csr": false,
}

// ErrRefused marks a pickle that asks for a global outside the allowed set.
var ErrRefused = errors.New("refused")

type machine struct {
	data  []byte
	pos   int
	stack []any
	marks []int
	memo  map[int64]any
	// persistent resolves a persistent id (torch's storage references).
	persistent func(pid any) (any, error)
}

func (m *machine) read(n int) ([]byte, error) {
	if n < 0 || n > len(m.data)-m.pos {
		return nil, fmt.Errorf("truncated at byte %d", m.pos)
	}
	b := m.data[m.pos : m.pos+n]
	m.pos += n
	return b, nil
}

func (m *machine) readLine() (string, error) {
	i := strings.IndexByte(string(m.data[m.pos:]), '\n')
	if i < 0 {
		return "", fmt.Errorf("truncated at byte %d", m.pos)
	}
	s := string(m.data[m.pos : m.pos+i])
	m.pos += i + 1
	return s, nil
}

func (m *machine) uint(n int) (uint64, error) {
	b, err := m.read(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

func (m *machine) push(v any) { m.stack = append(m.stack, v) }

func (m *machine) pop() (any, error) {
	if len(m.stack) == 0 || (len(m.marks) > 0 && len(m.stack) <= m.marks[len(m.marks)-1]) {
		return nil, fmt.Errorf("stack underflow at byte %d", m.pos)
	}
	v := m.stack[len(m.stack)-1]
	m.stack = m.stack[:len(m.stack)-1]
	return v, nil
}

func (m *machine) top() (any, error) {
	if len(m.stack) == 0 {
		return nil, fmt.Errorf("stack underflow at byte %d", m.pos)
	}
	return m.stack[len(m.stack)-1], nil
}

// popMark returns the items above the last MARK and removes them and it.
func (m *machine) popMark() ([]any, error) {
	if len(m.marks) == 0 {
		return nil, fmt.Errorf("no MARK at byte %d", m.pos)
	}
	k := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	items := append([]any(nil), m.stack[k:]...)
	m.stack = m.stack[:k]
	return items, nil
}

// unpickle runs one pickle from data and returns its value and the number
// of bytes it took.
func unpickle(data []byte, persistent func(any) (any, error)) (any, int, error) {
	m := &machine{data: data, memo: map[int64]any{}, persistent: persistent}
	v, err := m.run()
	if err != nil {
		return nil, 0, fmt.Errorf("pickle: %w", err)
	}
	return v, m.pos, nil
}

func (m *machine) run() (any, error) {
	for {
		b, err := m.read(1)
		if err != nil {
			return nil, err
		}
		op := b[0]
		switch op {
		case 0x80: // PROTO
			if _, err := m.read(1); err != nil {
				return nil, err
			}
		case 0x95: // FRAME: a length hint
			if _, err := m.read(8); err != nil {
				return nil, err
			}
		case '.': // STOP
			return m.pop()
		case '(': // MARK
			m.marks = append(m.marks, len(m.stack))
		case '}':
			m.push(newDict())
		case ']':
			m.push(&list{})
		case ')':
			m.push(tuple{})
		case 'N':
			m.push(nil)
		case 0x88:
			m.push(true)
		case 0x89:
			m.push(false)
		case 'K', 'M': // BININT1, BININT2
			n := 1
			if op == 'M' {
				n = 2
			}
			v, err := m.uint(n)
			if err != nil {
				return nil, err
			}
			m.push(int64(v))
		case 'J': // BININT
			v, err := m.uint(4)
			if err != nil {
				return nil, err
			}
			m.push(int64(int32(uint32(v))))
		case 0x8a, 0x8b: // LONG1, LONG4
			size := 1
			if op == 0x8b {
				size = 4
			}
			n, err := m.uint(size)
			if err != nil {
				return nil, err
			}
			b, err := m.read(int(min(n, math.MaxInt32)))
			if err != nil {
				return nil, err
			}
			m.push(long(b))
		case 'G': // BINFLOAT, big-endian
			b, err := m.read(8)
			if err != nil {
				return nil, err
			}
			m.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
		case 'X', 0x8c, 0x8d, 'T', 'U', 'B', 'C', 0x8e: // strings and bytes
			if err := m.pushString(op); err != nil {
				return nil, err
			}
		case 'q', 'r': // BINPUT, LONG_BINPUT
			n := 1
			if op == 'r' {
				n = 4
			}
			k, err := m.uint(n)
			if err != nil {
				return nil, err
			}
			v, err := m.top()
			if err != nil {
				return nil, err
			}
			m.memo[int64(k)] = v
		case 0x94: // MEMOIZE
			v, err := m.top()
			if err != nil {
				return nil, err
			}
			m.memo[int64(len(m.memo))] = v
		case 'h', 'j': // BINGET, LONG_BINGET
			n := 1
			if op == 'j' {
				n = 4
			}
			k, err := m.uint(n)
			if err != nil {
				return nil, err
			}
			v, ok := m.memo[int64(k)]
			if !ok {
				return nil, fmt.Errorf("memo key %d not set", k)
			}
			m.push(v)
		case '0': // POP
			if _, err := m.pop(); err != nil {
				return nil, err
			}
		case '1': // POP_MARK
			if _, err := m.popMark(); err != nil {
				return nil, err
			}
		case '2': // DUP
			v, err := m.top()
			if err != nil {
				return nil, err
			}
			m.push(v)
		case 't':
			items, err := m.popMark()
			if err != nil {
				return nil, err
			}
			m.push(tuple(items))
		case 0x85, 0x86, 0x87: // TUPLE1..3
			n := int(op - 0x84)
			if len(m.stack) < n {
				return nil, fmt.Errorf("stack underflow at byte %d", m.pos)
			}
			items := append(tuple(nil), m.stack[len(m.stack)-n:]...)
			m.stack = m.stack[:len(m.stack)-n]
			m.push(items)
		case 'a', 'e': // APPEND, APPENDS
			if err := m.appendItems(op == 'e'); err != nil {
				return nil, err
			}
		case 's', 'u': // SETITEM, SETITEMS
			if err := m.setItems(op == 'u'); err != nil {
				return nil, err
			}
		case 'c': // GLOBAL
			module, err := m.readLine()
			if err != nil {
				return nil, err
			}
			name, err := m.readLine()
			if err != nil {
				return nil, err
			}
			g, err := resolve(module, name)
			if err != nil {
				return nil, err
			}
			m.push(g)
		case 0x93: // STACK_GLOBAL
			name, err1 := m.pop()
			module, err2 := m.pop()
			if err := errors.Join(err1, err2); err != nil {
				return nil, err
			}
			ms, ok1 := module.(string)
			ns, ok2 := name.(string)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("STACK_GLOBAL of non-strings at byte %d", m.pos)
			}
			g, err := resolve(ms, ns)
			if err != nil {
				return nil, err
			}
			m.push(g)
		case 'Q': // BINPERSID
			pid, err := m.pop()
			if err != nil {
				return nil, err
			}
			if m.persistent == nil {
				return nil, fmt.Errorf("persistent id without storages at byte %d", m.pos)
			}
			v, err := m.persistent(pid)
			if err != nil {
				return nil, err
			}
			m.push(v)
		case 'R': // REDUCE
			args, err1 := m.pop()
			fn, err2 := m.pop()
			if err := errors.Join(err1, err2); err != nil {
				return nil, err
			}
			t, ok := args.(tuple)
			if !ok {
				return nil, fmt.Errorf("REDUCE with arguments of type %T at byte %d", args, m.pos)
			}
			v, err := call(fn, t)
			if err != nil {
				return nil, err
			}
			m.push(v)
		case 'b': // BUILD: the state of an OrderedDict (its _metadata) is not needed
			if _, err := m.pop(); err != nil {
				return nil, err
			}
			if _, err := m.top(); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unsupported opcode 0x%02x at byte %d", op, m.pos-1)
		}
	}
}

func (m *machine) pushString(op byte) error {
	var size int
	switch op {
	case 0x8c, 'U', 'C':
		size = 1
	case 'X', 'T', 'B':
		size = 4
	default:
		size = 8
	}
	n, err := m.uint(size)
	if err != nil {
		return err
	}
	if n > uint64(len(m.data)) {
		return fmt.Errorf("truncated at byte %d", m.pos)
	}
	b, err := m.read(int(n))
	if err != nil {
		return err
	}
	if op == 'B' || op == 'C' || op == 0x8e {
		m.push(append([]byte(nil), b...))
	} else {
		m.push(string(b))
	}
	return nil
}

// popItems pops what APPENDS/SETITEMS (many) take, the items above the
// mark, or what APPEND/SETITEM take, the top n items, in stack order.
func (m *machine) popItems(many bool, n int) ([]any, error) {
	if many {
		return m.popMark()
	}
	items := make([]any, n)
	for i := n - 1; i >= 0; i-- {
		v, err := m.pop()
		if err != nil {
			return nil, err
		}
		items[i] = v
	}
	return items, nil
}

func (m *machine) appendItems(many bool) error {
	items, err := m.popItems(many, 1)
	if err != nil {
		return err
	}
	top, err := m.top()
	if err != nil {
		return err
	}
	l, ok := top.(*list)
	if !ok {
		return fmt.Errorf("APPEND to a %T at byte %d", top, m.pos)
	}
	l.items = append(l.items, items...)
	return nil
}

func (m *machine) setItems(many bool) error {
	items, err := m.popItems(many, 2)
	if err != nil {
		return err
	}
	if len(items)%2 != 0 {
		return fmt.Errorf("SETITEMS with an odd number of items at byte %d", m.pos)
	}
	top, err := m.top()
	if err != nil {
		return err
	}
	d, ok := top.(*dict)
	if !ok {
		return fmt.Errorf("SETITEM on a %T at byte %d", top, m.pos)
	}
	for i := 0; i < len(items); i += 2 {
		if err := d.set(items[i], items[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// long decodes a little-endian two's complement integer; one that does not
// fit in int64 stays a *big.Int (only torch's legacy magic number is one).
func long(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		shift := 64 - 8*uint(len(b))
		return int64(v<<shift) >> shift
	}
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	v := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return v
}

func resolve(module, name string) (global, error) {
	g := global{module, name}
	if !allowed[g.String()] {
		return g, fmt.Errorf("%w: the file asks for the Python global %s; only tensors and (ordered) dicts are loaded, nothing is executed", ErrRefused, g)
	}
	return g, nil
}

// call applies an allowed global to its arguments.
func call(fn any, args tuple) (any, error) {
	g, ok := fn.(global)
	if !ok {
		return nil, fmt.Errorf("REDUCE on a %T, not a global", fn)
	}
	switch g.String() {
	case "collections.OrderedDict":
		if len(args) != 0 {
			return nil, errors.New("OrderedDict with arguments")
		}
		return newDict(), nil
	case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2":
		return rebuildTensor(args)
	case "torch._utils._rebuild_parameter":
		if len(args) < 1 {
			return nil, errors.New("_rebuild_parameter without data")
		}
		t, ok := args[0].(*Tensor)
		if !ok {
			return nil, fmt.Errorf("_rebuild_parameter of a %T", args[0])
		}
		return t, nil
	}
	return nil, fmt.Errorf("%w: calling %s", ErrRefused, g)
}
