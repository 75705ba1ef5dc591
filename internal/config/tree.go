package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Tree is the merged config of an experiment: an ordered tree of maps,
// lists and scalars in which every node remembers the file (and line) or
// command-line flag that last set it, and every top-level key remembers its
// category. Paths are dotted key paths ("optimizers.trunk_optimizer.RMSprop");
// "" is the root.
type Tree struct {
	root     *node
	category map[string]string // top-level key -> category
}

type nodeKind int

const (
	scalarNode nodeKind = iota
	listNode
	mapNode
	searchNode // a search marker: items hold [low, high]
)

// node is one value. Key order is kept because it carries meaning: the
// transforms of a split are applied in file order.
type node struct {
	kind   nodeKind
	value  any      // scalarNode: nil, bool, an integer, float64 or string
	items  []*node  // listNode, searchNode
	keys   []string // mapNode, in order
	kids   map[string]*node
	search string // searchNode: BAYESIAN, LOG_BAYESIAN or INT_BAYESIAN
	source string // file or flag that last set this node
	line   int    // line of its key in source, 0 for flags
}

func newTree() *Tree {
	return &Tree{root: newMap("", 0), category: map[string]string{}}
}

func newMap(source string, line int) *node {
	return &node{kind: mapNode, kids: map[string]*node{}, source: source, line: line}
}

// origin names where the node was set, as "file:line" or the flag.
func (n *node) origin() string {
	if n.line > 0 {
		return fmt.Sprintf("%s:%d", n.source, n.line)
	}
	return n.source
}

// put sets key to v, in place when key exists and last otherwise.
func (n *node) put(key string, v *node) {
	if _, ok := n.kids[key]; !ok {
		n.keys = append(n.keys, key)
	}
	n.kids[key] = v
}

func (n *node) remove(key string) {
	delete(n.kids, key)
	n.keys = deleteString(n.keys, key)
}

// rename changes a key in place, keeping its position and value.
func (n *node) rename(old, new string) {
	for i, k := range n.keys {
		if k == old {
			n.keys[i] = new
		}
	}
	n.kids[new] = n.kids[old]
	delete(n.kids, old)
}

func deleteString(list []string, s string) []string {
	out := list[:0]
	for _, e := range list {
		if e != s {
			out = append(out, e)
		}
	}
	return out
}

func (n *node) isNull() bool { return n.kind == scalarNode && n.value == nil }

// describe names the value for messages.
func (n *node) describe() string {
	switch n.kind {
	case mapNode:
		return "a map"
	case listNode:
		return "a list"
	case searchNode:
		return "a ~" + n.search + "~ search range"
	}
	if n.value == nil {
		return "null"
	}
	return describe(n.value)
}

func splitPath(path string) []string {
	if path == "" {
		return nil
	}
	return strings.Split(path, ".")
}

// lookup returns the node at path and the deepest node found on the way.
func (t *Tree) lookup(path string) (n, deepest *node) {
	n = t.root
	for _, k := range splitPath(path) {
		if n.kind != mapNode || n.kids[k] == nil {
			return nil, n
		}
		n = n.kids[k]
	}
	return n, n
}

// Get returns the value at path as plain Go values: map[string]any, []any,
// nil, bool, int, float64, string, or Search for a search marker. Use Keys
// for the order of a map.
func (t *Tree) Get(path string) (any, bool) {
	n, _ := t.lookup(path)
	if n == nil {
		return nil, false
	}
	return n.plain(path), true
}

func (n *node) plain(path string) any {
	switch n.kind {
	case mapNode:
		m := make(map[string]any, len(n.keys))
		for _, k := range n.keys {
			m[k] = n.kids[k].plain(JoinPath(path, k))
		}
		return m
	case listNode:
		l := make([]any, len(n.items))
		for i, e := range n.items {
			l[i] = e.plain(fmt.Sprintf("%s[%d]", path, i))
		}
		return l
	case searchNode:
		lo, _ := Number(n.items[0].value)
		hi, _ := Number(n.items[1].value)
		return Search{Path: path, Kind: n.search, Low: lo, High: hi, Source: n.origin()}
	}
	return n.value
}

// Keys lists the keys of the map at path in order, or nil if there is no map.
func (t *Tree) Keys(path string) []string {
	n, _ := t.lookup(path)
	if n == nil || n.kind != mapNode {
		return nil
	}
	return append([]string(nil), n.keys...)
}

// Source names the file, as "file:line", or the flag that last set path or,
// when path does not exist, its longest existing prefix; "" if none does.
func (t *Tree) Source(path string) string {
	_, deepest := t.lookup(path)
	return deepest.origin()
}

// Category is the category (config_general, ...) of a top-level key, or "".
func (t *Tree) Category(top string) string { return t.category[top] }

// SearchSpace lists the search markers left in the tree, in tree order. A
// plain run must have none.
func (t *Tree) SearchSpace() []Search {
	var out []Search
	var walk func(n *node, path string)
	walk = func(n *node, path string) {
		switch n.kind {
		case searchNode:
			out = append(out, n.plain(path).(Search))
		case mapNode:
			for _, k := range n.keys {
				walk(n.kids[k], JoinPath(path, k))
			}
		case listNode:
			for i, e := range n.items {
				walk(e, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(t.root, "")
	return out
}

// Set writes v (plain Go values, as Get returns them) at path, for resolved
// defaults. A map is merged into an existing map at path, keeping its key
// order and adding new keys in sorted order; other values replace the old
// value. Only nodes whose value changes take source. Missing or null maps on
// the way are created; the top-level key must exist (see SetTop).
func (t *Tree) Set(path string, v any, source string) error {
	keys := splitPath(path)
	if len(keys) > 0 && t.root.kids[keys[0]] == nil {
		return &Error{Source: source, Path: path, Msg: fmt.Sprintf("no top-level key %q; add it with SetTop", keys[0])}
	}
	nv, err := fromPlain(v, source)
	if err != nil {
		return &Error{Source: source, Path: path, Err: err}
	}
	if len(keys) == 0 {
		if nv.kind != mapNode {
			return &Error{Source: source, Msg: "the root of the config must be a map"}
		}
		for _, k := range nv.keys {
			if t.root.kids[k] == nil {
				return &Error{Source: source, Path: k, Msg: fmt.Sprintf("no top-level key %q; add it with SetTop", k)}
			}
		}
		setInto(t.root, nv)
		return nil
	}
	parent := t.root
	for i, k := range keys[:len(keys)-1] {
		child := parent.kids[k]
		switch {
		case child == nil:
			child = newMap(source, 0)
			parent.put(k, child)
		case child.isNull():
			child = newMap(child.source, child.line) // as in setKey
			parent.put(k, child)
		case child.kind != mapNode:
			return &Error{Source: source, Path: path, Msg: fmt.Sprintf("%s is %s, not a map", strings.Join(keys[:i+1], "."), child.describe())}
		}
		parent = child
	}
	setKey(parent, keys[len(keys)-1], nv)
	return nil
}

// SetTop is Set for a top-level key that may not exist yet, such as a
// default the config files leave out; category is where YAML writes it,
// for a key that exists too.
func (t *Tree) SetTop(category, key string, v any, source string) error {
	if !contains(Categories, category) {
		return &Error{Source: source, Path: key, Msg: fmt.Sprintf("unknown category %q; known: %s", category, strings.Join(Categories, ", "))}
	}
	nv, err := fromPlain(v, source)
	if err != nil {
		return &Error{Source: source, Path: key, Err: err}
	}
	setKey(t.root, key, nv)
	t.category[key] = category
	return nil
}

func setKey(parent *node, key string, v *node) {
	old := parent.kids[key]
	switch {
	case old != nil && old.kind == mapNode && v.kind == mapNode:
		setInto(old, v)
	case old != nil && old.isNull() && v.kind == mapNode:
		// null meant "all defaults": the map of defaults is still the file's
		v.source, v.line = old.source, old.line
		parent.put(key, v)
	case old == nil || !equal(old, v):
		parent.put(key, v)
	}
}

func setInto(dst, src *node) {
	for _, k := range src.keys {
		setKey(dst, k, src.kids[k])
	}
}

// fromPlain converts plain Go values to nodes; map keys are sorted, as a Go
// map has no order.
func fromPlain(v any, source string) (*node, error) {
	switch x := v.(type) {
	case nil, bool, string, int, int64, uint64, float64:
		return &node{kind: scalarNode, value: x, source: source}, nil
	case Search:
		return &node{kind: searchNode, search: x.Kind, source: source, items: []*node{
			{kind: scalarNode, value: x.Low, source: source},
			{kind: scalarNode, value: x.High, source: source}}}, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32:
		return &node{kind: scalarNode, value: int(rv.Int()), source: source}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return &node{kind: scalarNode, value: int(rv.Uint()), source: source}, nil
	case reflect.Float32:
		return &node{kind: scalarNode, value: rv.Float(), source: source}, nil
	case reflect.Slice, reflect.Array:
		n := &node{kind: listNode, source: source, items: []*node{}}
		for i := 0; i < rv.Len(); i++ {
			e, err := fromPlain(rv.Index(i).Interface(), source)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, e)
		}
		return n, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		vals := map[string]any{}
		for it := rv.MapRange(); it.Next(); {
			vals[it.Key().String()] = it.Value().Interface()
		}
		keys := make([]string, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		n := newMap(source, 0)
		for _, k := range keys {
			e, err := fromPlain(vals[k], source)
			if err != nil {
				return nil, err
			}
			n.put(k, e)
		}
		return n, nil
	}
	return nil, fmt.Errorf("cannot store a %T in a config", v)
}

// equal compares values; numbers compare by value, so 1 equals 1.0.
func equal(a, b *node) bool {
	if a.kind != b.kind || len(a.items) != len(b.items) || len(a.keys) != len(b.keys) || a.search != b.search {
		return false
	}
	for i := range a.items {
		if !equal(a.items[i], b.items[i]) {
			return false
		}
	}
	for i, k := range a.keys {
		if b.keys[i] != k || !equal(a.kids[k], b.kids[k]) {
			return false
		}
	}
	if fa, ok := Number(a.value); ok {
		fb, ok := Number(b.value)
		return ok && fa == fb
	}
	return a.value == b.value
}
