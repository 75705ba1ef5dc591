package nn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// TestConfigErrors: bad component configs are errors that name the file,
// the key path and what is allowed.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		typ    string
		params map[string]any
		want   []string
	}{
		{"ConvNett", nil, []string{"models.trunk.ConvNett", `unknown trunk "ConvNett"`, `did you mean "ConvNet"`}},
		{"ConvNet", map[string]any{"channels": []any{32, -64}}, []string{"models.trunk.ConvNet.channels", "-64 is out of range: must be >= 1"}},
		{"ConvNet", map[string]any{"channels": []any{}}, []string{"models.trunk.ConvNet.channels", "at least one block"}},
		{"ConvNet", map[string]any{"channels": "wide"}, []string{"models.trunk.ConvNet.channels", "want a list"}},
		{"ConvNet", map[string]any{"kernel_size": 4}, []string{"models.trunk.ConvNet.kernel_size", "even"}},
		{"ConvNet", map[string]any{"pool": "min"}, []string{"models.trunk.ConvNet.pool", `"min" is not allowed; allowed: max, avg`}},
		{"ConvNet", map[string]any{"chanels": []any{8}}, []string{"models.trunk.ConvNet.chanels", "unknown parameter", `did you mean "channels"`}},
		{"ResNet", map[string]any{"blocks": 0}, []string{"models.trunk.ResNet.blocks", "must be >= 1"}},
		{"Identity", map[string]any{"pretrained": "x"}, []string{"models.trunk.Identity.pretrained", "unknown parameter"}},
	} {
		_, _, err := Trunks.Build(config.Component{Type: tc.typ, Params: tc.params, Where: "models.trunk", Source: "configs/config_models/default.yaml"})
		checkError(t, err, append(tc.want, "configs/config_models/default.yaml")...)
	}
	_, _, err := Embedders.Build(config.Component{Type: "MLP", Params: map[string]any{"layer_sizes": []any{128, 0}}, Where: "models.embedder"})
	checkError(t, err, "models.embedder.MLP.layer_sizes", "must be >= 1")
}

// TestModelErrors: problems found when the model meets the data name the
// key too.
func TestModelErrors(t *testing.T) {
	trunk := func(typ string, params map[string]any) Trunk {
		c, _, err := Trunks.Build(config.Component{Type: typ, Params: params, Where: "models.trunk"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		cfg  Config
		want []string
	}{
		{Config{Trunk: trunk("ConvNet", nil), InputShape: []int{1, 4, 4}, BatchSize: 8},
			[]string{"models.trunk.ConvNet.channels", "3 blocks each halve the resolution: too many for 4x4 images (at most 2)"}},
		{Config{Trunk: trunk("ConvNet", nil), InputShape: []int{784}, BatchSize: 8},
			[]string{"models.trunk.ConvNet", "takes images"}},
		{Config{Trunk: trunk("ResNet", nil), InputShape: []int{3, 32}, BatchSize: 8},
			[]string{"models.trunk.ResNet", "takes images"}},
		{Config{Trunk: trunk("ConvNet", map[string]any{"pretrained": "/nonexistent.safetensors"}), InputShape: []int{1, 8, 8}, BatchSize: 8},
			[]string{"models.trunk.ConvNet.pretrained", "/nonexistent.safetensors"}},
		{Config{Trunk: trunk("ResNet", map[string]any{"channels": []any{2}}), InputShape: []int{1, 1, 1}, BatchSize: 1},
			[]string{"trunk.bn1", "a batch of 1 gives 1 value per channel"}},
		{Config{Trunk: trunk("Identity", nil), InputShape: []int{4}, BatchSize: 8, Classifier: &MLP{}},
			[]string{"number of classes"}},
		{Config{Trunk: trunk("Identity", nil), InputShape: []int{4}},
			[]string{"batch size 0"}},
	} {
		_, err := New(tc.cfg)
		checkError(t, err, tc.want...)
	}
}

func checkError(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("no error; want one containing %q", want)
		return
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

// TestDocsListComponents keeps docs/models.md in step with the registries.
func TestDocsListComponents(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "models.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []interface{ Names() []string }{Trunks, Embedders, Classifiers} {
		for _, name := range r.Names() {
			if !strings.Contains(string(doc), "`"+name+"`") {
				t.Errorf("docs/models.md does not mention `%s`", name)
			}
		}
	}
}
