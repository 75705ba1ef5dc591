package config

import "fmt"

// Change is one difference between two trees.
type Change struct {
	Path     string
	Kind     string // "added", "removed", "changed", or "reordered" for a map whose keys changed order
	Old, New any    // plain values, as Get returns them; nil when absent
	old, new *node
}

func (c Change) String() string {
	switch c.Kind {
	case "added":
		return fmt.Sprintf("%s: added %s", c.Path, flowText(c.new))
	case "removed":
		return fmt.Sprintf("%s: removed (was %s)", c.Path, flowText(c.old))
	}
	return fmt.Sprintf("%s: %s -> %s", c.Path, flowText(c.old), flowText(c.new))
}

// Diff lists what changed from old to new, in tree order: maps are compared
// key by key, other values as a whole (numbers by value, so 1 equals 1.0).
func Diff(old, new *Tree) []Change {
	var out []Change
	diff(old.root, new.root, "", &out)
	return out
}

func diff(a, b *node, path string, out *[]Change) {
	if a.kind != mapNode || b.kind != mapNode {
		if !equal(a, b) {
			*out = append(*out, change(path, "changed", a, b))
		}
		return
	}
	var common []string
	for _, k := range a.keys {
		if b.kids[k] == nil {
			*out = append(*out, change(JoinPath(path, k), "removed", a.kids[k], nil))
			continue
		}
		common = append(common, k)
		diff(a.kids[k], b.kids[k], JoinPath(path, k), out)
	}
	for _, k := range b.keys {
		if a.kids[k] == nil {
			*out = append(*out, change(JoinPath(path, k), "added", nil, b.kids[k]))
		}
	}
	// Order carries meaning (transforms run in order), so a reordering is a change.
	i := 0
	for _, k := range b.keys {
		if a.kids[k] == nil {
			continue
		}
		if common[i] != k {
			*out = append(*out, change(path, "reordered", a, b))
			return
		}
		i++
	}
}

func change(path, kind string, a, b *node) Change {
	c := Change{Path: path, Kind: kind, old: a, new: b}
	if a != nil {
		c.Old = a.plain(path)
	}
	if b != nil {
		c.New = b.plain(path)
	}
	return c
}
