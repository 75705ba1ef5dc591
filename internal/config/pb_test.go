package config

import (
	"reflect"
	"testing"
)

// TestFoldernamesChoosesDefaults: config_foldernames.yaml names the files a
// category merges when no flag does, as in powerful_benchmarker.
func TestFoldernamesChoosesDefaults(t *testing.T) {
	root := writeConfigs(t, map[string]string{
		"config_foldernames":       "config_foldernames: [config_general, config_dataset]\nconfig_general: [default, big]\n",
		"config_general/default":   "patience: 9\nsave_interval: 2\n",
		"config_general/big":       "patience: 14\n",
		"config_general/other":     "patience: 1\n",
		"config_factories/default": "factories: {model: {ModelFactory: {}}}\n",
	})
	tree, err := Load(root, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := flow(tree); got != "{factories: {model: {ModelFactory: {}}}, patience: 14, save_interval: 2}" {
		t.Errorf("got %s", got)
	}
	if c := tree.Category("factories"); c != "config_factories" {
		t.Errorf("factories in %q", c)
	}
	tree, err = Load(root, map[string][]string{"config_general": {"other"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := flow(tree); got != "{factories: {model: {ModelFactory: {}}}, patience: 1}" {
		t.Errorf("a flag wins over config_foldernames: got %s", got)
	}
	bad := writeConfigs(t, map[string]string{"config_foldernames": "config_foldernames: [config_genral]\n"})
	_, err = Load(bad, nil, nil)
	wantErr(t, err, "config_foldernames.yaml:1", `unknown config category "config_genral"`, `did you mean "config_general"`)
}

// TestSingleFileCategory: a file <root>/<category>.yaml replaces the
// category's folder, as powerful_benchmarker's get_root_config_paths does.
func TestSingleFileCategory(t *testing.T) {
	root := writeConfigs(t, map[string]string{
		"config_general/default": "patience: 9\n",
		"config_general":         "patience: 3\n",
	})
	tree, err := Load(root, map[string][]string{"config_general": {"nonexistent"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := flow(tree); got != "{patience: 3}" {
		t.Errorf("got %s", got)
	}
}

// TestSpaceSeparatedNumbers: powerful_benchmarker writes transform
// parameters as strings (`scale: 0.16 1`).
func TestSpaceSeparatedNumbers(t *testing.T) {
	p := NewParams(map[string]any{"scale": "0.16 1", "bad": "0.1 x"}, "t", "f")
	if got := p.Floats("scale", nil); !reflect.DeepEqual(got, []float64{0.16, 1}) {
		t.Errorf("got %v", got)
	}
	p.Floats("bad", nil)
	wantErr(t, p.Err(), "t.bad", `want a list of numbers, got "0.1 x"`)
}
