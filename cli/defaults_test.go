package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/bench-ml/bench/internal/config"
)

// intendedOverrides are the values of configs/*/default.yaml that differ
// from their Go default on purpose, by key path, with the reason. The Go
// defaults are PML's and powerful_benchmarker's; the default configs size
// the default experiment for the built-in dataset on a laptop.
var intendedOverrides = map[string]string{
	"dataloader_num_workers":                          "2 goroutines transform a batch on the 2-core laptop the default experiment targets; Go's 0 means one per CPU",
	"dataset.Glyphs.images_per_class":                 "30 images per glyph keep the default experiment a few minutes long",
	"models.embedder.MLP.layer_sizes":                 "a 64-dimensional embedding, as the glyphs need no more",
	"optimizers.trunk_optimizer.Adam.weight_decay":    "powerful_benchmarker's example configs decay the weights; PyTorch's Adam default is 0",
	"optimizers.embedder_optimizer.Adam.weight_decay": "as the trunk's",
	"transforms.train.RandomResizedCrop.scale":        "a glyph cropped to 8% of its area (torchvision's 0.08) is unrecognisable; 70% keeps it",
	"transforms.train.RandomRotation.degrees":         "the default experiment augments with small rotations; Go's 0 (no rotation) is torchvision's required argument made harmless",
}

// TestDefaultConfigsAgreeWithGo: defaults live in the Go definitions of the
// components (and of the top-level keys); configs/*/default.yaml may repeat
// them, so that a user sees them, but not disagree with them, except for
// the intendedOverrides. Each value written in a default file is removed in
// turn and the config resolved again: what the resolver fills in is the Go
// default. A value without a default (a required parameter) makes the
// resolver refuse, naming it.
func TestDefaultConfigsAgreeWithGo(t *testing.T) {
	differing := map[string]bool{}
	for _, cat := range config.Categories {
		file := filepath.Join("..", "configs", cat, "default.yaml")
		text, err := os.ReadFile(file)
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		var written map[string]any
		if err := yaml.Unmarshal(text, &written); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, path := range settings(written, nil) {
			want, _ := lookup(written, path)
			key := strings.Join(path, ".")
			got, hasDefault, err := resolvedWithout(t, cat, written, path)
			switch {
			case err != nil:
				t.Errorf("%s: %s: %v", file, key, err)
			case !hasDefault:
			case !sameValue(want, got):
				differing[key] = true
				if _, ok := intendedOverrides[key]; !ok {
					if isComponent(want) {
						want = onlyKey(want.(map[string]any))
					}
					t.Errorf("%s: %s is %v, its Go default is %v: change one, or add it to intendedOverrides with the reason", file, key, want, got)
				}
			}
		}
	}
	for key := range intendedOverrides {
		if !differing[key] {
			t.Errorf("intendedOverrides lists %s, which no default config sets to other than its Go default", key)
		}
	}
}

// settings lists the key paths of the values a config file writes: every
// parameter (a leaf, or a list), and every component (a one-key map whose
// key is a type name), whose type is a default too.
func settings(m map[string]any, prefix []string) [][]string {
	var out [][]string
	for k, v := range m {
		path := append(slices.Clone(prefix), k)
		sub, isMap := v.(map[string]any)
		switch {
		case !isMap:
			out = append(out, path)
		case slices.Equal(prefix, []string{"transforms"}):
			for typ, params := range sub {
				params, _ := params.(map[string]any)
				out = append(out, settings(params, append(path, typ))...)
			}
		case len(sub) == 1 && isTypeName(onlyKey(sub)):
			out = append(out, path)
			params, _ := sub[onlyKey(sub)].(map[string]any)
			out = append(out, settings(params, append(path, onlyKey(sub)))...)
		default:
			out = append(out, settings(sub, path)...)
		}
	}
	return out
}

func onlyKey(m map[string]any) string {
	for k := range m {
		return k
	}
	return ""
}

func isTypeName(s string) bool { return s != "" && unicode.IsUpper(rune(s[0])) }

func lookup(m map[string]any, path []string) (any, bool) {
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// resolvedWithout resolves the built-in configs with the value at path
// removed from the category's default file, and returns what the resolver
// put there: the Go default (for a component, its type name). hasDefault is
// false when the resolver refuses the config for want of that key, or
// leaves it out.
func resolvedWithout(t *testing.T, cat string, written map[string]any, path []string) (got any, hasDefault bool, err error) {
	edited := deepCopy(written).(map[string]any)
	parent, _ := lookup(edited, path[:len(path)-1])
	delete(parent.(map[string]any), path[len(path)-1])
	text, err := yaml.Marshal(edited)
	if err != nil {
		return nil, false, err
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, cat), 0o755); err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(filepath.Join(root, cat, "default.yaml"), text, 0o644); err != nil {
		return nil, false, err
	}
	stdout, stderr, err := benchStreams(t, "configs", "show", "--root_config_folder", root)
	if err != nil {
		if strings.Contains(err.Error(), path[len(path)-1]) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("resolving without it: %v\n%s", err, stderr)
	}
	resolved := map[string]any{}
	dec := yaml.NewDecoder(strings.NewReader(stdout))
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err == io.EOF {
			break
		} else if err != nil {
			return nil, false, err
		}
		for k, v := range doc {
			resolved[k] = v
		}
	}
	got, ok := lookup(resolved, path)
	if !ok {
		return nil, false, nil
	}
	if w, _ := lookup(written, path); isComponent(w) && isComponent(got) {
		return onlyKey(got.(map[string]any)), true, nil
	}
	return got, true, nil
}

func isComponent(v any) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) == 1 && isTypeName(onlyKey(m))
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// sameValue compares a written value with a resolved one; a component
// compares by its type name, numbers by value (1 and 1.0 are equal).
func sameValue(written, resolved any) bool {
	if isComponent(written) {
		return onlyKey(written.(map[string]any)) == resolved
	}
	if a, ok := config.Number(written); ok {
		b, ok := config.Number(resolved)
		return ok && a == b
	}
	wl, ok := written.([]any)
	if rl, ok2 := resolved.([]any); ok && ok2 && len(wl) == len(rl) {
		for i := range wl {
			if !sameValue(wl[i], rl[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(written, resolved)
}
