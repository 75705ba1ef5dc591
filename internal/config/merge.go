package config

import (
	"errors"
	"fmt"
	"strings"
)

// Merging takes a raw tree (a file or flag value as parsed: keys may carry
// special suffixes, every node knows its source and line) into a clean tree
// (no suffixes). Maps merge key by key, everything else is replaced; raw
// nodes are always copied, never shared, because ~APPLY~ merges one value
// into many places.

// mergeMap merges the raw map src into the clean map dst at path.
func mergeMap(dst, src *node, path string) error {
	dst.source, dst.line = src.source, src.line
	for _, k := range src.keys {
		if err := mergeKey(dst, k, src.kids[k], path); err != nil {
			return err
		}
	}
	return nil
}

// clean returns a suffix-free copy of a raw value: the value merged into
// nothing.
func clean(v *node, path string) (*node, error) {
	switch v.kind {
	case mapNode:
		m := newMap(v.source, v.line)
		return m, mergeMap(m, v, path)
	case listNode:
		l := *v
		l.items = make([]*node, len(v.items))
		for i, e := range v.items {
			c, err := clean(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			l.items[i] = c
		}
		return &l, nil
	}
	c := *v
	return &c, nil
}

// mergeKey merges one raw entry (rawKey: v) into the clean map dst at path.
func mergeKey(dst *node, rawKey string, v *node, path string) error {
	fail := func(format string, args ...any) error {
		return &Error{Source: v.origin(), Path: JoinPath(path, rawKey), Msg: fmt.Sprintf(format, args...)}
	}
	s, err := parseKey(rawKey)
	if err != nil {
		return fail("%v", err)
	}
	p := JoinPath(path, s.name)
	cur := dst.kids[s.name]
	switch s.op {
	case opMerge, opOverride:
		if s.op == opMerge && cur != nil && cur.kind == mapNode && v.kind == mapNode {
			return mergeMap(cur, v, p)
		}
		c, err := clean(v, p)
		if err != nil {
			return err
		}
		dst.put(s.name, c)
	case opDelete:
		if cur == nil {
			return fail("there is no %q to delete here; keys: %s%s", s.name, keyList(dst.keys), didYouMean(s.name, dst.keys))
		}
		dst.remove(s.name)
	case opSearch:
		if _, _, err := checkSearch(s.kind, v); err != nil {
			return fail("%v", err)
		}
		c, err := clean(v, p)
		if err != nil {
			return err
		}
		c.kind, c.search = searchNode, s.kind
		dst.put(s.name, c)
	case opApply, opSwap:
		word := map[op]string{opApply: "APPLY", opSwap: "SWAP"}[s.op]
		switch {
		case cur == nil:
			return fail("~%s~ needs an existing %q, set by a file merged before this one; keys here: %s%s",
				word, s.name, keyList(dst.keys), didYouMean(s.name, dst.keys))
		case cur.kind != mapNode:
			return fail("~%s~ needs a map at %s, but it is %s", word, p, cur.describe())
		case v.kind != mapNode:
			return fail("~%s~ wants a map, got %s", word, v.describe())
		}
		if s.op == opApply {
			err = apply(cur, v, p, s.depth)
		} else {
			err = swap(cur, v, p, s.depth)
		}
		var cerr *Error
		if errors.As(err, &cerr) {
			return err // from merging v, already naming its key
		}
		if err != nil {
			return fail("%v", err)
		}
	}
	return nil
}

// mapsAt calls fn on every map depth-1 levels below m (m itself for depth
// 1), that is on the maps holding the keys depth levels below m's key.
func mapsAt(m *node, path string, depth int, fn func(m *node, path string) error) error {
	if depth == 1 {
		return fn(m, path)
	}
	for _, k := range m.keys {
		if c := m.kids[k]; c.kind == mapNode {
			if err := mapsAt(c, JoinPath(path, k), depth-1, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// apply merges the raw map v into every map depth levels down from path,
// counting as powerful_benchmarker does (easy-module-attribute-getter's
// apply_to_dict): the value of path itself is level 1, so
// optimizers~APPLY~3 reaches optimizers.trunk_optimizer.Adam. A null there
// (a component with all defaults) becomes v.
func apply(m, v *node, path string, depth int) error {
	if depth == 1 {
		return mergeMap(m, v, path)
	}
	targets := 0
	err := mapsAt(m, path, depth-1, func(parent *node, ppath string) error {
		for _, k := range parent.keys {
			targets++
			kpath, target := JoinPath(ppath, k), parent.kids[k]
			switch {
			case target.kind == mapNode:
				if err := mergeMap(target, v, kpath); err != nil {
					return err
				}
			case target.isNull():
				c, err := clean(v, kpath)
				if err != nil {
					return err
				}
				parent.put(k, c)
			default:
				return fmt.Errorf("%s is %s, not a map; ~APPLY~%d merges into the maps at level %d of %s (its value is level 1)",
					kpath, target.describe(), depth, depth, path)
			}
		}
		return nil
	})
	if err == nil && targets == 0 {
		err = fmt.Errorf("there is nothing at level %d of %s to apply to (its value is level 1)", depth, path)
	}
	return err
}

// swap renames keys depth levels below path. Each entry of v is either
// {Old: New}, renaming Old wherever it is, or {New: null} (or {New: {}}),
// renaming the only key of each map there to New.
func swap(m, v *node, path string, depth int) error {
	for _, from := range v.keys {
		to := v.kids[from]
		var err error
		switch {
		case to.isNull() || (to.kind == mapNode && len(to.keys) == 0):
			err = swapOnly(m, path, depth, from, to)
		case to.kind == scalarNode && to.value != "":
			name, ok := to.value.(string)
			if !ok {
				return fmt.Errorf("~SWAP~ of %q wants a new key name, got %s", from, to.describe())
			}
			err = swapNamed(m, path, depth, from, name, to)
		default:
			return fmt.Errorf("~SWAP~ of %q wants a new key name, or null to rename the only key there, got %s", from, to.describe())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func swapOnly(m *node, path string, depth int, name string, src *node) error {
	found := false
	err := mapsAt(m, path, depth, func(parent *node, ppath string) error {
		found = true
		switch {
		case parent.kids[name] != nil:
			return nil // already named so
		case len(parent.keys) != 1:
			return fmt.Errorf("%s has %d keys (%s), so ~SWAP~ cannot tell which to rename to %s; write {OldName: %s}",
				ppath, len(parent.keys), keyList(parent.keys), name, name)
		}
		renamed(parent, parent.keys[0], name, src)
		return nil
	})
	if err == nil && !found {
		err = fmt.Errorf("there are no keys %d levels below %s to swap", depth, path)
	}
	return err
}

func swapNamed(m *node, path string, depth int, from, to string, src *node) error {
	found := false
	var seen []string
	err := mapsAt(m, path, depth, func(parent *node, ppath string) error {
		for _, k := range parent.keys {
			if !contains(seen, k) {
				seen = append(seen, k)
			}
		}
		if parent.kids[from] == nil {
			return nil
		}
		if parent.kids[to] != nil {
			return fmt.Errorf("cannot rename %s to %s: %s already exists", JoinPath(ppath, from), to, JoinPath(ppath, to))
		}
		found = true
		renamed(parent, from, to, src)
		return nil
	})
	if err == nil && !found {
		err = fmt.Errorf("no key %q %d levels below %s to swap; keys there: %s%s", from, depth, path, keyList(seen), didYouMean(from, seen))
	}
	return err
}

// renamed renames a key; the swap is now what last set it.
func renamed(parent *node, from, to string, src *node) {
	parent.rename(from, to)
	parent.kids[to].source, parent.kids[to].line = src.source, src.line
}

func keyList(keys []string) string {
	if len(keys) == 0 {
		return "(none)"
	}
	return strings.Join(keys, ", ")
}
