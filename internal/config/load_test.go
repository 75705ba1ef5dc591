package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeConfigs makes a config folder: files maps "config_general/a" to the
// text of config_general/a.yaml. Categories without files get an empty
// default.yaml.
func writeConfigs(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for _, c := range Categories {
		if err := os.MkdirAll(filepath.Join(root, c), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, c, "default.yaml"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(root, name+".yaml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// loadGeneral merges the given texts as config_general/f0.yaml, f1.yaml, ...
// and then the overrides.
func loadGeneral(t *testing.T, texts []string, overrides ...Override) (*Tree, string, error) {
	t.Helper()
	files := map[string]string{}
	var names []string
	for i, text := range texts {
		name := "f" + string(rune('0'+i))
		files["config_general/"+name] = text
		names = append(names, name)
	}
	root := writeConfigs(t, files)
	tree, err := Load(root, map[string][]string{"config_general": names}, overrides)
	return tree, root, err
}

// flow is the whole tree on one line, in order.
func flow(t *Tree) string { return flowText(t.root) }

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error containing %q, got none", parts)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("want a one-line error, got %q", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func TestLoadMergesCategoriesAndTracksThem(t *testing.T) {
	root := writeConfigs(t, map[string]string{
		"config_general/default":    "trainer: {MetricLossOnly: {batch_size: 32}}\npatience: 9\n",
		"config_general/daml":       "trainer~SWAP~1: {DeepAdversarialMetricLearning: }\n",
		"config_optimizers/default": "optimizers:\n  trunk_optimizer:\n    RMSprop:\n      lr: 0.000001\n",
	})
	tree, err := Load(root, map[string][]string{"config_general": {"default", "daml"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// config_general is merged last.
	want := "{optimizers: {trunk_optimizer: {RMSprop: {lr: 1e-06}}}, trainer: {DeepAdversarialMetricLearning: {batch_size: 32}}, patience: 9}"
	if got := flow(tree); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for key, cat := range map[string]string{"trainer": "config_general", "patience": "config_general", "optimizers": "config_optimizers", "nope": ""} {
		if got := tree.Category(key); got != cat {
			t.Errorf("Category(%q) = %q, want %q", key, got, cat)
		}
	}
	sources := map[string]string{
		"patience": filepath.Join(root, "config_general/default.yaml") + ":2",
		// the swap is what last set the trainer type; its params keep their line
		"trainer.DeepAdversarialMetricLearning":            filepath.Join(root, "config_general/daml.yaml") + ":1",
		"trainer.DeepAdversarialMetricLearning.batch_size": filepath.Join(root, "config_general/default.yaml") + ":1",
		"optimizers.trunk_optimizer.RMSprop.lr":            filepath.Join(root, "config_optimizers/default.yaml") + ":4",
		// a missing key is reported by its longest existing prefix
		"optimizers.trunk_optimizer.RMSprop.momentum": filepath.Join(root, "config_optimizers/default.yaml") + ":3",
		"nope": "",
	}
	for path, want := range sources {
		if got := tree.Source(path); got != want {
			t.Errorf("Source(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		names map[string][]string
		want  []string
	}{
		{"missing file lists the folder", map[string]string{"config_general/daml": ""},
			map[string][]string{"config_general": {"default", "dam"}},
			[]string{filepath.Join("config_general", "dam.yaml"), "no such config", "available", "daml, daml_light, default", `did you mean "daml"`}},
		{"unknown category", nil, map[string][]string{"config_genral": {"default"}},
			[]string{`unknown config category "config_genral"`, `did you mean "config_general"`}},
		// yaml.v3 says line 1 for the first two: its parser errors count lines from 0.
		{"syntax error names file and line", map[string]string{"config_general/default": "a: 1\nb: [1, 2\nc: 3\n"}, nil,
			[]string{filepath.Join("config_general", "default.yaml") + ":2: bad YAML: did not find expected ',' or ']'"}},
		{"syntax error found at the end of the file", map[string]string{"config_general/default": "a: {b: 1\n"}, nil,
			[]string{"default.yaml:2: bad YAML: did not find expected ',' or '}'"}},
		{"scanner error names the line of the open quote", map[string]string{"config_general/default": "a: 1\nb: 'x\n"}, nil,
			[]string{"default.yaml:2: bad YAML: found unexpected end of stream"}},
		{"duplicate key", map[string]string{"config_general/default": "a: 1\nb:\n  x: 1\n  x: 2\n"}, nil,
			[]string{filepath.Join("config_general", "default.yaml") + ":4", `key "x" is defined twice (first at line 3)`}},
		{"tab", map[string]string{"config_general/default": "a:\n\tx: 1\n"}, nil,
			[]string{filepath.Join("config_general", "default.yaml") + ":2", "tab in indentation"}},
		{"merge key", map[string]string{"config_general/default": "base: &b {x: 1}\na:\n  <<: *b\n"}, nil,
			[]string{"default.yaml:3", "merge keys"}},
		{"not a map", map[string]string{"config_general/default": "- 1\n- 2\n"}, nil,
			[]string{"default.yaml:1", "want a map of config keys, got a list"}},
		{"unknown suffix names file, line and key", map[string]string{"config_general/default": "opt:\n  lr~FOO~: 1\n"}, nil,
			[]string{"default.yaml:2", "opt.lr~FOO~", "unknown special suffix ~FOO~"}},
		{"missing space after colon", map[string]string{"config_general/default": "opt: {lr:0.1}\n"}, nil,
			[]string{"default.yaml:1", `"lr:0.1" reads as one key`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(writeConfigs(t, c.files), c.names, nil)
			wantErr(t, err, c.want...)
		})
	}
}

func TestLoadRejectsMissingConfigFolder(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nothere"), nil, nil)
	wantErr(t, err, "nothere: cannot read config folder")
}

// The built-in configs are those of the repository's configs/ folder; a
// folder's file wins over the built-in one of its name and adds new names.
func TestLoadLayersFolderOverBuiltin(t *testing.T) {
	builtin, err := Load("", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := builtin.Source("trainer"); got != BuiltinPrefix+"config_general/default.yaml:2" {
		t.Errorf("Source(trainer) = %q, want the built-in config_general/default.yaml", got)
	}
	folder := t.TempDir()
	for name, text := range map[string]string{"default": "# mine\npatience: 7\n", "extra": "# an extra profile\nseed: 3\n"} {
		if err := os.MkdirAll(filepath.Join(folder, "config_general"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(folder, "config_general", name+".yaml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tree, err := Load(folder, map[string][]string{"config_general": {"default", "extra"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := flowText(tree.root.kids["patience"]), "7"; got != want {
		t.Errorf("patience = %s, want the folder's %s", got, want)
	}
	if tree.root.kids["trainer"] != nil {
		t.Error("the folder's config_general/default.yaml did not replace the built-in one")
	}
	if got := tree.Source("models"); !strings.HasPrefix(got, BuiltinPrefix+"config_models/default.yaml") {
		t.Errorf("Source(models) = %q, want the built-in config_models/default.yaml (the folder has none)", got)
	}
	list, err := List(folder, "config_general")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]ConfigInfo{}
	for _, c := range list {
		got[c.Name] = c
	}
	for name, want := range map[string]ConfigInfo{
		"default": {"default", "mine", filepath.Join(folder, "config_general", "default.yaml")},
		"extra":   {"extra", "an extra profile", filepath.Join(folder, "config_general", "extra.yaml")},
		"smoke":   {"smoke", "A tiny end-to-end run (what CI runs): few iterations, 2 folds, small images.", BuiltinPrefix + "config_general/smoke.yaml"},
	} {
		if got[name] != want {
			t.Errorf("List: %q = %+v, want %+v", name, got[name], want)
		}
	}
	_, err = Load(folder, map[string][]string{"config_general": {"smok"}}, nil)
	wantErr(t, err, "no such config", "extra", "smoke", `did you mean "smoke"`)
}

func TestOverridesComeAfterFilesInOrder(t *testing.T) {
	files := []string{
		"patience: 9\noptimizers: {trunk_optimizer: {RMSprop: {lr: 0.1}}}\nmodels: {trunk: {A: {x: 1}}}\n",
		"patience: 8\n",
	}
	cases := []struct {
		name       string
		overrides  []Override
		want       string
		sourcePath string
	}{
		{"flag beats files", []Override{{Key: "patience", Value: "5", Source: "--patience"}},
			"{patience: 5, optimizers: {trunk_optimizer: {RMSprop: {lr: 0.1}}}, models: {trunk: {A: {x: 1}}}}", "patience"},
		{"later flag wins", []Override{{Key: "patience", Value: "5", Source: "--patience"}, {Key: "patience", Value: "6", Source: "--patience"}},
			"{patience: 6, optimizers: {trunk_optimizer: {RMSprop: {lr: 0.1}}}, models: {trunk: {A: {x: 1}}}}", "patience"},
		{"flow map merges", []Override{{Key: "optimizers", Value: "{trunk_optimizer: {RMSprop: {alpha: 0.9}}, embedder_optimizer: {Adam: {lr: 0.01}}}", Source: "--optimizers"}},
			"{patience: 8, optimizers: {trunk_optimizer: {RMSprop: {lr: 0.1, alpha: 0.9}}, embedder_optimizer: {Adam: {lr: 0.01}}}, models: {trunk: {A: {x: 1}}}}", "optimizers.trunk_optimizer.RMSprop.alpha"},
		{"override suffix on the flag", []Override{{Key: "models~OVERRIDE~", Value: "{trunk: {B: {}}}", Source: "--models~OVERRIDE~"}},
			"{patience: 8, optimizers: {trunk_optimizer: {RMSprop: {lr: 0.1}}}, models: {trunk: {B: {}}}}", "models.trunk.B"},
		{"dotted path", []Override{{Key: "optimizers.trunk_optimizer.RMSprop.lr", Value: "1e-5", Source: "--set optimizers.trunk_optimizer.RMSprop.lr"}},
			"{patience: 8, optimizers: {trunk_optimizer: {RMSprop: {lr: 1e-05}}}, models: {trunk: {A: {x: 1}}}}", "optimizers.trunk_optimizer.RMSprop.lr"},
		{"dotted path with a suffix", []Override{{Key: "models.trunk~OVERRIDE~", Value: "{C: null}", Source: "--set models.trunk~OVERRIDE~"}},
			"{patience: 8, optimizers: {trunk_optimizer: {RMSprop: {lr: 0.1}}}, models: {trunk: {C: null}}}", "models.trunk"},
		{"apply from the command line", []Override{{Key: "optimizers~APPLY~3", Value: "{lr: 0.5}", Source: "--optimizers~APPLY~3"}},
			"{patience: 8, optimizers: {trunk_optimizer: {RMSprop: {lr: 0.5}}}, models: {trunk: {A: {x: 1}}}}", "optimizers.trunk_optimizer.RMSprop.lr"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tree, _, err := loadGeneral(t, files, c.overrides...)
			if err != nil {
				t.Fatal(err)
			}
			if got := flow(tree); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
			// the last flag is what set the value at sourcePath
			last := c.overrides[len(c.overrides)-1]
			if got := tree.Source(c.sourcePath); got != last.Source {
				t.Errorf("Source(%q) = %q, want %q", c.sourcePath, got, last.Source)
			}
		})
	}
}

func TestOverrideErrors(t *testing.T) {
	files := []string{"patience: 9\noptimizers: {trunk_optimizer: {RMSprop: {lr: 0.1}}}\n"}
	cases := []struct {
		name string
		o    Override
		want []string
	}{
		{"unknown top-level key", Override{Key: "patiense", Value: "5", Source: "--patiense"},
			[]string{"--patiense", "no such config key", `did you mean "patience"`}},
		{"unknown top-level key in a path", Override{Key: "optimisers.x", Value: "5", Source: "--set optimisers.x"},
			[]string{"--set optimisers.x", `did you mean "optimizers"`}},
		{"bad suffix", Override{Key: "optimizers", Value: "{trunk_optimizer~OVERIDE~: {}}", Source: "--optimizers"},
			[]string{"--optimizers", "optimizers.trunk_optimizer~OVERIDE~", `did you mean "OVERRIDE"`}},
		{"bad yaml", Override{Key: "optimizers", Value: "{a: [1}", Source: "--optimizers"},
			[]string{"--optimizers", "bad YAML"}},
		{"empty path segment", Override{Key: "optimizers..lr", Value: "1", Source: "--set optimizers..lr"},
			[]string{"--set optimizers..lr", "bad key path"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := loadGeneral(t, files, c.o)
			wantErr(t, err, c.want...)
		})
	}
}

// A general profile (smoke) may change keys of other categories; it is
// merged last so that it wins, and the key stays in its own category.
func TestGeneralProfileOverridesOtherCategories(t *testing.T) {
	root := writeConfigs(t, map[string]string{
		"config_general/default": "patience: 9\n",
		"config_general/smoke":   "models: {trunk: {ConvNet: {channels: [8]}}}\n",
		"config_models/default":  "models: {trunk: {ConvNet: {channels: [32, 64]}}}\n",
	})
	tree, err := Load(root, map[string][]string{"config_general": {"default", "smoke"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := flow(tree); got != "{models: {trunk: {ConvNet: {channels: [8]}}}, patience: 9}" {
		t.Errorf("got %s", got)
	}
	if got := tree.Category("models"); got != "config_models" {
		t.Errorf("Category(models) = %q, want config_models", got)
	}
}
