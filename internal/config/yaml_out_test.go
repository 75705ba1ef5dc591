package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestYAMLKeepsOrderAndTypes(t *testing.T) {
	root := writeConfigs(t, map[string]string{
		"config_general/default": "trainer:\n  MetricLossOnly: \n    batch_size: 32\n    loss_weights: null\npatience: 9\n",
		"config_transforms/default": "transforms:\n  train:\n    Resize: {size: 256}\n    RandomResizedCrop: {scale: [0.16, 1], size: 227}\n" +
			"    Normalize: {mean: [0.485, 0.456, 0.406]}\n  eval: {}\n",
		"config_optimizers/default": "optimizers:\n  trunk_optimizer:\n    RMSprop: {lr~LOG_BAYESIAN~: [0.000001, 0.01], alpha: 1.0, name: 'true'}\n",
	})
	tree, err := Load(root, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"config_general": "trainer:\n  MetricLossOnly:\n    batch_size: 32\n    loss_weights: null\npatience: 9\n",
		"config_transforms": "transforms:\n  train:\n    Resize:\n      size: 256\n    RandomResizedCrop:\n      scale: [0.16, 1]\n      size: 227\n" +
			"    Normalize:\n      mean: [0.485, 0.456, 0.406]\n  eval: {}\n",
		"config_optimizers": "optimizers:\n  trunk_optimizer:\n    RMSprop:\n      lr~LOG_BAYESIAN~: [1e-06, 0.01]\n      alpha: 1.0\n      name: \"true\"\n",
		"config_models":     "{}\n",
	}
	for c, w := range want {
		got, err := tree.YAML(c)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != w {
			t.Errorf("%s:\ngot\n%s\nwant\n%s", c, got, w)
		}
	}
	all, err := tree.YAMLAll()
	if err != nil {
		t.Fatal(err)
	}
	wantAll := "# config_general\n" + want["config_general"] + "# config_transforms\n" + want["config_transforms"] + "# config_optimizers\n" + want["config_optimizers"]
	if string(all) != wantAll {
		t.Errorf("YAMLAll:\ngot\n%s\nwant\n%s", all, wantAll)
	}
	if _, err := tree.YAML("config_x"); err == nil {
		t.Error("YAML of an unknown category did not fail")
	}
}

// Saving every category and loading it back gives the same tree, and
// overrides on the saved configs show up in Diff.
func TestSaveAndLoadSaved(t *testing.T) {
	tree, _, err := loadGeneral(t, []string{
		"a: {z: 1, b: [1, 2.5, x], c: {}, d: null, e: 1.0, f: -3, s: '007'}\nm~INT_BAYESIAN~: [2, 8]\nl: [{k: 1}, [1, 2]]\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	must(t, tree.SetTop("config_models", "models", map[string]any{"trunk": map[string]any{"Identity": nil}}, "defaults"))
	dir := t.TempDir()
	for _, c := range Categories {
		b, err := tree.YAML(c)
		if err != nil {
			t.Fatal(err)
		}
		must(t, os.WriteFile(filepath.Join(dir, c+".yaml"), b, 0o644))
	}
	saved, err := LoadSaved(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(tree, saved); len(d) != 0 {
		t.Errorf("saved tree differs: %v", d)
	}
	if a, b := flow(tree), flow(saved); a != b {
		t.Errorf("saved tree prints differently:\n%s\n%s", a, b)
	}
	if saved.Category("models") != "config_models" || saved.Category("a") != "config_general" {
		t.Errorf("categories lost: %q %q", saved.Category("models"), saved.Category("a"))
	}
	changed, err := LoadSaved(dir, []Override{{Key: "a.z", Value: "2", Source: "--set a.z"}})
	if err != nil {
		t.Fatal(err)
	}
	d := Diff(saved, changed)
	if len(d) != 1 || d[0].String() != "a.z: 1 -> 2" {
		t.Errorf("Diff = %v", d)
	}

	must(t, os.Remove(filepath.Join(dir, "config_eval.yaml")))
	_, err = LoadSaved(dir, nil)
	wantErr(t, err, "config_eval.yaml", "cannot read the saved config")
}
