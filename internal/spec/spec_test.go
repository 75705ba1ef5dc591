package spec

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/nn"
	"github.com/bench-ml/bench/internal/trainer"
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

// TestPBCascadedModel: powerful_benchmarker's cascaded model, a top-level
// layers_to_extract with CascadedEmbeddings, decodes to the zoo trunk's
// layers_to_extract, a ListOfModels of the MLP and one embedding size per
// layer; the resolved config keeps that layout and decodes to itself.
func TestPBCascadedModel(t *testing.T) {
	files := map[string]string{
		"config_general":         "trainer: {CascadedEmbeddings: {}}\n",
		"config_models":          "models:\n  trunk: {inception_v3: {pretrained: True}}\n  embedder: {MLP: {layer_sizes: [128]}}\nlayers_to_extract: [Mixed_6e, fc]\n",
		"config_loss_and_miners": "loss_funcs: {metric_loss_0: {ContrastiveLoss: {}}, metric_loss_1: {TripletMarginLoss: {margin: 0.1}}}\n",
		"config_optimizers":      "optimizers: {trunk_optimizer: {Adam: {}}, embedder_optimizer: {SGD: {}}}\n",
	}
	tree := load(t, files)
	s, err := Decode(tree)
	if err != nil {
		t.Fatal(err)
	}
	if z, ok := s.Trunk.Value.(*nn.Zoo); !ok || !slices.Equal(z.Layers, []string{"Mixed_6e", "fc"}) || z.Pretrained != "imagenet" {
		t.Errorf("trunk %+v; want inception_v3 extracting Mixed_6e and fc, imagenet weights", s.Trunk.Value)
	}
	if l, ok := s.Embedder.Value.(*nn.ListOfModels); !ok || !slices.Equal(l.Model.LayerSizes, []int{128}) {
		t.Errorf("embedder %+v; want a ListOfModels of MLP [128]", s.Embedder.Value)
	}
	if c, ok := s.Trainer.Value.(trainer.CascadedEmbeddings); !ok || !slices.Equal(c.EmbeddingSizes, []int{128, 128}) {
		t.Errorf("trainer %+v; want CascadedEmbeddings with embedding_sizes [128, 128]", s.Trainer.Value)
	}
	resolved := map[string]string{}
	for _, c := range config.Categories {
		text, err := tree.YAML(c)
		if err != nil {
			t.Fatal(err)
		}
		resolved[c] = string(text)
	}
	for _, want := range []string{"embedder:\n    MLP:\n      layer_sizes: [128]", "layers_to_extract: [Mixed_6e, fc]\n"} {
		if !strings.Contains(resolved["config_models"], want) {
			t.Errorf("resolved config_models lacks %q:\n%s", want, resolved["config_models"])
		}
	}
	again := load(t, resolved)
	if _, err := Decode(again); err != nil {
		t.Fatalf("the resolved config does not decode: %v", err)
	}
	for _, c := range config.Categories {
		if text, _ := again.YAML(c); string(text) != resolved[c] {
			t.Errorf("%s changed when decoded again:\n%s\nvs\n%s", c, text, resolved[c])
		}
	}

	files["config_general"] = ""
	_, err = Decode(load(t, files))
	if want := "layers_to_extract: is powerful_benchmarker's cascaded model, which needs trainer CascadedEmbeddings (got the default, MetricLossOnly)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v; want %q", err, want)
	}
}
