package config

import (
	"encoding/json"
	"maps"
	"slices"
)

// Flat is the config as one value per leaf, keyed by its dotted path
// (optimizers.trunk_optimizer.Adam.lr): what a database row or TensorBoard's
// HParams tab can hold. Scalars keep their type (bool, int, float64,
// string, nil); a list is its JSON text, and an empty map is "{}" so that
// a component without parameters still shows.
func (t *Tree) Flat() map[string]any {
	out := map[string]any{}
	root, _ := t.Get("")
	flatten(out, "", root)
	return out
}

func flatten(out map[string]any, path string, v any) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 && path != "" {
			out[path] = "{}"
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			flatten(out, JoinPath(path, k), v[k])
		}
	case []any:
		b, _ := json.Marshal(v) // plain values: it cannot fail
		out[path] = string(b)
	default:
		out[path] = v
	}
}
