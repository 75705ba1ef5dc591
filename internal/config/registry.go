package config

import (
	"fmt"
	"sort"
	"strings"
)

// Component is a configured component: the one-key map {TypeName: params}.
type Component struct {
	Type   string
	Params map[string]any
	Where  string // key path of the component in the merged tree
	Source string // file or flag that set it
}

// C is shorthand for a component literal used as a default.
func C(typ string, params map[string]any) Component { return Component{Type: typ, Params: params} }

// ParseComponent reads a one-key map {TypeName: params}. params may be null
// or an empty map, meaning all defaults.
func ParseComponent(raw any, where, source string) (Component, error) {
	m, ok := raw.(map[string]any)
	if ok && len(m) > 1 {
		// The usual cause: a later file or flag named another type, and
		// maps merge. Replacing a type takes ~OVERRIDE~.
		types := make([]string, 0, len(m))
		for t := range m {
			types = append(types, t)
		}
		sort.Strings(types)
		return Component{}, &Error{Source: source, Path: where,
			Msg: fmt.Sprintf("a component has one type, this has %d (%s); to replace a type write %s~OVERRIDE~",
				len(m), strings.Join(types, ", "), where[strings.LastIndex(where, ".")+1:])}
	}
	if !ok || len(m) != 1 {
		return Component{}, &Error{Source: source, Path: where,
			Msg: fmt.Sprintf("want a component written as {TypeName: {param: value}}, got %s", describe(raw))}
	}
	for typ, params := range m {
		if params == nil {
			return Component{Type: typ, Params: map[string]any{}, Where: where, Source: source}, nil
		}
		pm, ok := params.(map[string]any)
		if !ok {
			return Component{}, &Error{Source: source, Path: JoinPath(where, typ),
				Msg: fmt.Sprintf("want a map of parameters, got %s", describe(params))}
		}
		return Component{Type: typ, Params: pm, Where: where, Source: source}, nil
	}
	panic("unreachable")
}

// Registry maps the config names of one kind of component (losses, miners,
// optimisers, ...) to constructors. A constructor reads its parameters from
// Params; the registry turns any problem into one error naming the key.
type Registry[T any] struct {
	kind  string
	ctors map[string]func(*Params) T
}

// NewRegistry makes an empty registry; kind names the component kind in
// messages ("loss", "miner", ...).
func NewRegistry[T any](kind string) *Registry[T] {
	return &Registry[T]{kind: kind, ctors: map[string]func(*Params) T{}}
}

// Register adds a constructor under its config name. It panics on a
// duplicate, which is a programming error caught by any test.
func (r *Registry[T]) Register(name string, ctor func(*Params) T) {
	if _, dup := r.ctors[name]; dup {
		panic(fmt.Sprintf("config: %s %q registered twice", r.kind, name))
	}
	r.ctors[name] = ctor
}

// Names lists the registered names, sorted.
func (r *Registry[T]) Names() []string {
	names := make([]string, 0, len(r.ctors))
	for n := range r.ctors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Has reports whether name is registered.
func (r *Registry[T]) Has(name string) bool { _, ok := r.ctors[name]; return ok }

// Build constructs the component and returns it with its fully resolved
// parameters (defaults filled in).
func (r *Registry[T]) Build(c Component) (T, map[string]any, error) {
	var zero T
	ctor, ok := r.ctors[c.Type]
	if !ok {
		names := r.Names()
		return zero, nil, &Error{Source: c.Source, Path: JoinPath(c.Where, c.Type),
			Msg: fmt.Sprintf("unknown %s %q; allowed: %s%s", r.kind, c.Type, strings.Join(names, ", "), didYouMean(c.Type, names))}
	}
	p := NewParams(c.Params, JoinPath(c.Where, c.Type), c.Source)
	v := ctor(p)
	if err := p.Err(); err != nil {
		return zero, nil, err
	}
	return v, map[string]any{c.Type: p.Resolved()}, nil
}

// BuildNested builds a nested component parameter (a loss's distance, say)
// with another registry and records its resolved form in the parent.
func BuildNested[T any](p *Params, r *Registry[T], key string, def Component) T {
	c := p.Component(key, def)
	if c.Where == "" {
		c.Where, c.Source = JoinPath(p.where, key), p.Source(key)
	}
	v, resolved, err := r.Build(c)
	if err != nil {
		if p.err == nil {
			p.err = err
		}
		return v
	}
	p.Resolve(key, resolved)
	return v
}

// BuildOrdered validates a map of components applied in order, such as the
// transforms of a split ({Resize: {...}, CenterCrop: {...}}), and returns
// them resolved. order is the map's key order from the Tree, since a Go map
// has none.
func BuildOrdered[T any](p *Params, r *Registry[T], key string, order []string) []Component {
	m := p.Map(key)
	var out []Component
	for _, typ := range order {
		raw, _ := m.lookup(typ)
		params, ok := raw.(map[string]any)
		if raw != nil && !ok {
			m.Fail(typ, "want a map of parameters, got %s", describe(raw))
			continue
		}
		c := Component{Type: typ, Params: params, Where: m.where, Source: m.Source(typ)}
		_, resolved, err := r.Build(c)
		if err != nil {
			if m.err == nil {
				m.err = err
			}
			continue
		}
		c.Params = resolved[typ].(map[string]any)
		m.resolved[typ] = c.Params
		out = append(out, c)
	}
	return out
}

// Built is a component decoded once: its typed value and its resolved
// config (type, parameters with defaults, where it was set), which names it
// in messages and records. Every fold uses the one value: through Instance,
// which gives a value that keeps state (Stateful) as a fresh copy per fold.
type Built[T any] struct {
	Component
	Value T
}

// BuildComponent builds the nested component under key, as BuildNested, and
// returns it with its resolved config.
func BuildComponent[T any](p *Params, r *Registry[T], key string, def Component) Built[T] {
	b := Built[T]{Component: def, Value: BuildNested(p, r, key, def)}
	resolved, _ := p.resolved[key].(map[string]any)
	for typ, params := range resolved {
		m, _ := params.(map[string]any)
		b.Component = Component{Type: typ, Params: m, Where: JoinPath(p.where, key), Source: p.Source(key)}
	}
	return b
}

// Stateful is a decoded component that keeps state while it is used (a
// loss's learnt weights, a miner's random stream), so that each user (a
// fold) needs its own. Fresh returns an independent copy in the state the
// constructor left it in; the parameters are not read again.
type Stateful[T any] interface {
	Fresh() T
}

// Instance returns v for one user: v's Fresh copy when v is Stateful, else v
// itself, which holds parameters only and is shared.
func Instance[T any](v T) T {
	if s, ok := any(v).(Stateful[T]); ok {
		return s.Fresh()
	}
	return v
}
