package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// load merges config files given as category/name -> YAML text.
func load(t *testing.T, files map[string]string) *config.Tree {
	t.Helper()
	root := t.TempDir()
	for _, c := range config.Categories {
		if err := os.MkdirAll(filepath.Join(root, c), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, c, "default.yaml"), []byte(files[c]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tree, err := config.Load(root, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// Config files with only what has no default (the optimisers) give a
// complete config: every key resolved to its default, each saved in its own
// category, and the resolved config decodes to itself.
func TestDecodeResolvesEveryDefault(t *testing.T) {
	tree := load(t, map[string]string{
		"config_optimizers": "optimizers: {trunk_optimizer: {Adam: {}}, embedder_optimizer: {SGD: {}}}\n"})
	if _, err := Decode(tree); err != nil {
		t.Fatal(err)
	}
	for key, cat := range categoryOf {
		if _, ok := tree.Get(key); !ok {
			continue // a trainer-specific key, such as models.generator, is absent by default
		}
		if got := tree.Category(key); got != cat {
			t.Errorf("%s saved in %q, want %q", key, got, cat)
		}
	}
	var first []string
	for _, c := range config.Categories {
		text, err := tree.YAML(c)
		if err != nil {
			t.Fatal(err)
		}
		first = append(first, string(text))
	}
	files := map[string]string{}
	for i, c := range config.Categories {
		files[c] = first[i]
	}
	again := load(t, files)
	if _, err := Decode(again); err != nil {
		t.Fatalf("the resolved config does not decode: %v", err)
	}
	for i, c := range config.Categories {
		text, _ := again.YAML(c)
		if string(text) != first[i] {
			t.Errorf("%s changed when decoded again:\n%s\nvs\n%s", c, text, first[i])
		}
	}
}

func TestDecodeRefusesSearchRanges(t *testing.T) {
	tree := load(t, map[string]string{"config_general": "patience~INT_BAYESIAN~: [1, 5]\n"})
	_, err := Decode(tree)
	if err == nil || !strings.Contains(err.Error(), "patience") || !strings.Contains(err.Error(), "search range") {
		t.Fatalf("want an error naming the range, got %v", err)
	}
}
