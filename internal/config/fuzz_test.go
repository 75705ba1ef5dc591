package config

import "testing"

// FuzzLoadYAML merges two config files into one tree, as Load does, and
// prints the result: no input may panic or expand without bound.
func FuzzLoadYAML(f *testing.F) {
	f.Fuzz(func(t *testing.T, a, b []byte) {
		tree := newTree()
		if err := tree.mergeFile("a.yaml", a, "config_general"); err != nil {
			return
		}
		if err := tree.mergeFile("b.yaml", b, "config_general"); err != nil {
			return
		}
		for _, c := range Categories {
			tree.YAML(c)
		}
	})
}
