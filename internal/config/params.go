package config

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Params decodes the parameter map of one component ({TypeName: params}).
// Each getter records the value it returns (the user's, or the default) so
// that Resolved() is the fully resolved parameter map that is saved with the
// experiment, and Err() reports the first bad value or any key no getter
// asked for. Constructors therefore never handle errors themselves: they read
// every parameter, and the registry checks Err() afterwards.
type Params struct {
	where    string                   // key path of this component, for messages, e.g. "loss_funcs.metric_loss.TripletMarginLoss"
	sourceOf func(path string) string // file or flag that set a key path
	raw      map[string]any
	resolved map[string]any
	used     map[string]bool
	children []*Params
	err      error
	moved    map[string]string // key -> the key path it was written at, see Move
}

// NewParams wraps a raw parameter map. where is the key path of the
// component and source names the file or flag that set it.
func NewParams(raw map[string]any, where, source string) *Params {
	return NewParamsFunc(raw, where, func(string) string { return source })
}

// NewParamsFunc is NewParams for a map whose keys come from different files
// or flags, such as the top level of the merged config: sourceOf maps a key
// path to its origin.
func NewParamsFunc(raw map[string]any, where string, sourceOf func(path string) string) *Params {
	if raw == nil {
		raw = map[string]any{}
	}
	return &Params{where: where, sourceOf: sourceOf, raw: raw, resolved: map[string]any{}, used: map[string]bool{}}
}

// Where is the key path of the component, for messages from constructors.
func (p *Params) Where() string { return p.where }

// Source names the file or flag that set key.
func (p *Params) Source(key string) string { return p.sourceOf(p.path(key)) }

// Move makes key read the value written at another key path of the config,
// for a setting that may be written in two places (a top-level key, or a
// parameter of a component): messages then name where it was written.
func (p *Params) Move(key, path string, value any) {
	if p.moved == nil {
		p.moved = map[string]string{}
	}
	p.moved[key] = path
	p.raw[key] = value
}

// path is the key path of key in the config.
func (p *Params) path(key string) string {
	if m, ok := p.moved[key]; ok {
		return m
	}
	return JoinPath(p.where, key)
}

// Fail records an error about key (the first one wins), for checks that span
// several parameters.
func (p *Params) Fail(key, format string, args ...any) {
	if p.err == nil {
		p.err = &Error{Source: p.Source(key), Path: p.path(key), Msg: fmt.Sprintf(format, args...)}
	}
}

func (p *Params) lookup(key string) (any, bool) {
	p.used[key] = true
	v, ok := p.raw[key]
	if ok && v == nil {
		ok = false // "key:" with no value means the default, as in PML configs
	}
	return v, ok
}

// Check validates a numeric parameter; it returns "" when v is fine and
// otherwise what is allowed.
type Check func(v float64) string

// Min requires v >= lo.
func Min(lo float64) Check {
	return func(v float64) string {
		if v < lo {
			return fmt.Sprintf("must be >= %v", lo)
		}
		return ""
	}
}

// Max requires v <= hi.
func Max(hi float64) Check {
	return func(v float64) string {
		if v > hi {
			return fmt.Sprintf("must be <= %v", hi)
		}
		return ""
	}
}

// Above requires v > lo.
func Above(lo float64) Check {
	return func(v float64) string {
		if v <= lo {
			return fmt.Sprintf("must be > %v", lo)
		}
		return ""
	}
}

// Below requires v < hi.
func Below(hi float64) Check {
	return func(v float64) string {
		if v >= hi {
			return fmt.Sprintf("must be < %v", hi)
		}
		return ""
	}
}

func (p *Params) check(key string, v float64, checks []Check) {
	for _, c := range checks {
		if msg := c(v); msg != "" {
			p.Fail(key, "%v is out of range: %s", v, msg)
			return
		}
	}
}

// Float returns a float parameter (integers are accepted).
func (p *Params) Float(key string, def float64, checks ...Check) float64 {
	v := def
	if raw, ok := p.lookup(key); ok {
		f, ok := Number(raw)
		if !ok {
			p.Fail(key, "want a number, got %s", describe(raw))
		} else {
			v = f
		}
	}
	p.check(key, v, checks)
	p.resolved[key] = v
	return v
}

// FloatOrPair returns a parameter written as one number or as a pair of
// numbers, a list or a string of two numbers as powerful_benchmarker writes
// them (torchvision's ColorJitter: `brightness: 0.4` or `[0.6, 1.4]` or
// `0.6 1.4`); isPair says which. The checks apply to every number.
func (p *Params) FloatOrPair(key string, def float64, checks ...Check) (v float64, pair [2]float64, isPair bool) {
	raw, ok := p.lookup(key)
	if _, isNum := Number(raw); !ok || isNum {
		return p.Float(key, def, checks...), pair, false
	}
	list := p.Floats(key, nil, checks...)
	if len(list) != 2 {
		p.Fail(key, "want a number or a pair of numbers [min, max], got %d numbers", len(list))
		return def, pair, false
	}
	return 0, [2]float64{list[0], list[1]}, true
}

// OptFloat returns a float parameter that may be absent (nil = absent), as
// PML's "high=None" style parameters.
func (p *Params) OptFloat(key string, checks ...Check) *float64 {
	raw, ok := p.lookup(key)
	if !ok {
		p.resolved[key] = nil
		return nil
	}
	f, ok := Number(raw)
	if !ok {
		p.Fail(key, "want a number or null, got %s", describe(raw))
		return nil
	}
	p.check(key, f, checks)
	p.resolved[key] = f
	return &f
}

// NullableInt returns an integer parameter for which null means "none"
// (nil), as powerful_benchmarker's `patience: null`; an absent key is def.
func (p *Params) NullableInt(key string, def int, checks ...Check) *int {
	if raw, written := p.raw[key]; written && raw == nil {
		p.used[key] = true
		p.resolved[key] = nil
		return nil
	}
	v := p.Int(key, def, checks...)
	return &v
}

// Int returns an integer parameter.
func (p *Params) Int(key string, def int, checks ...Check) int {
	v := def
	if raw, ok := p.lookup(key); ok {
		f, ok := Number(raw)
		if !ok || f != math.Trunc(f) {
			p.Fail(key, "want an integer, got %s", describe(raw))
		} else {
			v = int(f)
		}
	}
	p.check(key, float64(v), checks)
	p.resolved[key] = v
	return v
}

// CountOr returns a parameter that is either a positive integer or the word
// (PML's triplets_per_anchor: 5 or "all"); the word, also the default, gives 0.
func (p *Params) CountOr(key, word string) int {
	v, ok := p.lookup(key)
	if !ok || v == word {
		p.resolved[key] = word
		return 0
	}
	f, isNum := Number(v)
	if !isNum || f != math.Trunc(f) || f < 1 {
		p.Fail(key, "want a positive integer or %q, got %s", word, describe(v))
		return 0
	}
	p.resolved[key] = int(f)
	return int(f)
}

// Bool returns a boolean parameter.
func (p *Params) Bool(key string, def bool) bool {
	v := def
	if raw, ok := p.lookup(key); ok {
		b, ok := raw.(bool)
		if !ok {
			p.Fail(key, "want true or false, got %s", describe(raw))
		} else {
			v = b
		}
	}
	p.resolved[key] = v
	return v
}

// String returns a string parameter; when allowed is non-empty the value must
// be one of them.
func (p *Params) String(key, def string, allowed ...string) string {
	v := def
	if raw, ok := p.lookup(key); ok {
		s, ok := raw.(string)
		if !ok {
			p.Fail(key, "want a string, got %s", describe(raw))
		} else {
			v = s
		}
	}
	if len(allowed) > 0 && !contains(allowed, v) {
		p.Fail(key, "%q is not allowed; allowed: %s%s", v, strings.Join(allowed, ", "), didYouMean(v, allowed))
	}
	p.resolved[key] = v
	return v
}

// StringOrBool is String for a parameter that may also be written as a
// boolean, as torchvision's `pretrained: True` in powerful_benchmarker's
// configs: true reads as ifTrue, false as "" (none).
func (p *Params) StringOrBool(key, def, ifTrue string) string {
	if raw, ok := p.lookup(key); ok {
		if b, isBool := raw.(bool); isBool {
			v := ""
			if b {
				v = ifTrue
			}
			p.resolved[key] = v
			return v
		}
	}
	return p.String(key, def)
}

// Strings returns a list of strings; when allowed is non-empty each must be
// one of them.
func (p *Params) Strings(key string, def []string, allowed ...string) []string {
	v := def
	if raw, ok := p.lookup(key); ok {
		list, ok := raw.([]any)
		if !ok {
			p.Fail(key, "want a list of strings, got %s", describe(raw))
		} else {
			v = make([]string, len(list))
			for i, e := range list {
				s, ok := e.(string)
				if !ok {
					p.Fail(fmt.Sprintf("%s[%d]", key, i), "want a string, got %s", describe(e))
				}
				v[i] = s
			}
		}
	}
	out := make([]any, len(v))
	for i, s := range v {
		if len(allowed) > 0 && !contains(allowed, s) {
			p.Fail(key, "%q is not allowed; allowed: %s%s", s, strings.Join(allowed, ", "), didYouMean(s, allowed))
		}
		out[i] = s
	}
	p.resolved[key] = out
	return v
}

// Floats returns a list of numbers. A string of numbers separated by
// spaces is a list too, as powerful_benchmarker writes transform parameters
// (`scale: 0.16 1`).
func (p *Params) Floats(key string, def []float64, checks ...Check) []float64 {
	v := def
	if raw, ok := p.lookup(key); ok {
		if s, isString := raw.(string); isString {
			raw = spaceSeparated(s)
		}
		list, ok := raw.([]any)
		if !ok {
			p.Fail(key, "want a list of numbers, got %s", describe(raw))
		} else {
			v = make([]float64, len(list))
			for i, e := range list {
				f, ok := Number(e)
				if !ok {
					p.Fail(fmt.Sprintf("%s[%d]", key, i), "want a number, got %s", describe(e))
				}
				v[i] = f
			}
		}
	}
	for _, f := range v {
		p.check(key, f, checks)
	}
	out := make([]any, len(v))
	for i, f := range v {
		out[i] = f
	}
	p.resolved[key] = out
	return v
}

// spaceSeparated reads "0.16 1" as a list of numbers; a string with any
// other word stays itself, for the caller's error.
func spaceSeparated(s string) any {
	var out []any
	for _, w := range strings.Fields(s) {
		f, err := strconv.ParseFloat(w, 64)
		if err != nil {
			return s
		}
		out = append(out, f)
	}
	return out
}

// Has reports whether key is written in the map, even as null. Settings
// that only powerful_benchmarker's configs write are read when present, so
// that bench's own resolved configs do not grow them.
func (p *Params) Has(key string) bool {
	_, ok := p.raw[key]
	return ok
}

// Known marks keys as allowed without reading them, for parameters read
// only when written (see Has): a misspelt one's error then lists them.
func (p *Params) Known(keys ...string) {
	for _, k := range keys {
		p.used[k] = true
	}
}

// Written returns the value of key as written (nil when absent), to choose
// the getter of a parameter written in several forms (a number, a word or a
// list); the getter then reads and records it.
func (p *Params) Written(key string) any { return p.raw[key] }

// EmptyMap reports whether key is written as an empty map, which
// powerful_benchmarker writes for "no such component" (`sampler: {}`).
func (p *Params) EmptyMap(key string) bool {
	m, ok := p.raw[key].(map[string]any)
	return ok && len(m) == 0
}

// Null reads a key whose only allowed value is null (or absent), such as
// powerful_benchmarker's `pca: null`; why explains other values.
func (p *Params) Null(key, why string) {
	if v, ok := p.lookup(key); ok {
		p.Fail(key, "only null is supported, got %s: %s", describe(v), why)
	}
	p.resolved[key] = nil
}

// Ints returns a list of integers.
func (p *Params) Ints(key string, def []int, checks ...Check) []int {
	fdef := make([]float64, len(def))
	for i, d := range def {
		fdef[i] = float64(d)
	}
	fs := p.Floats(key, fdef, checks...)
	v := make([]int, len(fs))
	out := make([]any, len(fs))
	for i, f := range fs {
		if f != math.Trunc(f) {
			p.Fail(key, "want a list of integers, got %v", f)
		}
		v[i] = int(f)
		out[i] = v[i]
	}
	p.resolved[key] = out
	return v
}

// Component returns a nested component parameter such as a loss's distance:
// `distance: {CosineSimilarity: {}}`. def is used when the key is absent.
// The caller builds it with the matching registry; its resolved form is
// recorded by Resolve.
func (p *Params) Component(key string, def Component) Component {
	c := def
	if raw, ok := p.lookup(key); ok {
		got, err := ParseComponent(raw, p.path(key), p.Source(key))
		if err != nil {
			if p.err == nil {
				p.err = err
			}
		} else {
			c = got
		}
	}
	p.resolved[key] = map[string]any{c.Type: c.Params}
	return c
}

// Map returns the Params of a map-valued key, such as `models` holding the
// trunk and embedder components. Its errors and unknown keys are reported by
// the parent's Err.
func (p *Params) Map(key string) *Params {
	var raw map[string]any
	if v, ok := p.lookup(key); ok {
		if m, isMap := v.(map[string]any); isMap {
			raw = m
		} else {
			p.Fail(key, "want a map, got %s", describe(v))
		}
	}
	child := NewParamsFunc(raw, p.path(key), p.sourceOf)
	p.children = append(p.children, child)
	p.resolved[key] = child.resolved
	return child
}

// Keys lists the keys present in the raw map, sorted, for maps whose keys
// are names chosen by the user (loss_funcs: {metric_loss: ...}).
func (p *Params) Keys() []string {
	keys := make([]string, 0, len(p.raw))
	for k := range p.raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Resolve records the resolved form of a nested component built by the caller.
func (p *Params) Resolve(key string, resolved map[string]any) { p.resolved[key] = resolved }

// Err returns the first error, or an error naming any parameter that no
// getter asked for (with a did-you-mean).
func (p *Params) Err() error {
	if p.err != nil {
		return p.err
	}
	for _, c := range p.children {
		if err := c.Err(); err != nil {
			return err
		}
	}
	var unknown []string
	for k := range p.raw {
		if !p.used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	known := make([]string, 0, len(p.used))
	for k := range p.used {
		known = append(known, k)
	}
	sort.Strings(known)
	allowed := strings.Join(known, ", ")
	if allowed == "" {
		allowed = "(none)"
	}
	return &Error{Source: p.Source(unknown[0]), Path: p.path(unknown[0]),
		Msg: fmt.Sprintf("unknown parameter; allowed: %s%s", allowed, didYouMean(unknown[0], known))}
}

// Resolved is the parameter map with every default filled in.
func (p *Params) Resolved() map[string]any { return p.resolved }

// JoinPath joins the parts of a dotted key path, leaving out empty ones:
// JoinPath("", "models", "trunk") is "models.trunk".
func JoinPath(parts ...string) string {
	var path string
	for _, part := range parts {
		switch {
		case part == "":
		case path == "":
			path = part
		default:
			path += "." + part
		}
	}
	return path
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// Number reads a config value as a finite number.
func Number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		// NaN and Inf are no hyperparameter: they pass every range check
		// or poison every number they touch.
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case float32:
		return Number(float64(x))
	}
	return 0, false
}

func describe(v any) string {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprintf("%v (not finite)", x)
		}
	case string:
		return fmt.Sprintf("%q", x)
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%v", v)
}
